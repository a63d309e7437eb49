"""Real data for the rolling-origin benchmarks (``blend_kinds.py``, ``history_limit.py``,
``interval_backtests.py``), their shared command line and the OWA table of one Forecaster setting
against another (``owa_table``): each script picks its cases from these loaders and adds its windows.

* ``macrodata``: statsmodels' US macroeconomic data, 12 quarterly series (1959Q1-2009Q3; GDP and its
  parts, prices, money, rates, unemployment, population);
* ``demo``: the 40 quarterly M4 series of ``make demo`` (``data/m4-quarterly-40.csv``);
* ``air_passengers``: one monthly series of 144 points;
* ``bikesharing``: Capital Bikeshare hourly rentals, one series of 17,520 hours (the target only);
* ``m4_train(frequency)``: the M4 dev *training* histories (the test values untouched).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def macrodata() -> pd.DataFrame:
    import statsmodels.api as sm

    d = sm.datasets.macrodata.load_pandas().data
    columns = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp", "pop",
               "infl", "realint"]
    ds = pd.period_range("1959Q1", periods=len(d), freq="Q").to_timestamp()
    return pd.concat([pd.DataFrame({"unique_id": c, "ds": ds, "y": d[c].to_numpy(float)}) for c in columns],
                     ignore_index=True)


def demo() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "m4-quarterly-40.csv")


def air_passengers() -> pd.DataFrame:
    from tsrnn.datasets import load_air_passengers

    return load_air_passengers().rename("y").reset_index().assign(unique_id="air")


def bikesharing() -> pd.DataFrame:
    from tsrnn.datasets import load_bikesharing

    return load_bikesharing()[["unique_id", "ds", "y"]]


def m4_train(frequency: str) -> pd.DataFrame:
    from tsrnn.datasets import load_m4

    return load_m4(frequency).train


def arguments(doc: str, cases: dict, argv=None) -> argparse.Namespace:
    """``--cases`` (comma-separated names of ``cases``, default all) and ``--markdown`` (a file for the table)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--cases", default=",".join(cases))
    ap.add_argument("--markdown")
    args = ap.parse_args(argv)
    unknown = [c for c in args.cases.split(",") if c not in cases]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {', '.join(cases)}")
    return args


def write_table(path: str, title: str, script: str, about: str, table: str, seconds: float) -> None:
    """The results file: its title, the command that wrote it, what it measures, the run's time, the table."""
    Path(path).write_text(f"# {title}\n\n`python benchmarks/{script} --markdown {path}`\n\n{about} "
                          f"Total time {seconds:.0f} s on 2 cores.\n\n{table}\n")


def compare(doc: str, cases: dict, param: str, values: tuple, seeds: tuple, title: str, script: str,
            argv=None) -> int:
    """The command line of a benchmark that backtests the default LSTM Forecaster with ``param`` set to
    each of ``values`` on its ``cases`` (name -> (loader, horizon, season length, windows)): the OWA of
    every seed, and each value's mean less the previous value's, printed and with ``--markdown`` written
    as ``write_table`` does."""
    import tsrnn

    args = arguments(doc, cases, argv)
    start = time.perf_counter()
    runs = f"(seeds {', '.join(map(str, seeds))})"
    rows = ["| case | series | windows x horizon | " + " | ".join(f"OWA, {param}={v!r} {runs}" for v in values)
            + "".join(f" | {b} less {a}" for a, b in zip(values, values[1:])) + " |",
            "|---|---|---|" + "---|" * (2 * len(values) - 1)]
    for name in args.cases.split(","):
        load, h, m, windows = cases[name]
        data = load()
        scores = []
        for value in values:
            scores.append([])
            for seed in seeds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = tsrnn.backtest(["lstm"], data, horizon=h, n_windows=windows, season_length=m,
                                            progress=False, random_state=seed, **{param: value})
                scores[-1].append(float(result.metrics.set_index("model").loc["lstm", "owa"]))
            print(name, value, scores[-1], flush=True)
        means = [np.mean(s) for s in scores]
        rows.append(f"| {name} | {data['unique_id'].nunique()} | {windows} x {h} | "
                    + " | ".join(" / ".join(f"{v:.3f}" for v in s) for s in scores)
                    + "".join(f" | {b - a:+.4f}" for a, b in zip(means, means[1:])) + " |")
    table = "\n".join(rows)
    print(table)
    if args.markdown:
        write_table(args.markdown, title, script, "Rolling-origin backtests of the default LSTM Forecaster, OWA "
                    "against Naive2 on the same windows (lower is better; the differences are of the means over the "
                    "seeds). See the script's docstring for the cases.", table, time.perf_counter() - start)
    return 0
