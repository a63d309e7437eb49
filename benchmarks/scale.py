"""Scale: wall time and peak extra memory of fit + predict on many series, against NeuralForecast's LSTM
and statsforecast's AutoETS on the same frames, measured in the same run.

Cases (synthetic frames, made the same way for every contender, seeded):

* ``monthly-1k``, ``monthly-10k``, ``monthly-100k``: M4-monthly-like series, lengths uniform in 60..300,
  a level, a trend, a yearly season and noise; the default ``Forecaster(horizon=18, season_length=12)``;
* ``m5``: the M5 shape, 30,490 daily series x 1,941 days of weekly-seasonal counts (many zeros);
  ``Forecaster(horizon=28, season_length=7)``.

Every (contender, case) runs in a fresh process: the frame is built, the RSS taken, then fit + predict
run while a thread samples the RSS (of the process and its children: statsforecast's workers are
processes) every 5 ms. "Extra memory" is the peak RSS minus the RSS before fit,
in bytes per observation; a bare long frame costs 24 bytes a row (id code, time stamp, float64 value),
and the target is at most twice that. The numba cache is warmed first in a process of its own (a user
compiles once per install); the cold compile is reported on its own line.

Covariates (``tsrnn_cov3``, on ``monthly-100k`` and ``m5``): the same frames with three future covariates
(a per-series price random walk, a boolean promotion flag, a temperature-like seasonal column),
``Forecaster(..., future_covariates=["price", "promo", "temp"])``, forecasting with the future frame of
their next ``h`` values. Its extra memory counts the covariate channels; the frame's own columns are the
caller's.

Peers: NeuralForecast 3.3 ``LSTM(h, input_size=2h, max_steps=500)`` and statsforecast ``AutoETS`` (on
``monthly-10k`` only: it takes minutes), both benchmark-only dependencies, run with ``--peer-python``
(``make bench-scale`` makes a separate environment for them, so they never touch tsrnn's).

Usage:
    python benchmarks/scale.py [--cases monthly-1k,monthly-10k,monthly-100k,m5] [--peer-python PATH]
                               [--peers nf,sf_ets] [--markdown benchmarks/results/scale.md]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CASES = {  # name: (series, horizon, season length, freq)
    "monthly-1k": (1_000, 18, 12, "MS"),
    "monthly-10k": (10_000, 18, 12, "MS"),
    "monthly-100k": (100_000, 18, 12, "MS"),
    "m5": (30_490, 28, 7, "D"),
}
PEER_CASES = {"nf": tuple(CASES), "sf_ets": ("monthly-10k",)}
COVARIATE_CASES = ("monthly-100k", "m5")
COVARIATES = ["price", "promo", "temp"]


def make_frame(case: str, covariates: bool = False):
    """The case's long frame (unique_id, ds, y), sorted by series and time, built with array operations.
    ``covariates``: (history with the three future covariates, the frame of their next h values)."""
    import pandas as pd

    n_series, h, _, freq = CASES[case]
    rng = np.random.default_rng(12345)
    if case == "m5":
        lengths = np.full(n_series, 1941)
    else:
        lengths = rng.integers(60, 301, size=n_series)
    if covariates:
        lengths = lengths + h
    total = int(lengths.sum())
    series = np.repeat(np.arange(n_series), lengths)
    t = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if case == "m5":
        rate = rng.gamma(0.6, 2.0, size=n_series)[series]
        week = 1 + 0.3 * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi, n_series)[series])
        y = rng.poisson(rate * week).astype(np.float64)
        start = np.datetime64("2011-01-29")
        ds = start + t.astype("timedelta64[D]")
    else:
        level = rng.uniform(500, 10_000, n_series)[series]
        trend = rng.normal(0.002, 0.004, n_series)[series]
        amp = rng.uniform(0.0, 0.25, n_series)[series]
        phase = rng.uniform(0, 2 * np.pi, n_series)[series]
        noise = rng.normal(0, 1, total) * rng.uniform(0.01, 0.08, n_series)[series]
        y = level * np.exp(trend * t) * (1 + amp * np.sin(2 * np.pi * t / 12 + phase)) * (1 + noise)
        end = np.datetime64("2020-12", "M") - rng.integers(0, 60, n_series).astype("timedelta64[M]")
        start_month = end - (lengths - 1).astype("timedelta64[M]")
        ds = (start_month[series] + t.astype("timedelta64[M]")).astype("datetime64[ns]")
    ids = np.array([f"S{i:06d}" for i in range(n_series)], dtype=object)[series]
    frame = pd.DataFrame({"unique_id": ids, "ds": pd.DatetimeIndex(ds).as_unit("ns"), "y": y})
    if not covariates:
        return frame
    cov = np.random.default_rng(54321)
    walk = cov.normal(0, 0.02, total)
    walk = np.cumsum(walk) - np.repeat(np.cumsum(walk)[np.cumsum(lengths) - lengths], lengths)
    frame["price"] = cov.uniform(1, 50, n_series)[series] * np.exp(walk)
    frame["promo"] = cov.random(total) < 0.1
    frame["temp"] = 15 + 10 * np.sin(2 * np.pi * t / (365.25 if case == "m5" else 12)) + cov.normal(0, 2, total)
    future = t >= np.repeat(lengths - h, lengths)
    return (frame[~future].reset_index(drop=True),
            frame.loc[future, ["unique_id", "ds", *COVARIATES]].reset_index(drop=True))


# ------------------------------------------------------------------------------------------------------
# one contender on one case, in this process
def _rss(pid: int | str = "self") -> int:
    """Resident memory of this process and all its descendants (statsforecast's n_jobs workers are
    processes), in bytes."""
    total = 0
    try:
        with open(f"/proc/{pid}/statm") as f:
            total = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    total += _rss(child)
    except OSError:                          # a process that ended while we looked
        pass
    return total


class _PeakRSS:
    def __init__(self):
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def run_tsrnn(df, h, m, future=None):
    from tsrnn import Forecaster

    extra = {} if future is None else {"future_covariates": COVARIATES}
    model = Forecaster(horizon=h, season_length=m, random_state=0, progress=False, **extra)
    t0 = time.perf_counter()
    model.fit(df)
    t1 = time.perf_counter()
    out = model.predict(h) if future is None else model.predict(h, future=future)
    t2 = time.perf_counter()
    return out, {"fit_s": t1 - t0, "predict_s": t2 - t1, "epochs": [len(x["train"]) for x in model.loss_history_],
                 "fallbacks": len(model.fallbacks_)}


def run_nf(df, h, m, freq):
    import logging

    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    torch.set_num_threads(os.cpu_count() or 1)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    model = LSTM(h=h, input_size=2 * h, max_steps=500, enable_progress_bar=False, logger=False,
                 enable_model_summary=False, enable_checkpointing=False, random_seed=0)
    nf = NeuralForecast(models=[model], freq=freq)
    t0 = time.perf_counter()
    nf.fit(df=df)
    t1 = time.perf_counter()
    out = nf.predict()
    t2 = time.perf_counter()
    return out, {"fit_s": t1 - t0, "predict_s": t2 - t1}


def run_sf_ets(df, h, m, freq):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    sf = StatsForecast(models=[AutoETS(season_length=m)], freq=freq, n_jobs=os.cpu_count() or 1)
    t0 = time.perf_counter()
    out = sf.forecast(df=df, h=h)
    return out, {"fit_s": time.perf_counter() - t0, "predict_s": 0.0}


def _import(contender: str) -> None:
    if contender.startswith("tsrnn"):
        import tsrnn.forecaster  # noqa: F401
    elif contender == "nf":
        import neuralforecast.models  # noqa: F401
    else:
        import statsforecast.models  # noqa: F401


def bad_input(case: str) -> dict:
    """Time until the one clear error for a frame with three bad series (a NaN, a duplicated time stamp,
    a non-numeric value), before any training."""
    import pandas as pd

    from tsrnn import Forecaster

    df = make_frame(case)
    first = np.flatnonzero(np.r_[True, df.unique_id.to_numpy()[1:] != df.unique_id.to_numpy()[:-1]])
    y = df.y.to_numpy().copy()
    y[first[10] + 3] = np.nan
    df = pd.concat([df.assign(y=y), df.iloc[[first[2000] + 5]]], ignore_index=True).astype({"y": object})
    df.loc[first[70_000 % len(first)] + 1, "y"] = "n/a"
    _, h, m, _ = CASES[case]
    start = time.perf_counter()
    try:
        Forecaster(horizon=h, season_length=m, progress=False).fit(df)
        message = "no error"
    except ValueError as exc:
        message = str(exc)
    return {"contender": "tsrnn_bad_input", "case": case, "series": len(first), "obs": len(df),
            "seconds_to_error": time.perf_counter() - start, "message": message[:300]}


def child(contender: str, case: str) -> dict:
    import gc

    if contender == "tsrnn_bad_input":
        return bad_input(case)
    n_series, h, m, freq = CASES[case]
    future = None
    if contender == "tsrnn_cov3":
        df, future = make_frame(case, covariates=True)
    else:
        df = make_frame(case)
    n_obs = len(df)
    _import(contender)                       # libraries are loaded before "before fit", for every contender
    gc.collect()
    before = _rss()
    start = time.perf_counter()
    with _PeakRSS() as peak:
        if contender.startswith("tsrnn"):
            out, info = run_tsrnn(df, h, m, future)
        elif contender == "nf":
            out, info = run_nf(df, h, m, freq)
        else:
            out, info = run_sf_ets(df, h, m, freq)
    wall = time.perf_counter() - start
    return {"contender": contender, "case": case, "series": n_series, "obs": n_obs, "wall_s": wall,
            "extra_bytes_per_obs": (peak.peak - before) / n_obs, "rss_before_gb": before / 1e9,
            "rows_out": len(out), **info}


# ------------------------------------------------------------------------------------------------------
def spawn(python: str, contender: str, case: str, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [python, str(Path(__file__).resolve()), "--child", contender, "--case", case]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"contender": contender, "case": case, "error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        return {"contender": contender, "case": case, "error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(lines[-1])


def warm_cache(python: str) -> float:
    """Compile tsrnn's kernels once (a tiny fit) so that every measured run finds a warm cache; returns the
    time of the same fit with an empty cache (what a first fit after installing pays)."""
    import tempfile

    code = ("import numpy as np, pandas as pd, time; from tsrnn import Forecaster; t=time.perf_counter();"
            "y = pd.Series(100 + np.arange(80.0), index=pd.date_range('2000-01', periods=80, freq='MS'));"
            "Forecaster(horizon=6, season_length=12, max_epochs=1, progress=False).fit(y).predict(6);"
            "print(time.perf_counter() - t)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as empty:
        cold = subprocess.run([python, "-c", code], capture_output=True, text=True, env={**env, "NUMBA_CACHE_DIR": empty})
    subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(cold.stdout.strip().splitlines()[-1]) if cold.returncode == 0 else float("nan")


def table(rows: list[dict]) -> str:
    by = {(r["contender"], r["case"]): r for r in rows}
    out = ["| case | series | observations | tsrnn fit+predict | tsrnn extra memory | NeuralForecast LSTM | "
           "time ratio | memory ratio | statsforecast AutoETS | time ratio | memory ratio |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]

    def cell(r):
        if r is None:
            return "not run"
        if "error" in r:
            return f"failed: {r['error'][:60]}"
        return f"{r['wall_s']:.1f} s, {r['extra_bytes_per_obs']:.0f} B/obs"

    def ratio(a, b, key):
        if a is None or b is None or "error" in a or "error" in b:
            return ""
        return f"{a[key] / b[key]:.2f}" if b[key] > 0 else ""

    for case in CASES:
        t = by.get(("tsrnn", case))
        if t is None:
            continue
        nf, sf = by.get(("nf", case)), by.get(("sf_ets", case))
        if "error" in t:
            out.append(f"| {case} | | | failed: {t['error'][:80]} | | | | | | | |")
            continue
        out.append(f"| {case} | {t['series']:,} | {t['obs']:,} | {t['wall_s']:.1f} s (fit {t['fit_s']:.1f}, predict "
                   f"{t['predict_s']:.1f}) | {t['extra_bytes_per_obs']:.0f} B/obs "
                   f"({t['extra_bytes_per_obs'] * t['obs'] / 1e9:.2f} GB) | {cell(nf)} | "
                   f"{ratio(t, nf, 'wall_s')} | {ratio(t, nf, 'extra_bytes_per_obs')} | {cell(sf)} | "
                   f"{ratio(t, sf, 'wall_s')} | {ratio(t, sf, 'extra_bytes_per_obs')} |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--peers", default="nf,sf_ets", help="comma-separated: nf, sf_ets (empty: none)")
    p.add_argument("--peer-python", help="python of an environment with neuralforecast and statsforecast")
    p.add_argument("--markdown", help="write the table (and the raw rows as JSON beside it)")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--rerun", help="contender:case[,...]: run only these and merge them into the rows of the "
                                   "existing --markdown table's JSON")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.case)), flush=True)
        return 0
    cases = [c for c in args.cases.split(",") if c]
    peers = [c for c in args.peers.split(",") if c] if args.peer_python else []
    if args.rerun:
        saved = json.loads(Path(args.markdown).with_suffix(".json").read_text())
        compile_s, rows = saved["compile_s"], saved["rows"]
        command = saved.get("command", "") + f" (then `--rerun {args.rerun}`)"
        for item in args.rerun.split(","):
            contender, case = item.split(":")
            python = sys.executable if contender.startswith("tsrnn") else args.peer_python
            row = spawn(python, contender, case, args.timeout)
            print(json.dumps(row), flush=True)
            rows = [r for r in rows if (r["contender"], r["case"]) != (contender, case)] + [row]
        cases = []
    else:
        compile_s = warm_cache(sys.executable)
        print(f"numba cache warmed (cold compile of the kernels a first fit needs: {compile_s:.1f} s)", flush=True)
        rows = []
        command = "python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for case in cases:
        own = ["tsrnn"] + (["tsrnn_cov3"] if case in COVARIATE_CASES else [])
        for contender in own + [c for c in peers if case in PEER_CASES[c]]:
            python = sys.executable if contender.startswith("tsrnn") else args.peer_python
            row = spawn(python, contender, case, args.timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if "monthly-100k" in cases:
        row = spawn(sys.executable, "tsrnn_bad_input", "monthly-100k", args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    text = table(rows)
    cov = [r for r in rows if r["contender"] == "tsrnn_cov3"]
    if cov:
        text += ("\n\nWith three future covariates (`future_covariates=[\"price\", \"promo\", \"temp\"]`, the forecast "
                 "given their next h values; targets as above):\n\n| case | observations | fit+predict | extra memory | "
                 "univariate (table above) |\n|---|---|---|---|---|")
        for r in cov:
            if "error" in r:
                text += f"\n| {r['case']} | | failed: {r['error'][:80]} | | |"
                continue
            uni = next((u for u in rows if u["contender"] == "tsrnn" and u["case"] == r["case"] and "error" not in u), None)
            ref = f"{uni['wall_s']:.1f} s, {uni['extra_bytes_per_obs']:.0f} B/obs" if uni else ""
            text += (f"\n| {r['case']} | {r['obs']:,} | {r['wall_s']:.1f} s (fit {r['fit_s']:.1f}, predict "
                     f"{r['predict_s']:.1f}) | {r['extra_bytes_per_obs']:.0f} B/obs | {ref} |")
    bad = [r for r in rows if r["contender"] == "tsrnn_bad_input" and "error" not in r]
    if bad:
        text += (f"\n\nBad input at scale: {bad[0]['series']:,} series with 3 bad ones (a NaN, a duplicated time "
                 f"stamp, a non-numeric value): one ValueError after {bad[0]['seconds_to_error']:.1f} s, before any "
                 f"training:\n\n> {bad[0]['message']}")
    print(text)
    if args.markdown:
        import platform

        t = {r["case"]: r for r in rows if r["contender"] == "tsrnn" and "error" not in r}
        growth = (f"{t['monthly-100k']['wall_s'] / t['monthly-1k']['wall_s']:.2f}x"
                  if "monthly-100k" in t and "monthly-1k" in t else "not measured")
        header = (f"# Scale: fit + predict on many series\n\n`{command}`"
                  f"\n\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores. Cold compile "
                  f"of tsrnn's kernels (once per install, not in the times below): {compile_s:.1f} s. Extra memory: "
                  "peak RSS during fit + predict minus the RSS before fit, per observation (a bare long frame is "
                  "24 B/obs; target <= 48). Ratios: tsrnn / peer (below 1: tsrnn faster or smaller).\n\n"
                  f"Growth from 1,000 to 100,000 series (target <= 5x): {growth}.\n\n")
        Path(args.markdown).write_text(header + text + "\n")
        Path(args.markdown).with_suffix(".json").write_text(json.dumps({"compile_s": compile_s, "command": command,
                                                                        "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
