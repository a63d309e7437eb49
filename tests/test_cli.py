"""The tsrnn command line, run as a subprocess like a user would."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.persistence import atomic_write


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "tsrnn", *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=env)


@pytest.fixture()
def csv(tmp_path):
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"unique_id": f"s{k}", "ds": pd.date_range("2018-01", periods=48, freq="MS"),
                            "y": 100 + 10 * np.sin(np.arange(48) * np.pi / 6) + rng.normal(size=48) + k})
              for k in range(3)]
    path = tmp_path / "sales.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_help_reads_well():
    res = run("--help")
    assert res.returncode == 0 and all(c in res.stdout for c in ("backtest", "forecast", "warmup"))
    res = run("backtest", "--help")
    assert res.returncode == 0 and "--season-length" in res.stdout and "--windows" in res.stdout


def test_backtest_prints_ranked_table_and_writes_outputs(csv, tmp_path):
    before = digest(csv)
    out = tmp_path / "out"
    res = run("backtest", csv, "--horizon", 6, "--season-length", 12, "--models", "lstm,naive2,theta",
              "--windows", 2, "--output", out, "--no-progress", "--level", 80, 95, "--max-epochs", 5)
    assert res.returncode == 0, res.stderr
    assert "rank" in res.stdout and "owa" in res.stdout and "naive2" in res.stdout
    assert "coverage_80" in res.stdout and "msis_95" in res.stdout
    assert res.stderr == ""                                    # --no-progress: quiet
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics["rank"]) == [1, 2, 3] and set(metrics.model) == {"lstm", "naive2", "theta"}
    assert metrics[["coverage_80", "coverage_95", "msis_80", "msis_95", "spl"]].notna().all().all()
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert len(forecasts) == 3 * 2 * 6 * 3
    assert {"yhat_lo_80", "yhat_hi_95"} <= set(forecasts.columns)
    assert (out / "backtest.png").stat().st_size > 20_000
    assert digest(csv) == before and not list(out.glob("*.tmp"))


def test_tab_semicolon_and_bar_separated_files_read_as_the_comma_file(csv, tmp_path):
    """A .tsv, a European spreadsheet's file (';' with decimal commas, or with points) and a '|' file
    give the frame the comma file gives; a comma file's text is never sniffed into another separator."""
    from tsrnn.cli import read_table

    want = read_table(str(csv), False, "ds")
    frame = pd.read_csv(csv)
    variants = {"tab.tsv": dict(sep="\t"), "semi.csv": dict(sep=";"), "bar.txt": dict(sep="|"),
                "euro.csv": dict(sep=";", decimal=",")}
    for name, options in variants.items():
        frame.to_csv(tmp_path / name, index=False, **options)
        pd.testing.assert_frame_equal(read_table(str(tmp_path / name), False, "ds"), want, check_exact=False,
                                      rtol=1e-14)
    target = tmp_path / "fc.csv"
    res = run("forecast", tmp_path / "euro.csv", "-H", 3, "--model", "naive", "-o", target, "--no-progress")
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(pd.read_csv(target).yhat, frame.groupby("unique_id").y.last().repeat(3))
    (tmp_path / "quoted.csv").write_text('unique_id,ds,y\n"a;b",2020-01-01,1.5\n"a;b",2020-02-01,2.5\n')
    assert read_table(str(tmp_path / "quoted.csv"), False, "ds").unique_id.tolist() == ["a;b", "a;b"]


def test_backtest_without_output_writes_nothing(csv, tmp_path):
    res = run("backtest", csv, "-H", 3, "--models", "naive", "--no-progress", cwd=tmp_path)
    assert res.returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv"]


def test_backtest_ranks_by_the_metric_asked_for(csv, tmp_path):
    """``--rank-by`` orders the table and says by what; a metric it cannot rank by is a one-line error."""
    res = run("backtest", csv, "-H", 3, "--models", "naive,snaive,naive2", "--season-length", 12, "--level", 80,
              "--rank-by", "MSIS_80", "--no-progress", "-o", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert "ranked by MSIS_80" in res.stdout
    table = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert table.msis_80.is_monotonic_increasing and table["rank"].tolist() == [1, 2, 3]
    res = run("backtest", csv, "-H", 3, "--models", "naive", "--rank-by", "coverage_80", "--level", 80)
    assert res.returncode == 2 and "rank_by must be one of" in res.stderr and len(res.stderr.splitlines()) == 1


def test_backtest_refit_every_n_windows(csv, tmp_path):
    res = run("backtest", csv, "-H", 3, "--models", "gru", "--windows", 3, "--refit-every", 2, "--max-epochs", 2,
              "--no-progress", "-o", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path / "out" / "forecasts.csv").groupby("unique_id").cutoff.nunique().eq(3).all()
    for bad in (("--refit-every", 0), ("--refit-every", 2, "--no-refit")):
        res = run("backtest", csv, "-H", 3, "--models", "naive", *bad)
        assert res.returncode == 2 and "refit" in res.stderr


def test_forecast_with_levels_and_wide_input(csv, tmp_path):
    target = tmp_path / "fc.csv"
    res = run("forecast", csv, "--horizon", 4, "--model", "gru", "--level", 80, 95, "--output", target, "--no-progress")
    assert res.returncode == 0, res.stderr
    fc = pd.read_csv(target)
    assert list(fc.columns) == ["unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]
    wide = pd.read_csv(csv).pivot(index="ds", columns="unique_id", values="y").reset_index()
    wide_path = tmp_path / "wide.csv"
    wide.to_csv(wide_path, index=False)
    res = run("forecast", wide_path, "--wide", "-H", 3, "--model", "naive2", "-m", 12, "-o", tmp_path / "w.csv")
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv(tmp_path / "w.csv").columns) == ["ds", "s0", "s1", "s2"]
    res = run("forecast", csv, "-H", 4, "-m", 12, "--model", "ets", "--level", 90, "-o", tmp_path / "ets.csv")
    assert res.returncode == 0, res.stderr                       # a baseline's own intervals
    ets = pd.read_csv(tmp_path / "ets.csv")
    assert (ets.yhat_lo_90 < ets.yhat).all() and (ets.yhat < ets.yhat_hi_90).all()


def test_outputs_keep_the_input_column_names(csv, tmp_path):
    named = tmp_path / "named.csv"
    pd.read_csv(csv).rename(columns={"unique_id": "store", "ds": "month", "y": "sales"}).to_csv(named, index=False)
    res = run("forecast", named, "-H", 3, "--model", "naive", "-o", tmp_path / "f.csv")
    assert res.returncode == 2 and "none of the columns 'unique_id', 'ds', 'y'" in res.stderr and "--wide" in res.stderr
    names = ["--id-col", "store", "--time-col", "month", "--target-col", "sales"]
    res = run("forecast", named, "-H", 3, "--model", "naive", "--level", 80, "-o", tmp_path / "f.csv", *names)
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv(tmp_path / "f.csv").columns) == ["store", "month", "yhat", "yhat_lo_80", "yhat_hi_80"]
    res = run("backtest", named, "-H", 3, "--models", "naive", "--no-progress", "-o", tmp_path / "bt", *names)
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv(tmp_path / "bt" / "forecasts.csv").columns) == \
        ["store", "month", "cutoff", "sales", "yhat", "model"]
    wide = tmp_path / "wide.csv"                                 # a wide file's time column keeps its name too
    pd.read_csv(named).pivot(index="month", columns="store", values="sales").reset_index().to_csv(wide, index=False)
    res = run("forecast", wide, "--wide", "-H", 3, "--model", "naive", "-o", tmp_path / "w.csv")
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv(tmp_path / "w.csv").columns) == ["month", "s0", "s1", "s2"]


def test_nonnegative_forecasts_and_intervals_of_every_model_stay_at_or_above_zero(csv, tmp_path):
    small = tmp_path / "small.csv"
    pd.read_csv(csv).assign(y=lambda d: (d.y - 100).abs()).to_csv(small, index=False)   # near 0, never below
    ends = {}
    for flag in ([], ["--nonnegative"]):
        for model in ("ets", "lstm"):
            target = tmp_path / f"{model}{len(flag)}.csv"
            res = run("forecast", small, "-H", 6, "-m", 12, "--model", model, "--level", 95, "--max-epochs", 3,
                      "--no-progress", "-o", target, *flag)
            assert res.returncode == 0, res.stderr
            ends[model, bool(flag)] = pd.read_csv(target)[["yhat", "yhat_lo_95", "yhat_hi_95"]].to_numpy()
    assert (ends["ets", False] < 0).any()                        # without it, lower ends below 0
    for model in ("ets", "lstm"):
        np.testing.assert_allclose(ends[model, True], np.maximum(ends[model, False], 0.0))


def bad_file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("make,args,message", [
    (lambda t, c: t / "missing.csv", [], "no such file"),
    (lambda t, c: bad_file(t, "bin.csv", b"\x00\xff\xfe garbage \x00\n\x01"), [], "cannot read|lacks column"),
    (lambda t, c: bad_file(t, "cols.csv", pd.read_csv(c).rename(columns={"y": "sales"})), [], r"lacks column\(s\) \['y'\]"),
    (lambda t, c: bad_file(t, "text.csv", pd.read_csv(c).assign(y="abc")), [], "must be numeric"),
    (lambda t, c: bad_file(t, "short.csv", pd.read_csv(c).groupby("unique_id").head(5)), [], "fewer than"),
    (lambda t, c: bad_file(t, "nan.csv", pd.read_csv(c).assign(y=lambda d: d.y.where(d.index != 7))), [], "NaN"),
    (lambda t, c: bad_file(t, "dup.csv", pd.concat([pd.read_csv(c), pd.read_csv(c).head(1)])), [], "duplicate"),
    (lambda t, c: c, ["--models", "lstm,prophet"], "unknown model"),
    (lambda t, c: c, ["--horizon", "0"], "must be >= 1"),
    (lambda t, c: bad_file(t, "neg.csv", pd.read_csv(c).assign(y=lambda d: d.y - 100)), ["--nonnegative"],
     "nonnegative=True, but 3 of 3 series have bad data: series 's0' has values below 0"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, csv, make, args, message):
    path = make(tmp_path, csv)
    existed = path.exists()
    before = digest(path) if existed else None
    horizon = [] if args[:1] == ["--horizon"] else ["--horizon", 6]
    base = ["backtest", path, *horizon, "--models", "naive,naive2", "--no-progress", "--output", tmp_path / "o", *args]
    res = run(*base)
    assert res.returncode == 2, (res.returncode, res.stderr)
    import re
    assert re.search(message, res.stderr), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "metrics.csv").exists()
    if existed:
        assert digest(path) == before


@pytest.mark.parametrize("model", ["gru", "theta"])
def test_forecast_fill_repairs_missing_values_and_time_stamps(csv, tmp_path, model):
    data = pd.read_csv(csv)
    gappy = data.drop(index=[10, 11]).assign(y=lambda d: d.y.where(d.index != 60))    # s0 lacks 2 months, s1 a value
    path = bad_file(tmp_path, "gappy.csv", gappy)
    base = ["forecast", path, "--horizon", 6, "--model", model, "--no-progress", "--max-epochs", 3,
            "--output", tmp_path / "f.csv"]
    res = run(*base)
    assert res.returncode == 2 and "2 of 3 series have bad data" in res.stderr, res.stderr
    assert "series 's0' has missing timestamps for frequency MS (first missing: 2018-11-01" in res.stderr
    assert "series 's1' contains NaN values (1 of 48, first at position 12)" in res.stderr
    res = run(*base, "--fill", "interpolate")
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    assert out.groupby("unique_id").ds.min().tolist() == [pd.Timestamp("2022-01-01")] * 3
    assert np.isfinite(out.yhat).all() and len(out) == 18
    res = run("backtest", path, "--horizon", 6, "--models", f"{model},naive2", "--no-progress", "--max-epochs", 3,
              "--fill", "interpolate")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr


def test_forecast_refuses_to_overwrite_its_input(csv):
    before = digest(csv)
    res = run("forecast", csv, "-H", 2, "--model", "naive", "--output", csv)
    assert res.returncode == 2 and "refusing to overwrite" in res.stderr and digest(csv) == before


def test_usage_errors_exit_2():
    assert run("backtest").returncode == 2
    assert run("frobnicate").returncode == 2


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("old\n")

    def failing(path):
        Path(path).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, failing)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_backtest_of_real_quarterly_series_with_a_short_one_completes_and_says_so(tmp_path):
    """Real M4 quarterly series, one cut to 19 points: with 2 windows of 8 it is too short for the
    first window (left out) and too short to train the network on in the second (padded inputs)."""
    df = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "m4-quarterly-40.csv")
    ids = df.unique_id.unique()[:12]
    df = df[df.unique_id.isin(ids)]
    short = df[df.unique_id == ids[0]].head(19)
    path = tmp_path / "q.csv"
    pd.concat([df[df.unique_id != ids[0]], short]).to_csv(path, index=False)
    res = run("backtest", path, "--horizon", 8, "--season-length", 4, "--models", "naive2,lstm", "--windows", 2,
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert f"note: 1 series too short for some windows were left out of them (1 series-windows; first: " \
           f"['{ids[0]}'])" in res.stdout
    assert f"note: lstm: 1 series forecast by a fallback rule (first: ['{ids[0]}']; padded" in res.stdout


def test_outputs_follow_the_umask_and_an_unwritable_folder_is_exit_2_before_any_work(csv, tmp_path):
    import os

    out = tmp_path / "f.csv"
    res = subprocess.run(["bash", "-c", f"umask 022 && {sys.executable} -m tsrnn forecast {csv} -H 2 --model naive "
                                        f"--output {out}"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert out.stat().st_mode & 0o777 == 0o644                 # not mkstemp's 0600
    blocked = tmp_path / "a-file"                               # an output "folder" that is a file: for any user
    blocked.write_text("x")
    res = run("forecast", csv, "-H", 2, "--model", "lstm", "--output", blocked / "sub" / "f.csv", "--no-progress")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "not a writable directory" in res.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):                      # root may write anywhere: then only the above
            res = run("forecast", csv, "-H", 2, "--model", "lstm", "--output", locked / "f.csv", "--no-progress")
            assert res.returncode == 2 and "not a writable directory" in res.stderr
    finally:
        locked.chmod(0o700)


def test_ctrl_c_exits_130_and_leaves_no_output(tmp_path):
    import signal
    import time

    data = Path(__file__).resolve().parent.parent / "data" / "m4" / "train-Hourly.csv"    # ~25 s to fit
    out = tmp_path / "f.csv"
    proc = subprocess.Popen([sys.executable, "-m", "tsrnn", "forecast", str(data), "-H", "48", "-m", "24", "--model", "lstm",
                             "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)                                               # importing, compiling or training by now
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert err.rstrip().endswith("tsrnn: interrupted")
    assert list(tmp_path.iterdir()) == []                       # no output, no temporary file


# A fresh process after ``tsrnn warmup``: the tsrnn kernels numba compiled instead of loading from the cache.
_COMPILED_AFTER_WARMUP = """
import gc, tsrnn
from numba.core.registry import CPUDispatcher
from tsrnn import Forecaster, backtest
from tsrnn.datasets import load_m4
d = load_m4("Quarterly", sample="demo").train
Forecaster(cell="gru", horizon=8, season_length=4, max_epochs=2, progress=False).fit(d).predict(8, level=[80, 95])
backtest(d, horizon=4, n_windows=1, season_length=4, progress=False, models={"naive2": tsrnn.Naive2(season_length=4),
         "theta": tsrnn.Theta(season_length=4), "gru": Forecaster(cell="gru", max_epochs=1, progress=False)})
print(sorted(f"{f.__module__}.{f.__name__}" for f in gc.get_objects() if isinstance(f, CPUDispatcher)
             and f.__module__.startswith("tsrnn") and sum(f.stats.cache_misses.values())))
"""


def test_warmup_caches_what_a_later_fit_forecast_and_backtest_run(tmp_path):
    """After ``tsrnn warmup --cells gru`` (into an empty cache of its own), a new process fits a GRU on
    other data, forecasts with intervals and backtests it beside Naive2 and Theta without compiling
    a single tsrnn kernel: numba loads every one from the cache."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    res = run("warmup", "--cells", "gru", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("tsrnn warmup: gru ") and f"cached in {tmp_path / 'numba'}" in res.stdout
    later = subprocess.run([sys.executable, "-c", _COMPILED_AFTER_WARMUP], capture_output=True, text=True,
                           timeout=600, env=env)
    assert later.returncode == 0, later.stderr
    assert later.stdout.strip() == "[]"
    res = run("warmup", "--cells", "gru,lstmm", env=env)
    assert res.returncode == 2 and "cells must be among ['gru', 'lstm', 'rnn'], got ['gru', 'lstmm']" in res.stderr
