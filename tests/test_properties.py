"""Property-based tests of the public API (hypothesis, derandomised, bounded): whatever a pipeline feeds
``Forecaster``, a baseline or ``backtest``, the call returns finite forecasts of the right shape on the
right time stamps, or raises a documented exception (ValueError, or RuntimeError for a model that cannot
give a usable forecast) with a message, never another exception type, never a warning, and the input is
never modified."""
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsrnn
from tsrnn import Forecaster
from tsrnn.baselines import Naive2

TINY = dict(hidden_size=3, ensemble_size=1, max_epochs=1, samples_per_epoch=32, batch_size=16, random_state=0,
            progress=False, n_threads=1)
SETTINGS = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FREQS = ["D", "h", "MS", "W-SUN", "QS"]


@st.composite
def series(draw):
    n = draw(st.integers(1, 60))
    scale = draw(st.sampled_from([1e-8, 1e-3, 1.0, 1e4, 1e12]))
    sign = draw(st.sampled_from([1.0, -1.0]))
    shape = draw(st.sampled_from(["noise", "constant", "near-constant", "trend", "season"]))
    t = np.arange(n)
    rng = np.random.default_rng(draw(st.integers(0, 10**6)))
    base = {"noise": rng.normal(size=n), "constant": np.ones(n), "near-constant": 1 + 1e-13 * rng.normal(size=n),
            "trend": 1 + 0.05 * t, "season": 2 + np.sin(2 * np.pi * t / 7)}[shape]
    values = sign * scale * base
    holes = draw(st.sampled_from(["none", "nan", "inf", "all-nan"]))
    if holes != "none" and n:
        where = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
        values[where if holes != "all-nan" else slice(None)] = np.inf if holes == "inf" else np.nan
    kind = draw(st.sampled_from(["datetime", "tz", "period", "range"]))
    freq = draw(st.sampled_from(FREQS))
    if kind == "range":
        index = pd.RangeIndex(n)
    elif kind == "period":
        index = pd.period_range("2001-01", periods=n, freq="M")
    else:
        index = pd.date_range("2001-01-01", periods=n, freq=freq, tz="Europe/Berlin" if kind == "tz" else None)
    flaw = draw(st.sampled_from(["none", "none", "duplicate", "unsorted", "missing"]))
    if flaw != "none" and n >= 4:
        order = list(range(n))
        if flaw == "duplicate":
            order[2] = 1
        elif flaw == "unsorted":
            order[1], order[2] = order[2], order[1]
        else:
            order.pop(2)
        index, values = index[order], values[order]
    dtype = draw(st.sampled_from(["float64", "float32", "Float64", "Int64", "object", "str", "bool"]))
    s = pd.Series(values, index=index, name="y")
    if dtype in ("float32", "Float64"):
        s = s.astype(dtype)
    elif dtype == "Int64":
        s = s.round().astype("Float64").astype("Int64") if np.isfinite(values).all() and (np.abs(values) < 2**52).all() \
            else s.astype("Float64")
    elif dtype == "object":
        s = s.astype(object)
    elif dtype == "str":
        s = s.astype(str)
    elif dtype == "bool":
        s = s > 0
    return s


def _check_forecast(out, h, n_series=1):
    values = out.to_numpy(np.float64) if isinstance(out, pd.Series) else out["yhat"].to_numpy(np.float64)
    assert len(values) == h * n_series and np.isfinite(values).all()


def _call(fn):
    """fn() under the contract: a result, or a documented exception with a message; never a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return fn()
        except (ValueError, RuntimeError) as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"
            return None


@SETTINGS
@given(series(), st.sampled_from([None, "ffill", "interpolate", "zero"]), st.integers(1, 5))
def test_forecaster_on_any_series(s, fill, h):
    before = s.copy()
    out = _call(lambda: Forecaster(**TINY, fill=fill).fit(s).predict(h))
    pd.testing.assert_series_equal(s, before)
    if out is not None:
        _check_forecast(out, h)
        assert isinstance(out, pd.Series) and len(out.index) == h and out.index[0] > s.index[-1]
        arr = _call(lambda: Forecaster(**TINY, fill=fill).fit(s.to_numpy()).predict(h))   # the same as an array
        if arr is not None:
            _check_forecast(arr, h)
            assert list(arr.index) == list(range(len(s), len(s) + h))
        model = Forecaster(**TINY, fill=fill).fit(s)
        with tempfile.TemporaryDirectory() as tmp:                  # save/load round trip
            model.save(f"{tmp}/m")
            pd.testing.assert_series_equal(Forecaster.load(f"{tmp}/m").predict(h), model.predict(h))


@SETTINGS
@given(st.lists(series(), min_size=1, max_size=3), st.integers(1, 3))
def test_forecaster_on_wide_frames(parts, h):
    n = min(len(p) for p in parts)
    df = pd.DataFrame({f"c{k}": p.to_numpy()[:n] for k, p in enumerate(parts)}, index=parts[0].index[:n])
    before = df.copy()
    out = _call(lambda: Forecaster(**TINY).fit(df).predict(h))
    pd.testing.assert_frame_equal(df, before)
    if out is not None:
        assert out.shape == (h, len(parts)) and np.isfinite(out.to_numpy(np.float64)).all()


@settings(max_examples=8, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(series(), st.integers(1, 3))
def test_cli_exits_0_with_a_file_or_2_with_one_line(s, h):
    with tempfile.TemporaryDirectory() as tmp:
        frame = pd.DataFrame({"unique_id": "a", "ds": s.index if not isinstance(s.index, pd.PeriodIndex)
                              else s.index.to_timestamp(), "y": s.to_numpy()})
        frame.to_csv(f"{tmp}/in.csv", index=False)
        res = subprocess.run([sys.executable, "-m", "tsrnn", "forecast", f"{tmp}/in.csv", "-H", str(h), "--model",
                              "naive2", "--output", f"{tmp}/out.csv"], capture_output=True, text=True, timeout=300)
        assert res.returncode in (0, 2), res.stderr[-2000:]
        if res.returncode == 0:
            assert np.isfinite(pd.read_csv(f"{tmp}/out.csv").yhat).all()
        else:
            assert res.stderr.count("\n") == 1 and res.stderr.startswith("tsrnn: error: ")
            assert not (Path(tmp) / "out.csv").exists()


@SETTINGS
@given(st.lists(series(), min_size=1, max_size=4), st.integers(1, 4))
def test_forecaster_and_baseline_on_long_frames(parts, h):
    frames = []
    for k, s in enumerate(parts):
        if not isinstance(s.index, (pd.DatetimeIndex, pd.RangeIndex)):
            s = s.reset_index(drop=True)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": s.index, "y": s.to_numpy()}))
    try:
        df = pd.concat(frames, ignore_index=True)
    except (TypeError, ValueError):
        return                                   # pandas itself refuses to mix these columns
    before = df.copy()
    out = _call(lambda: Forecaster(**TINY).fit(df).predict(h))
    if out is not None:
        _check_forecast(out, h, df.unique_id.nunique())
    out = _call(lambda: Naive2(season_length=2).fit(df).predict(h))
    if out is not None:
        _check_forecast(out, h, df.unique_id.nunique())
    pd.testing.assert_frame_equal(df, before)


@SETTINGS
@given(series(), st.integers(1, 3), st.integers(1, 2))
def test_backtest_on_any_series(s, h, windows):
    before = s.copy()
    res = _call(lambda: tsrnn.backtest(["naive", "naive2"], s, horizon=h, n_windows=windows, progress=False))
    pd.testing.assert_series_equal(s, before)
    if res is not None:
        assert np.isfinite(res.forecasts.yhat).all() and set(res.metrics.model) <= {"naive", "naive2"}
