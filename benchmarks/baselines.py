"""Overhead of tsrnn's statsmodels baselines: the same statsmodels calls through tsrnn's API
(``Model(...).fit(long_frame).predict(h)``: validation, per-series loop, fallback bookkeeping, output
frame) against a plain loop that makes those calls directly on NumPy arrays. Interleaved per model,
median of repeats; overhead = tsrnn / direct - 1 (target <= 5 %).

Usage: python benchmarks/baselines.py [--data data/m4] [--freqs Yearly,Quarterly] [--repeats 3]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FREQS = {"Yearly": (6, 1), "Quarterly": (8, 4), "Monthly": (18, 12), "Weekly": (13, 1), "Hourly": (48, 24)}


def direct_arima(y, h, m):
    from statsmodels.tsa.arima.model import ARIMA

    return ARIMA(y, order=(1, 1, 1), trend="n").fit(cov_type="none").forecast(h)


def direct_theta(y, h, m):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    return ThetaModel(y, period=m, deseasonalize=m > 1 and len(y) >= 2 * m and bool((y > 0).all())).fit().forecast(h)


def direct_ets(y, h, m):
    """The same candidate forms and AICc choice as tsrnn.baselines.ETS, written out directly."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    positive = bool((y > 0).all())
    errors = ("add", "mul") if positive else ("add",)
    trends = ((None, False), ("add", False), ("add", True)) if len(y) >= 10 else ((None, False),)
    seasonals = [None] + (["mul" if positive else "add"] if m > 1 and len(y) >= 2 * m + 2 else [])
    best, best_res = np.inf, None
    for error, (trend, damped), seasonal in itertools.product(errors, trends, seasonals):
        try:
            res = ETSModel(y, error=error, trend=trend, damped_trend=damped, seasonal=seasonal,
                           seasonal_periods=m if seasonal else None).fit(disp=False)
        except Exception:  # noqa: BLE001
            continue
        if np.isfinite(res.aicc) and res.aicc < best:
            best, best_res = res.aicc, res
    return best_res.forecast(h)


def ours(name, m):
    from tsrnn.baselines import ARIMA, ETS, Theta

    return {"arima": lambda: ARIMA(order=(1, 1, 1), season_length=m), "ets": lambda: ETS(season_length=m),
            "theta": lambda: Theta(season_length=m)}[name]()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parent.parent / "data" / "m4"))
    ap.add_argument("--freqs", default="Yearly,Quarterly,Monthly")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--markdown")
    args = ap.parse_args(argv)
    import statsmodels.tools.sm_exceptions  # noqa: F401  (its warning filters, before ours)

    warnings.simplefilter("ignore")
    direct = {"arima": direct_arima, "ets": direct_ets, "theta": direct_theta}
    rows = []
    for freq in args.freqs.split(","):
        h, m = FREQS[freq]
        train = pd.read_csv(Path(args.data) / f"train-{freq}.csv")
        arrays = [g.to_numpy(np.float64) for _, g in train.sort_values(["unique_id", "ds"]).groupby("unique_id")["y"]]
        for name in direct:
            t_ours, t_direct = [], []
            for r in range(args.repeats):
                for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                    t = time.perf_counter()
                    if which == 0:
                        ours(name, m).fit(train).predict(h)
                        t_ours.append(time.perf_counter() - t)
                    else:
                        for y in arrays:
                            direct[name](y, h, m)
                        t_direct.append(time.perf_counter() - t)
            a, b = statistics.median(t_ours), statistics.median(t_direct)
            rows.append((freq, name, len(arrays), 1e3 * a / len(arrays), 1e3 * b / len(arrays), a / b - 1))
            print(f"{freq} {name}: tsrnn {1e3 * a / len(arrays):.1f} ms/series, direct {1e3 * b / len(arrays):.1f} "
                  f"ms/series, overhead {100 * (a / b - 1):+.1f} %", flush=True)
    lines = ["| frequency | model | series | tsrnn ms/series | statsmodels directly ms/series | overhead |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {f} | {n} | {k} | {a:.1f} | {b:.1f} | {100 * o:+.1f} % |" for f, n, k, a, b, o in rows]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(f"command: python benchmarks/baselines.py {' '.join(argv or sys.argv[1:])}\n\n"
                                       + text + "\n")


if __name__ == "__main__":
    main()
