"""Dask: the local path against a LocalCluster of 1 and 2 worker processes, on this machine.

Cases:

* ``monthly-100k``: the scale benchmark's 100,000 M4-monthly-like series (``benchmarks/scale.py``),
  the default ``Forecaster(horizon=18, season_length=12)``: fit + predict of the fitted series
  (``tsrnn.cluster.fit``), and the forecasts compared with the local ones;
* ``monthly-100k-cov3``: the same series with the scale benchmark's three future covariates (price, promo,
  temp), forecast with their next 18 values; the forecasts compared with the local ones;
* ``m4-quarterly-backtest``: the 200 M4 dev quarterly series, one window of 8, models lstm, naive2,
  arima, ets, theta (``tsrnn.cluster.backtest``: one task per model), metrics compared with the local run.

Also measured: the cluster's start, the round trip of an empty task (the per-task overhead), and what a
fresh worker pays to compile tsrnn's kernels (an empty ``NUMBA_CACHE_DIR``) against a warm cache.

Workers are processes with one Dask thread each; every network keeps the local run's ``n_threads`` (the
client's cores) so that results are identical, which oversubscribes the cores with two workers.

Usage:
    python benchmarks/dask_scaling.py [--cases monthly-100k,monthly-100k-cov3,m4-quarterly-backtest] [--markdown benchmarks/results/dask.md]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def start(workers: int, env: dict | None = None):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           env=env or {})
    client = Client(cluster)
    client.wait_for_workers(workers)
    return client, cluster, time.perf_counter() - t0


def task_overhead(client, n: int = 200) -> float:
    """Seconds per empty task, submitted and gathered one after the other."""
    client.submit(int, 0, pure=False).result()
    t0 = time.perf_counter()
    for k in range(n):
        client.submit(int, k, pure=False).result()
    return (time.perf_counter() - t0) / n


def _tiny_fit():
    import numpy as np
    import pandas as pd

    from tsrnn import Forecaster

    t0 = time.perf_counter()
    y = pd.Series(100 + np.arange(80.0), index=pd.date_range("2000-01", periods=80, freq="MS"))
    Forecaster(horizon=6, season_length=12, max_epochs=1, progress=False).fit(y).predict(6)
    return time.perf_counter() - t0


def compile_cost() -> dict:
    """A tiny fit's time on a fresh worker with an empty numba cache, then on a warm one."""
    with tempfile.TemporaryDirectory() as empty:
        client, cluster, _ = start(1, env={"NUMBA_CACHE_DIR": empty})
        try:
            cold = client.submit(_tiny_fit, pure=False).result()
            again = client.submit(_tiny_fit, pure=False).result()
        finally:
            client.close()
            cluster.close()
    client, cluster, _ = start(1)
    try:
        warm = client.submit(_tiny_fit, pure=False).result()
    finally:
        client.close()
        cluster.close()
    return {"cold_s": cold, "same_worker_again_s": again, "fresh_worker_warm_cache_s": warm}


def case_monthly(workers: list[int], covariates: bool = False) -> list[dict]:
    from scale import COVARIATES, make_frame

    from tsrnn import Forecaster, cluster

    name = "monthly-100k-cov3" if covariates else "monthly-100k"
    df, future = make_frame("monthly-100k", covariates=True) if covariates else (make_frame("monthly-100k"), None)
    kw = dict(horizon=18, season_length=12, random_state=0, progress=False,
              future_covariates=COVARIATES if covariates else None)
    t0 = time.perf_counter()
    local = Forecaster(**kw).fit(df).predict(18, future=future)
    rows = [{"case": name, "run": "local", "wall_s": time.perf_counter() - t0}]
    for n in workers:
        client, lc, started = start(n)
        try:
            t0 = time.perf_counter()
            got = cluster.fit(Forecaster(**kw), df, client).predict(18, future=future)
            wall = time.perf_counter() - t0
            rows.append({"case": name, "run": f"{n} worker(s)", "wall_s": wall, "start_s": started,
                         "task_s": task_overhead(client),
                         "identical": bool(got.yhat.to_numpy().tobytes() == local.yhat.to_numpy().tobytes())})
        finally:
            client.close()
            lc.close()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def case_backtest(workers: list[int]) -> list[dict]:
    import warnings

    import tsrnn
    from tsrnn import cluster

    warnings.simplefilter("ignore", UserWarning)
    df = pd.read_csv(ROOT / "data" / "m4" / "train-Quarterly.csv")
    kw = dict(horizon=8, n_windows=1, season_length=4, progress=False, random_state=0)
    models = ["lstm", "naive2", "arima", "ets", "theta"]
    t0 = time.perf_counter()
    local = tsrnn.backtest(models, df, **kw)
    rows = [{"case": "m4-quarterly-backtest", "run": "local", "wall_s": time.perf_counter() - t0}]
    for n in workers:
        client, lc, started = start(n)
        try:
            t0 = time.perf_counter()
            got = cluster.backtest(models, df, client=client, **kw)
            wall = time.perf_counter() - t0
            rows.append({"case": "m4-quarterly-backtest", "run": f"{n} worker(s)", "wall_s": wall, "start_s": started,
                         "task_s": task_overhead(client), "identical": bool(got.metrics.equals(local.metrics))})
        finally:
            client.close()
            lc.close()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(rows: list[dict], compile_: dict, command: str) -> str:
    out = ["# Dask: local against a LocalCluster", "", f"`{command}`", "",
           f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; workers are processes "
           "with one Dask thread each, on the same machine.", "",
           "| case | run | wall (s) | vs local | cluster start (s) | per-task overhead (ms) | identical to local |",
           "|---|---|---|---|---|---|---|"]
    local = {r["case"]: r["wall_s"] for r in rows if r["run"] == "local"}
    for r in rows:
        ratio = r["wall_s"] / local[r["case"]]
        start = f"{r['start_s']:.1f}" if "start_s" in r else "-"
        task = f"{1000 * r['task_s']:.1f}" if "task_s" in r else "-"
        same = "-" if r["run"] == "local" else ("yes" if r.get("identical") else "no")
        out.append(f"| {r['case']} | {r['run']} | {r['wall_s']:.1f} | {ratio:.2f}x | {start} | {task} | {same} |")
    out += ["", f"Compilation on a fresh worker (a tiny fit + predict): {compile_['cold_s']:.1f} s with an empty "
            f"`NUMBA_CACHE_DIR`, {compile_['same_worker_again_s']:.2f} s for the same fit again on that worker, "
            f"{compile_['fresh_worker_warm_cache_s']:.2f} s on a fresh worker reading a warm cache."]
    return "\n".join(out) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="monthly-100k,monthly-100k-cov3,m4-quarterly-backtest")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--markdown")
    p.add_argument("--merge", action="store_true", help="keep the other cases' rows of --markdown's JSON")
    args = p.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    rows = []
    cases = args.cases.split(",")
    if "monthly-100k" in cases:
        rows += case_monthly(workers)
    if "monthly-100k-cov3" in cases:
        rows += case_monthly(workers, covariates=True)
    if "m4-quarterly-backtest" in cases:
        rows += case_backtest(workers)
    compile_ = compile_cost()
    command = "python benchmarks/dask_scaling.py " + " ".join(sys.argv[1:])
    if args.merge:
        saved = json.loads(Path(args.markdown).with_suffix(".json").read_text())
        rows = [r for r in saved["rows"] if r["case"] not in cases] + rows
        command = saved.get("command", "") + f"; then {command}"
    text = markdown(rows, compile_, command)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
        Path(args.markdown).with_suffix(".json").write_text(json.dumps({"rows": rows, "compile": compile_,
                                                                        "command": command}, indent=1))


if __name__ == "__main__":
    main()
