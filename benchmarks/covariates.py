"""Covariates on real data: a day-ahead backtest of hourly bike-sharing demand with weather and calendar
features (``data/bikesharing.csv``: Capital Bikeshare rentals with NOAA daily weather, 2017-09 -> 2019-08).

Contenders, all on identical windows, measured in the same run:

* ``tsrnn``: the default ``Forecaster(horizon=24, season_length=24)``, no covariates;
* ``tsrnn+cov``: the same with ``future_covariates=["tmin", "tmax", "pn"], calendar=True`` (the direct
  head: the horizon's covariates are projected into the head), and ``tsrnn+cov seq2seq`` (the decoder
  reads them step by step);
* ``arimax``: tsrnn's ARIMAX (AutoARIMA with the same regressors: the weather columns and the same
  calendar features), on the last ``--arimax-history`` points of each cutoff's history;
* ``snaive``: the seasonal naive forecast (yesterday's same hour); ``snaive-week`` (last week's);
* ``nf-lstm`` and ``nf-lstm+cov``: NeuralForecast 3.3's ``LSTM(h=24, input_size=72)``, its defaults
  otherwise, without and with ``futr_exog_list`` = the weather columns plus the same calendar features
  as columns (``--peer-python``: a separate environment, ``make bench-covariates``).

Windows: the last ``--windows`` days, one 24-hour forecast per day (cutoff at midnight). Each model is
fitted once, on the history before the first cutoff, and forecasts every later window from the longer
history without retraining (``backtest(..., refit=False)``); ARIMAX and the seasonal naive are local
models and are fitted at every cutoff. The future covariates of a test window are taken from the data
("future values known in advance", the peers' convention): the weather columns are the day's observed
minimum/maximum temperature and precipitation, so this is the forecast a perfect weather forecast gives.

Scores: MAE over all windows and hours, and MASE (MAE over the in-sample MAE of the seasonal naive
forecast, m = 24, on each cutoff's history), averaged over windows; neural models over ``--seeds``
seeds (mean, and the range). Fit time is the one fit of each model.

Usage:
    python benchmarks/covariates.py [--windows 28] [--seeds 0,1,2] [--peer-python .venv-peers/bin/python]
                                    [--markdown benchmarks/results/covariates.md]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bikesharing.csv"
H, M = 24, 24
WEATHER = ["tmin", "tmax", "pn"]


def load() -> pd.DataFrame:
    return pd.read_csv(DATA, parse_dates=["ds"])


def cutoffs(df: pd.DataFrame, windows: int) -> list[int]:
    """Row index of each window's first forecast point: midnights of the last ``windows`` days."""
    n = len(df)
    return [n - H * (windows - w) for w in range(windows)]


def calendar_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The calendar features tsrnn derives for hourly data, as columns (what the peer is given)."""
    from tsrnn.data import calendar_features, default_calendar, to_panel

    names = default_calendar(to_panel(df[["unique_id", "ds", "y"]]))
    values = calendar_features(pd.DatetimeIndex(df.ds), names)
    return pd.DataFrame(values, columns=[f"cal{j}" for j in range(values.shape[1])], index=df.index)


# ------------------------------------------------------------------------------------------------------
def run_tsrnn(df: pd.DataFrame, starts: list[int], seeds: list[int], arimax_history: int) -> dict:
    from tsrnn import Forecaster
    from tsrnn.baselines import ARIMAX, SeasonalNaive

    out = {}
    configs = {
        "tsrnn": {},
        "tsrnn+cov": dict(future_covariates=WEATHER, calendar=True),
        "tsrnn+cov seq2seq": dict(future_covariates=WEATHER, calendar=True, head="seq2seq"),
    }
    for name, kw in configs.items():
        cols = ["unique_id", "ds", "y", *kw.get("future_covariates", [])]
        runs = []
        for seed in seeds:
            t0 = time.perf_counter()
            model = Forecaster(horizon=H, season_length=M, random_state=seed, progress=False, **kw)
            model.fit(df.iloc[:starts[0]][cols])
            fit = time.perf_counter() - t0
            fc = [model.predict(H, y=df.iloc[:c][cols], **({"future": df.iloc[c:c + H]} if kw else {})).yhat.to_numpy()
                  for c in starts]
            runs.append({"forecasts": np.stack(fc).tolist(), "fit_s": fit,
                         "epochs": int(sum(len(h["train"]) for h in model.loss_history_))})
            print(f"  {name} seed {seed}: fit {fit:.1f} s, {runs[-1]['epochs']} epochs", flush=True)
        out[name] = runs
    local = {"arimax": lambda: ARIMAX(future_covariates=WEATHER, calendar=True, season_length=M,
                                      max_history=arimax_history),
             "snaive": lambda: SeasonalNaive(season_length=M), "snaive-week": lambda: SeasonalNaive(season_length=7 * M)}
    for name, make in local.items():
        t0 = time.perf_counter()
        fc = []
        for c in starts:
            cols = ["unique_id", "ds", "y", *(WEATHER if name == "arimax" else [])]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                model = make().fit(df.iloc[:c][cols])
                pred = model.predict(H, future=df.iloc[c:c + H]) if name == "arimax" else model.predict(H)
            fc.append(pred.yhat.to_numpy() if hasattr(pred, "yhat") else pred.to_numpy())
        out[name] = [{"forecasts": np.stack(fc).tolist(), "fit_s": (time.perf_counter() - t0) / len(starts)}]
        print(f"  {name}: {out[name][0]['fit_s']:.2f} s per window", flush=True)
    return out


def nf_worker(path: str, starts: list[int], seeds: list[int]) -> dict:
    """Runs in the peers' environment: NeuralForecast's LSTM without and with the future covariates."""
    import logging

    logging.disable(logging.WARNING)
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    df = pd.read_csv(path, parse_dates=["ds"])
    futr = [c for c in df.columns if c not in ("unique_id", "ds", "y")]
    out = {}
    for name, exog in (("nf-lstm", []), ("nf-lstm+cov", futr)):
        runs = []
        for seed in seeds:
            model = LSTM(h=H, input_size=3 * H, futr_exog_list=exog or None, random_seed=seed,
                         enable_progress_bar=False, enable_model_summary=False, logger=False)
            nf = NeuralForecast(models=[model], freq="h")
            cols = ["unique_id", "ds", "y", *exog]
            t0 = time.perf_counter()
            nf.fit(df.iloc[:starts[0]][cols])
            fit = time.perf_counter() - t0
            fc = []
            for c in starts:
                kw = {"futr_df": df.iloc[c:c + H][["unique_id", "ds", *exog]]} if exog else {}
                fc.append(nf.predict(df=df.iloc[:c][cols], **kw)["LSTM"].to_numpy())
            runs.append({"forecasts": np.stack(fc).tolist(), "fit_s": fit})
            print(f"  {name} seed {seed}: fit {fit:.1f} s", file=sys.stderr, flush=True)
        out[name] = runs
    return out


# ------------------------------------------------------------------------------------------------------
def score(df: pd.DataFrame, starts: list[int], runs: list[dict]) -> dict:
    """MAE and MASE (mean over windows) per run, then mean and range over the runs."""
    y = df.y.to_numpy(np.float64)
    actual = np.stack([y[c:c + H] for c in starts])
    scales = np.array([np.abs(y[M:c] - y[:c - M]).mean() for c in starts])
    maes, mases = [], []
    for run in runs:
        err = np.abs(np.asarray(run["forecasts"]) - actual).mean(axis=1)
        maes.append(err.mean())
        mases.append((err / scales).mean())
    return {"mae": float(np.mean(maes)), "mae_range": [float(min(maes)), float(max(maes))],
            "mase": float(np.mean(mases)), "mase_range": [float(min(mases)), float(max(mases))],
            "fit_s": float(np.mean([r["fit_s"] for r in runs])), "runs": len(runs),
            "epochs": float(np.mean([r["epochs"] for r in runs])) if "epochs" in runs[0] else None}


def markdown(table: dict, args, command: str, starts: list[int], df: pd.DataFrame) -> str:
    first, last = df.ds.iloc[starts[0]], df.ds.iloc[starts[-1] + H - 1]
    lines = [
        "# Covariates on real data: hourly bike-sharing demand, day-ahead", "",
        f"`{command}`", "",
        f"Data: `data/bikesharing.csv` (Capital Bikeshare hourly rentals with NOAA daily weather, {len(df):,} hours). "
        f"{args.windows} windows of 24 hours, {first:%Y-%m-%d} to {last:%Y-%m-%d}; neural models fitted once on "
        f"the history before the first window (refit=False), over seeds {args.seeds}. Covariates: `tmin, tmax, pn` "
        "(future values known in advance, taken from the data) and tsrnn's hourly calendar features (hour, day of "
        "week, day of year as sin/cos), the same for every model that takes covariates.", "",
        "| model | covariates | MAE | MAE range | MASE | MASE range | MAE / nf-lstm+cov | fit (s) |",
        "|---|---|---|---|---|---|---|---|"]
    peer = table.get("nf-lstm+cov")
    for name, s in sorted(table.items(), key=lambda kv: kv[1]["mae"]):
        cov = "weather + calendar" if ("cov" in name or name == "arimax") else "none"
        rng = lambda key: f"{s[key][0]:.1f}-{s[key][1]:.1f}" if key == "mae_range" else f"{s[key][0]:.3f}-{s[key][1]:.3f}"
        ratio = f"{s['mae'] / peer['mae']:.2f}" if peer else "-"
        lines.append(f"| {name} | {cov} | {s['mae']:.1f} | {rng('mae_range') if s['runs'] > 1 else '-'} | {s['mase']:.3f} | "
                     f"{rng('mase_range') if s['runs'] > 1 else '-'} | {ratio} | {s['fit_s']:.1f} |")
    uni, cov = table["tsrnn"], table["tsrnn+cov"]
    if uni.get("epochs") and cov.get("epochs"):
        per_epoch = (cov["fit_s"] / cov["epochs"]) / (uni["fit_s"] / uni["epochs"])
        lines += ["", f"Fit time with covariates / without: {cov['fit_s'] / uni['fit_s']:.2f}x in total "
                      f"(early stopping ends them after different numbers of epochs: {cov['epochs']:.0f} vs "
                      f"{uni['epochs']:.0f} over the ensemble), {per_epoch:.2f}x per epoch."]
    lines += ["", "ARIMAX and the seasonal naive forecasts are refitted at every cutoff; their fit column is the "
              f"time per window. ARIMAX reads the last {args.arimax_history} hours of each history."]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=28)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--arimax-history", type=int, default=8 * 7 * 24)
    p.add_argument("--peer-python", help="python of an environment with neuralforecast==3.3.0")
    p.add_argument("--markdown", help="write the table here")
    p.add_argument("--json", help="write the raw numbers here")
    p.add_argument("--nf-worker", nargs=2, metavar=("CSV", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.nf_worker:
        df = pd.read_csv(args.nf_worker[0], parse_dates=["ds"])
        Path(args.nf_worker[1]).write_text(json.dumps(nf_worker(args.nf_worker[0], cutoffs(df, args.windows), seeds)))
        return
    df = load()
    starts = cutoffs(df, args.windows)
    print("tsrnn and the baselines:", flush=True)
    runs = run_tsrnn(df, starts, seeds, args.arimax_history)
    if args.peer_python:
        print("NeuralForecast:", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            frame = pd.concat([df, calendar_columns(df)], axis=1)
            frame.to_csv(Path(tmp) / "data.csv", index=False)
            subprocess.run([args.peer_python, __file__, "--nf-worker", str(Path(tmp) / "data.csv"), str(Path(tmp) / "nf.json"),
                            "--windows", str(args.windows), "--seeds", args.seeds], check=True)
            runs.update(json.loads((Path(tmp) / "nf.json").read_text()))
    table = {name: score(df, starts, r) for name, r in runs.items()}
    command = "python benchmarks/covariates.py " + " ".join(sys.argv[1:])
    text = markdown(table, args, command, starts, df)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
