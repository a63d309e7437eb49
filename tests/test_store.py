"""The data path at scale, on small sizes: the vectorised frame reader, the series store, windows drawn on
the fly (against a naive NumPy windowing), bounded validation, chunked predict, short series, and the
one-error report of bad series."""
import time

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster
from tsrnn.data import read_future, series_stamps, to_panel
from tsrnn.store import Layout, SeriesStore, Windows, gather, recent_cap
from tsrnn.training import gather_samples

FAST = dict(hidden_size=8, ensemble_size=1, max_epochs=3, samples_per_epoch=256, random_state=0, progress=False,
            n_threads=1)


def random_panel(n_series=40, seed=0, freq="MS", low=3, high=90, shuffle=True, period=12):
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_series):
        n = int(rng.integers(low, high))
        t = np.arange(n)
        y = 50 + 10 * np.sin(2 * np.pi * t / period) + 0.2 * t + rng.normal(size=n) + 5 * k
        start = pd.Timestamp("2000-01-01") + pd.tseries.frequencies.to_offset(freq) * int(rng.integers(0, 30))
        parts.append(pd.DataFrame({"unique_id": f"id{k:03d}", "ds": pd.date_range(start, periods=n, freq=freq), "y": y}))
    df = pd.concat(parts, ignore_index=True)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True) if shuffle else df


# ---------------------------------------------------------------------------------------------------
# reading a long frame
@pytest.mark.parametrize("freq", ["MS", "D", "h", "W-SUN", "QS", "B"])
def test_long_frame_reader_matches_a_per_series_reading(freq):
    df = random_panel(25, seed=1, freq=freq)
    before = df.copy()
    panel = to_panel(df)
    pd.testing.assert_frame_equal(df, before)                    # the caller's frame is untouched
    assert list(panel.ids) == sorted(df.unique_id.unique())
    for i, uid in enumerate(panel.ids):
        g = df[df.unique_id == uid].sort_values("ds")
        np.testing.assert_array_equal(panel.values[i], g.y.to_numpy())
        assert panel.last[i] == g.ds.iloc[-1]
    # the step advances every series as the frequency does (pandas 3.0 infers QS-OCT for quarter starts,
    # 3.1 QS-JAN: the same dates)
    expected = pd.tseries.frequencies.to_offset(freq)
    lasts = pd.DatetimeIndex(panel.last)
    for k in (1, 2, 5):
        assert (lasts + k * panel.step).equals(lasts + k * expected)


def test_reader_does_not_share_memory_with_the_caller():
    df = random_panel(5, shuffle=False)
    panel = to_panel(df)
    panel.data[:] = -1.0
    assert (df.y > 0).all()


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "object", "str", "float64[pyarrow]"])
def test_long_frames_of_nullable_object_string_or_arrow_values_read_and_forecast_like_floats(dtype):
    if "pyarrow" in dtype:
        pytest.importorskip("pyarrow")
    df = random_panel(4, low=40, high=60, shuffle=False).assign(y=lambda d: d.y.round())   # sorted: no reorder copy
    values = df.y.astype("Int64").astype(dtype) if dtype == "Int64" else df.y.astype(dtype)
    typed = df.assign(y=values)
    before = typed.copy()
    panel = to_panel(typed)
    assert panel.data.flags.writeable and not np.shares_memory(panel.data, df.y.to_numpy())
    assert panel.data.tolist() == to_panel(df).data.tolist()
    got = Forecaster(horizon=2, **FAST).fit(typed).predict(2)      # a read-only array broke the scaling kernel
    want = Forecaster(horizon=2, **FAST).fit(df).predict(2)
    np.testing.assert_allclose(got.yhat, want.yhat)
    pd.testing.assert_frame_equal(typed, before)


def test_a_long_frame_may_hold_its_ids_and_times_in_the_index():
    df = random_panel(5)
    indexed = df.set_index(["unique_id", "ds"])
    before = indexed.copy()
    assert to_panel(indexed).data.tolist() == to_panel(df).data.tolist()
    assert to_panel(df.set_index("ds")).offsets.tolist() == to_panel(df).offsets.tolist()
    pd.testing.assert_frame_equal(indexed, before)
    hist = to_panel(pd.DataFrame({"unique_id": "a", "ds": [1, 2, 3], "y": [1.0, 2, 3], "p": [5.0, 6, 7]}), columns=["p"])
    future = pd.DataFrame({"unique_id": "a", "ds": [4, 5], "p": [8.0, 9.0]}).set_index(["unique_id", "ds"])
    assert read_future(future, hist, 2, ["p"]).columns["p"].values.tolist() == [8.0, 9.0]


@pytest.mark.parametrize("freq,tz", [("MS", None), ("W-SUN", None), ("h", None), ("D", "Europe/Berlin"),
                                     ("h", "Europe/Berlin"), ("B", None), ("2MS", None)])
def test_time_stamps_forward_and_back_match_date_range(freq, tz):
    offset = pd.tseries.frequencies.to_offset(freq)
    lasts = pd.DatetimeIndex([pd.Timestamp("2021-03-01", tz=tz) + offset * k for k in (0, 1, 5, 9)])
    axis = to_panel(pd.DataFrame({"unique_id": np.repeat(list("abcd"), 3),
                                  "ds": np.concatenate([pd.date_range(end=t, periods=3, freq=freq) for t in lasts]),
                                  "y": 1.0}))
    k = np.tile(np.arange(-4, 6), 4)
    got = series_stamps(axis, k, np.repeat(np.arange(4), 10))
    want = np.concatenate([pd.date_range(end=t, periods=5, freq=freq)[:-1].append(
        pd.date_range(t, periods=6, freq=freq)) for t in lasts])
    assert list(got) == list(want)


def test_bad_series_among_many_are_reported_together_before_training():
    df = random_panel(3000, seed=2, low=30, high=40, shuffle=False)
    ids = df.unique_id.unique()
    df.loc[df.index[df.unique_id == ids[10]][3], "y"] = np.nan
    dup = df[df.unique_id == ids[200]].iloc[[4]]
    gap = df.index[df.unique_id == ids[1500]][7]
    df = pd.concat([df.drop(index=gap), dup], ignore_index=True)
    obj = df.astype({"y": object})
    before = obj.copy()
    start = time.perf_counter()
    with pytest.raises(ValueError) as err:
        Forecaster(**FAST).fit(df)
    assert time.perf_counter() - start < 30
    msg = str(err.value)
    assert msg.startswith("3 of 3000 series have bad data")
    assert f"series '{ids[10]}' contains NaN values (1 of" in msg and "position 3" in msg
    assert f"series '{ids[200]}' has duplicate timestamps" in msg
    assert f"series '{ids[1500]}' has missing timestamps for frequency MS" in msg
    obj.loc[obj.index[obj.unique_id == ids[7]][2], "y"] = "n/a"
    with pytest.raises(ValueError, match=rf"series '{ids[7]}' has a non-numeric value 'n/a' \(position 2\)"):
        to_panel(obj)
    pd.testing.assert_frame_equal(obj.drop(index=obj.index[obj.unique_id == ids[7]][2]),
                                  before.drop(index=before.index[before.unique_id == ids[7]][2]))


def _gappy(freq, seed=5):
    """A shuffled long frame with covariates of every kind, rows of most series dropped here and there."""
    df = random_panel(30, seed=seed, freq=freq, low=25, high=60, shuffle=False)
    rng = np.random.default_rng(seed)
    df["price"] = rng.normal(size=len(df))
    df["promo"] = rng.random(len(df)) < 0.3
    df["store"] = rng.choice(["north", "south", "west"], len(df))
    df["region"] = df.unique_id.str[-1].astype(int) % 3 * 1.5                          # static
    inner = df.groupby("unique_id").cumcount().between(1, 19) & (df.groupby("unique_id").cumcount(ascending=False) > 0)
    drop = df.index[inner & (rng.random(len(df)) < 0.15)]
    return df.drop(index=drop).sample(frac=1.0, random_state=seed).reset_index(drop=True), len(drop)


def _filled_by_pandas(df, freq, fill):
    """The reference: each series on its own grid (``asfreq``), the target and numeric covariates filled
    with ``fill``, the other covariates carried forward."""
    parts = []
    for uid, g in df.sort_values(["unique_id", "ds"]).groupby("unique_id"):
        g = g.set_index("ds").asfreq(freq).reset_index()
        for col in ("y", "price"):
            s = g[col]
            g[col] = s.fillna(0.0) if fill == "zero" else s.ffill() if fill == "ffill" else s.interpolate()
        g[["unique_id", "store", "region"]] = g[["unique_id", "store", "region"]].ffill()
        g["promo"] = g.promo.astype(object).ffill().astype(bool)
        parts.append(g)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("freq,fill", [("MS", "interpolate"), ("h", "zero"), ("W-SUN", "ffill"), ("B", "interpolate")])
def test_fill_fills_missing_timestamps_like_asfreq_then_the_fill(freq, fill):
    df, dropped = _gappy(freq)
    before = df.copy()
    columns = ["price", "promo", "store", "region"]
    with pytest.raises(ValueError, match=r"has missing timestamps for frequency .* pass fill= to fill them"):
        to_panel(df, columns=columns)
    panel = to_panel(df, fill=fill, columns=columns, static=["region"])
    want = _filled_by_pandas(df, freq, fill)
    assert panel.offsets[-1] == len(df) + dropped == len(want)
    np.testing.assert_allclose(panel.data, want.y.to_numpy())
    np.testing.assert_allclose(panel.columns["price"].values, want.price.to_numpy())
    assert panel.columns["promo"].decoded().tolist() == want.promo.tolist()
    assert panel.columns["store"].decoded().tolist() == want.store.tolist()
    assert panel.columns["region"].values.tolist() == want.region.tolist()
    assert list(panel.last) == list(want.groupby("unique_id").ds.max())
    pd.testing.assert_frame_equal(df, before)                          # the caller's frame untouched


def test_fill_fills_missing_steps_of_a_series_a_wide_frame_and_integer_or_period_axes():
    days = pd.date_range("2021-03-01", periods=40, freq="D")
    y = pd.Series(np.arange(40.0), index=days).drop(days[[5, 6, 20]])
    np.testing.assert_array_equal(to_panel(y, fill="interpolate").data, np.arange(40.0))
    wide = pd.DataFrame({"a": np.arange(40.0), "b": -np.arange(40.0)}, index=days).drop(days[[3]])
    np.testing.assert_array_equal(to_panel(wide, fill="interpolate").data, np.r_[np.arange(40.0), -np.arange(40.0)])
    quarters = pd.period_range("2000Q1", periods=30, freq="Q")
    assert to_panel(pd.Series(np.arange(30.0), index=quarters).drop(quarters[[9]]), fill="ffill").data[9] == 8.0
    steps = pd.Series(np.arange(0.0, 60.0, 2.0), index=np.arange(0, 60, 2)).drop([10, 12])
    np.testing.assert_array_equal(to_panel(steps, fill="interpolate").data, np.arange(0.0, 60.0, 2.0))
    long = pd.DataFrame({"unique_id": ["a"] * 5 + ["b"] * 3, "ds": [0, 3, 6, 15, 18, 30, 33, 39], "y": np.arange(8.0)})
    panel = to_panel(long, fill="zero")
    assert panel.data.tolist() == [0, 1, 2, 0, 0, 3, 4, 5, 6, 0, 7] and panel.offsets.tolist() == [0, 7, 11]
    with pytest.raises(ValueError, match=r"series 'a' has missing time steps \(irregular step after 6\); pass fill="):
        to_panel(long)


@pytest.mark.parametrize("fill", ["zero", "ffill", "interpolate"])
def test_the_whole_array_fill_is_pandas_fill_series_by_series(fill):
    from tsrnn.data import _filled

    rng = np.random.default_rng(4)
    lengths = rng.integers(1, 30, 400)
    parts = [rng.normal(size=n) for n in lengths]
    for part in parts:                                   # leading, inner and trailing NaN; never all of them
        part[rng.random(len(part)) < 0.35] = np.nan
        part[rng.integers(len(part))] = 1.5
    offsets = np.r_[0, np.cumsum(lengths)]
    want = [pd.Series(p).fillna(0.0) if fill == "zero" else pd.Series(p).ffill().bfill() if fill == "ffill"
            else pd.Series(p).interpolate(limit_direction="both") for p in parts]
    np.testing.assert_allclose(_filled(np.concatenate(parts), offsets, fill), np.concatenate(want), rtol=0, atol=1e-12)


def test_fill_refuses_gaps_larger_than_the_series_and_stamps_off_the_grid():
    days = pd.date_range("2021-01-01", periods=30, freq="D")
    typo = pd.DataFrame({"unique_id": "a", "ds": days.append(pd.DatetimeIndex(["2022-01-01"])), "y": 1.0})
    with pytest.raises(ValueError, match=r"series 'a' has 335 missing timestamps for frequency D against 31 present"):
        to_panel(typo, fill="ffill")
    with pytest.raises(ValueError, match=r"series 0 has 335 missing timestamps"):
        to_panel(typo.set_index("ds").y.rename(None), fill="ffill")
    off = pd.DataFrame({"unique_id": "a", "ds": days.delete(4).append(pd.DatetimeIndex(["2021-01-31 12:00"])), "y": 1.0})
    with pytest.raises(ValueError, match=r"series 'a' has timestamps off the frequency grid of D"):
        to_panel(off, fill="ffill")


def test_a_forecaster_with_a_fill_forecasts_gappy_data_as_the_same_data_filled_by_hand():
    df, _ = _gappy("MS")
    df = df[["unique_id", "ds", "y"]]
    by_hand = _filled_by_pandas(df.assign(price=0.0, promo=False, store="x", region=0.0), "MS", "interpolate")
    got = Forecaster(**FAST, horizon=6, fill="interpolate").fit(df).predict(6)
    want = Forecaster(**FAST, horizon=6).fit(by_hand[["unique_id", "ds", "y"]]).predict(6)
    pd.testing.assert_frame_equal(got, want)


def test_many_bad_series_list_the_first_ten_and_count_all():
    df = random_panel(50, seed=3, low=20, high=30, shuffle=False)
    df.loc[df.groupby("unique_id").head(1).index, "y"] = np.nan     # every series' first value
    with pytest.raises(ValueError, match=r"50 of 50 series have bad data \(first 10 listed\)"):
        to_panel(df)
    filled = to_panel(df, fill="ffill")
    assert np.isfinite(filled.data).all()


# ---------------------------------------------------------------------------------------------------
# the store
def reference_prepare(y, m):
    """The per-series preparation tsrnn did before the store (NumPy, one series at a time)."""
    if (y > 0).all():
        z = np.log(y)
    else:
        sd = np.std(y)
        z = (y - y.mean()) / (sd if sd > 1e-12 else 1.0)
    n = len(z)
    idx = np.zeros(m)
    d = z - z.mean()
    if m > 1 and n >= 3 * m and np.sum(d * d) > 0:
        acf = np.array([np.sum(d[k:] * d[:-k]) / np.sum(d * d) for k in range(1, m + 1)])
        if abs(acf[m - 1]) > 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n):
            kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
            trend = np.convolve(z, kernel, mode="valid")
            off = (len(kernel) - 1) // 2
            det = z[off: off + len(trend)] - trend
            pos = (np.arange(len(det)) + off) % m
            idx = np.array([det[pos == k].mean() for k in range(m)])
            idx -= idx.mean()
    return z - idx[np.arange(n) % m], idx


@pytest.mark.parametrize("m", [1, 4, 7, 12])
def test_store_preparation_matches_the_per_series_reference(m):
    df = random_panel(30, seed=m, period=max(m, 2))
    df.loc[df.unique_id == "id004", "y"] -= 500                  # not positive: standardised
    panel = to_panel(df)
    store = SeriesStore.prepare(panel.data, panel.offsets, "window", m, True)
    assert store.seasonal.any() or m == 1
    for i, values in enumerate(panel.values):
        z, idx = reference_prepare(values, m)
        np.testing.assert_allclose(store.z[panel.offsets[i]:panel.offsets[i + 1]], z, atol=1e-9)
        np.testing.assert_allclose(store.seasonal[i], idx, atol=1e-9)
    tail = store.tail(10)
    np.testing.assert_array_equal(tail.lengths, np.minimum(panel.lengths, 10))
    np.testing.assert_array_equal(tail.z[tail.offsets[3]:tail.offsets[4]],
                                  store.z[store.offsets[4] - tail.lengths[3]:store.offsets[4]])
    back = store.to_original(np.zeros((len(store), 2)))             # a zero adjusted forecast: seasonal level
    assert np.isfinite(back).all()


def naive_windows(z, W, H, stride, need):
    """Every training sample of one series as the old windowing built it: full (N, W) matrices."""
    n = len(z)
    pad = max(0, W - need) if n < W + H else 0
    if n + pad < W + H:
        return np.empty((0, W)), np.empty((0, H)), np.empty((0, W))
    padded = np.concatenate([np.full(pad, z[0]), z])
    view = np.lib.stride_tricks.sliding_window_view(padded, W + H)[::-1][::stride][::-1]
    starts = np.arange(len(padded) - W - H + 1)[::-1][::stride][::-1]
    mask = (starts[:, None] + np.arange(W) < pad).astype(float)
    return view[:, :W], view[:, W:], mask


@pytest.mark.parametrize("W,H,stride,span", [(12, 6, 1, 4), (24, 8, 3, 12), (5, 2, 2, 0)])
def test_gather_matches_a_naive_numpy_windowing_on_random_lengths(W, H, stride, span):
    rng = np.random.default_rng(W)
    lengths = rng.integers(3, 60, size=40)
    offsets = np.r_[0, np.cumsum(lengths)]
    z = rng.normal(size=offsets[-1])
    need = min(W, 4)
    win = Windows(lengths, W, H, need, stride, holdout=True)
    g = np.arange(win.total)
    series, ends = win.train_pairs(g)
    x = np.empty((W, len(g), 2), np.float32)
    y = np.empty((len(g), H), np.float32)
    level = np.empty(len(g))
    no_cov, no_static, no_xf = np.zeros((len(z), 0), np.float32), np.zeros((40, 0), np.float32), np.zeros((0, 0, 0), np.float32)
    gather(z, no_cov, no_static, offsets, series, ends, W, H, span, 0, x, y, level, no_xf)
    xs, ys, ms = [], [], []
    for i in range(len(lengths)):
        zi = z[offsets[i]:offsets[i + 1]]
        a, b, c = naive_windows(zi[:win.cut[i]], W, H, stride, need)
        xs.append(a); ys.append(b); ms.append(c)
    X, Y, M = np.concatenate(xs), np.concatenate(ys), np.concatenate(ms)
    assert win.total == len(X)
    L = X[:, W - span:].mean(axis=1, keepdims=True) if span else np.zeros((len(X), 1))
    np.testing.assert_allclose(x[:, :, 0].T, X - L, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(x[:, :, 1].T, M)
    np.testing.assert_allclose(y, Y - L, rtol=1e-5, atol=1e-5)
    # held-out windows: the inputs before each of the last n_val origins, targets after it
    vs, ve = win.held_out_pairs(np.arange(win.total_held_out))
    for s, e in zip(vs, ve):
        assert win.cut[s] + H <= e <= lengths[s] and e - H >= win.cut[s]
    # forecasting: the store extended by the points to forecast; the inputs are each series' last W points
    store = SeriesStore(z, offsets, np.zeros(40, bool), np.zeros(40), np.ones(40), np.zeros((40, 1)), lengths)
    ahead = store.extend(H, 0)
    s = gather_samples(ahead, np.arange(40), lengths + H, Layout(W, H, 0), targets=False)
    for i in range(len(lengths)):
        zi = z[offsets[i]:offsets[i + 1]]
        want = np.concatenate([np.full(max(0, W - len(zi)), zi[0]), zi])[-W:]
        np.testing.assert_array_equal(s.x[:, i, 0], want.astype(np.float32))
        assert s.x[:, i, 1].sum() == max(0, W - len(zi))


def test_gather_lays_out_covariate_channels_and_the_horizon_future_inputs():
    """Channels: value - level, padded, past, future, static; xf = future channels of the target points;
    padded positions have zero covariates; extended rows get scaled future values, zero past ones."""
    rng = np.random.default_rng(1)
    lengths = np.array([30, 5])
    offsets = np.r_[0, np.cumsum(lengths)]
    z = rng.normal(size=35)
    cov = rng.normal(size=(35, 3)).astype(np.float32)         # 1 past + 2 future channels
    static = np.array([[7.0], [8.0]], np.float32)
    store = SeriesStore(z, offsets, np.zeros(2, bool), np.zeros(2), np.ones(2), np.zeros((2, 1)), lengths, cov,
                        np.zeros((2, 3)), np.ones((2, 3)), static)
    W, H = 8, 3
    layout = Layout(W, H, 2, n_past=1, n_future=2, n_static=1)
    s = gather_samples(store, np.array([0, 1]), np.array([20, 5]), layout)
    assert s.x.shape == (W, 2, 6) and s.xf.shape == (H, 2, 2)
    first = 20 - H - W
    np.testing.assert_array_equal(s.x[:, 0, 2:5], cov[first:first + W])
    np.testing.assert_array_equal(s.xf[:, 0], cov[20 - H:20, 1:])
    np.testing.assert_array_equal(s.x[:, :, 5], [[7.0, 8.0]] * W)
    # series 1: 5 points, inputs from position -6: six padded steps with zero covariates
    assert (s.x[:6, 1, 1] == 1).all() and (s.x[:6, 1, 2:5] == 0).all()
    np.testing.assert_array_equal(s.x[6:, 1, 2:5], cov[30:32])
    np.testing.assert_array_equal(s.xf[:, 1], cov[32:35, 1:])
    # extended for forecasting: future channels scaled by each series' own centre and scale
    store.x_center[:] = 1.0
    store.x_scale[:] = 2.0
    ahead = store.extend(H, 1, np.full((2 * H, 2), 5.0, np.float32))
    new = ahead.x[ahead.offsets[1] - H:ahead.offsets[1]]
    np.testing.assert_array_equal(new, [[0.0, 2.0, 2.0]] * H)
    assert np.isnan(ahead.z[ahead.offsets[1] - H:ahead.offsets[1]]).all()


@pytest.mark.parametrize("n_series", [2000, 40000])               # below and above the permutation limit
def test_window_samples_are_distinct_uniform_and_seeded(n_series):
    win = Windows(np.full(n_series, 50), 12, 6, 4, 1, holdout=True)
    a = win.sample(np.random.default_rng(0), 4096)
    b = win.sample(np.random.default_rng(0), 4096)
    assert len(np.unique(a)) == 4096 and (a == b).all() and a.max() < win.total
    series, _ = win.train_pairs(np.sort(a))
    assert len(np.unique(series)) > 1500                           # spread over the series
    counts = np.bincount(series * 8 // n_series, minlength=8)      # uniform over the series
    assert counts.min() > 0.8 * counts.mean()


@pytest.mark.parametrize("stride", [1, 3])
def test_a_history_limit_keeps_each_series_last_training_windows_and_the_same_held_out_ones(stride):
    lengths = np.random.default_rng(stride).integers(10, 400, size=60)
    full = Windows(lengths, 12, 6, 4, stride, holdout=True)
    kept = Windows(lengths, 12, 6, 4, stride, holdout=True, limit=20)
    assert (kept.count == np.minimum(full.count, 20)).all() and kept.count.max() == 20
    s_full, e_full = full.train_pairs(np.arange(full.total))
    s_kept, e_kept = kept.train_pairs(np.arange(kept.total))
    for i in range(len(lengths)):                                  # the latest windows, none older
        np.testing.assert_array_equal(e_kept[s_kept == i], e_full[s_full == i][-kept.count[i]:])
    np.testing.assert_array_equal(kept.cut, full.cut)
    np.testing.assert_array_equal(kept.held_out_pairs(np.arange(kept.total_held_out)),
                                  full.held_out_pairs(np.arange(full.total_held_out)))


def test_the_history_limit_rises_just_enough_for_a_small_panel_to_fill_an_epoch():
    count = np.array([3, 40, 100, 1000])
    assert recent_cap(count, 10, 0) == 10
    assert recent_cap(count, 10, 33) == 10                         # 3 + 10 + 10 + 10 windows suffice
    cap = recent_cap(count, 10, 500)
    assert np.minimum(count, cap).sum() >= 500 > np.minimum(count, cap - 1).sum()
    assert recent_cap(count, 10, 10 ** 6) == 1000                  # fewer windows than asked: all of them
    assert recent_cap(np.zeros(0, np.int64), 10, 100) == 10
    win = Windows(np.full(2, 500), 12, 6, 4, 1, holdout=True, limit=10, fill=4096)
    assert win.total == Windows(np.full(2, 500), 12, 6, 4, 1, holdout=True).total   # one or two series: every window


def test_history_limit_auto_limits_series_without_a_season_only():
    def kept(**params):
        model = Forecaster(**params)
        model._settle(np.full(2, 1000), ["a", "b"])             # horizon_, window_, scaler_, history_limit_
        return model.history_limit_, model._history_windows()
    assert kept(horizon=13) == (10, 130)                           # "auto", season_length 1: 10 horizons
    assert kept(horizon=48, season_length=24) == (None, None)      # a season: every window
    assert kept(horizon=13, history_limit=None) == (None, None)
    assert kept(horizon=13, history_limit=1.5, stride=2) == (1.5, 10)     # ceil(1.5 * 13 / 2)
    for bad in (0, -1, "all", True):
        with pytest.raises(ValueError, match="history_limit"):
            Forecaster(history_limit=bad).fit(pd.Series(np.arange(50.0)))


# ---------------------------------------------------------------------------------------------------
# the Forecaster on the store
def test_validation_and_calibration_are_bounded_whatever_the_number_of_series():
    df = random_panel(600, seed=5, low=40, high=60, shuffle=False)
    model = Forecaster(**FAST, season_length=12, horizon=6, validation_size=300).fit(df)
    assert model.residuals_.shape == (300, 6)
    assert model.state_.z.size <= 600 * model.window_               # only the tails are kept


def test_early_stopping_scores_an_even_spread_of_at_most_1024_held_out_windows(monkeypatch):
    """All held-out windows calibrate the intervals; early stopping scores at most 1,024 of them each
    epoch, spread evenly over the series, and the validation loss it records is theirs."""
    import tsrnn.forecaster as fc

    seen = {}
    train = fc.Forecaster._train_members

    def spy(self, store, windows, layout, validation):
        seen["validation"] = validation
        return train(self, store, windows, layout, validation)

    monkeypatch.setattr(fc.Forecaster, "_train_members", spy)
    df = random_panel(300, seed=5, low=40, high=60, shuffle=False)
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(df)
    validation = seen["validation"]
    assert model.residuals_.shape[0] > 1024 and len(validation) == 1024
    assert len(np.unique(validation.series)) > 250                   # spread over the series
    net = model.networks_[0]
    best = model.best_epoch_[0]
    kept, _ = net.loss(net.predict(validation.x), validation.y, "mae")
    assert kept == pytest.approx(model.loss_history_[0]["validation"][best - 1], rel=1e-6)
    small = Forecaster._stopping_set(validation.take(np.arange(10)))
    assert len(small) == 10 and (small.series == validation.series[:10]).all()


def test_chunked_predict_equals_one_pass(monkeypatch):
    import tsrnn.forecaster as fc

    df = random_panel(30, seed=6, low=20, high=80)
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(df)
    whole = model.predict(14, level=[80])
    monkeypatch.setattr(fc, "_PREDICT_CHUNK", 7)
    pd.testing.assert_frame_equal(model.predict(14, level=[80]), whole)
    unseen = random_panel(9, seed=7, low=20, high=80)
    assert model.predict(6, y=unseen).shape == (9 * 6, 3)


def test_same_seed_same_forecasts_different_seed_different():
    df = random_panel(20, seed=8, low=30, high=80)
    a = Forecaster(**FAST, season_length=12, horizon=6).fit(df).predict(6)
    b = Forecaster(**FAST, season_length=12, horizon=6).fit(df).predict(6)
    c = Forecaster(**{**FAST, "random_state": 1}, season_length=12, horizon=6).fit(df).predict(6)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.yhat, c.yhat)


def test_backtest_leaves_a_short_series_out_of_the_windows_it_cannot_fill():
    df = random_panel(6, seed=9, low=60, high=70, shuffle=False)
    short = pd.DataFrame({"unique_id": "short", "ds": pd.date_range("2010-01", periods=19, freq="QS"),
                          "y": 5.0 + np.arange(19) % 3})
    data = pd.concat([df.assign(ds=df.groupby("unique_id").cumcount().map(
        lambda k: pd.Timestamp("2000-01-01") + pd.DateOffset(months=3 * k))), short], ignore_index=True)
    res = tsrnn.backtest(["naive2", "lstm"], data, horizon=8, n_windows=2, season_length=4, progress=False,
                         hidden_size=8, max_epochs=2, random_state=0)
    assert set(res.skipped.unique_id) == {"short"} and list(res.skipped.window) == [1]
    per_window = res.series_metrics.groupby(["model", "window"]).unique_id.nunique()
    assert per_window[("naive2", 1)] == 6 and per_window[("naive2", 2)] == 7
    assert any("left out" in line for line in res.notes())
    # in window 2 it has 11 training points: too few to train the network on, forecast from padded inputs
    lstm = res.fallbacks[res.fallbacks.model == "lstm"]
    assert list(lstm.unique_id) == ["short"] and list(lstm.window) == [2] and lstm.reason.iloc[0].startswith("padded")
    assert np.isfinite(res.metrics.owa).all()
