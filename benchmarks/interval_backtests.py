"""Prediction intervals on data their recipe never looked at: coverage and MSIS of the default
Forecaster's 80 % and 95 % intervals in rolling-origin backtests, next to statistical baselines' own.

The interval recipe (``tsrnn/intervals.py``, ``docs/intervals.md``) was chosen on fits to the whole M4
dev training histories and scored on the M4 test values (``benchmarks/m4.py``). These cases are other
data, or other cuts of it:

* ``macrodata``: statsmodels' US macroeconomic data, 12 quarterly series, 4 windows of 8 quarters
  (2001Q4-2009Q3: the 2008 recession is in the last windows);
* ``demo``: the 40 quarterly M4 series of ``make demo`` (``data/m4-quarterly-40.csv``), 3 windows of 8;
* ``air-passengers``: one monthly series of 144 points, 3 windows of 12 months;
* ``bikesharing``: one hourly series (Capital Bikeshare rentals, 17,520 hours), fitted once, 14 windows
  of 24 hours (``refit=False``), no covariates;
* ``m4-<frequency>``: the M4 dev *training* histories (the test values untouched), 2 windows of the M4
  horizon before their end (Hourly: 1).

The Forecaster is the default one (``horizon=h, season_length=m``), seeds 0, 1, 2; a baseline row per
case where it runs in reasonable time (statsmodels ETS and ARIMA, their own forecast distributions;
on the hourly series the seasonal naive method with normal intervals). Coverage is the share of test
values inside the interval; MSIS is M4's mean scaled interval score (``tsrnn/metrics.py``).

Usage: python benchmarks/interval_backtests.py [--cases macrodata,demo] [--markdown benchmarks/results/interval-backtests.md]
"""
from __future__ import annotations

import sys
import time
import warnings

import backtest_data as real

SEEDS = (0, 1, 2)
LEVELS = (80, 95)
COLUMNS = [f"{kind}_{lv}" for lv in LEVELS for kind in ("coverage", "msis")]


def cases() -> dict:
    """name -> (loader, horizon, season length, windows, refit, baselines)"""
    out = {"macrodata": (real.macrodata, 8, 4, 4, True, ("ets", "arima")),
           "demo": (real.demo, 8, 4, 3, True, ("ets", "arima")),
           "air-passengers": (real.air_passengers, 12, 12, 3, True, ("ets", "arima")),
           "bikesharing": (real.bikesharing, 24, 24, 14, False, ("snaive",))}
    for freq, h, m, windows, baselines in (("Yearly", 6, 1, 2, ("ets",)), ("Quarterly", 8, 4, 2, ("ets",)),
                                           ("Monthly", 18, 12, 2, ()), ("Weekly", 13, 1, 2, ("ets",)),
                                           ("Hourly", 48, 24, 1, ())):
        out[f"m4-{freq}"] = ((lambda f=freq: real.m4_train(f)), h, m, windows, True, baselines)
    return out


def main(argv=None) -> int:
    import tsrnn

    every = cases()
    args = real.arguments(__doc__, every, argv)
    head = ("| case | series | windows x horizon | model | " + " | ".join(
        f"{'coverage' if c.startswith('cov') else 'MSIS'} {c.split('_')[1]} %" for c in COLUMNS) + " |")
    rows = [head, "|---|---|---|---|" + "---|" * len(COLUMNS)]
    start = time.perf_counter()
    for name in args.cases.split(","):
        load, h, m, windows, refit, baselines = every[name]
        data = load()
        runs = [("lstm", seed) for seed in SEEDS] + [(b, None) for b in baselines]
        for model, seed in runs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = tsrnn.backtest([model], data, horizon=h, n_windows=windows, season_length=m, refit=refit,
                                        progress=False, level=list(LEVELS), **({} if seed is None else
                                                                                {"random_state": seed}))
            row = result.metrics.set_index("model").loc[model]
            label = f"tsrnn, seed {seed}" if seed is not None else model
            cells = [f"{row[c]:.3f}" for c in COLUMNS]
            rows.append(f"| {name} | {data['unique_id'].nunique()} | {windows} x {h} | {label} | "
                        + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.markdown:
        real.write_table(args.markdown, "Prediction intervals on other data", "interval_backtests.py",
                         "Rolling-origin backtests of the default Forecaster's 80 % and 95 % intervals (coverage: "
                         "share of test values inside, the target being the level; MSIS: lower is better), with "
                         "statistical baselines' own intervals on the same windows. See the script's docstring for "
                         "the cases.", table, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
