"""The interval unit (``tsrnn/intervals.py``): the window statistics against plain numpy, their
leak-freedom, the scale model's fit, shrinkage and cross-fitting, and their use by the Forecaster."""
import numpy as np
import pandas as pd
import pytest

from tsrnn import Forecaster
from tsrnn.intervals import SPAN, ErrorScale, window_stats
from tsrnn.store import Layout, SeriesStore
from tsrnn.training import gather_samples


def reference_stats(x: np.ndarray, H: int, span: int):
    """Spread and k-step drift errors of one prefix, written the obvious way."""
    if len(x) < 2:
        return 0.0, np.zeros(H)
    dx = np.diff(x)
    mu, spread = dx.mean(), np.abs(dx).mean()
    steps = np.empty(H)
    for k in range(1, H + 1):
        if len(x) - k >= 2:
            steps[k - 1] = np.abs(x[k:] - x[:-k] - k * mu)[-span:].mean()
        else:
            steps[k - 1] = spread if k == 1 else steps[k - 2] * np.sqrt(k / (k - 1))
    return (spread if spread > 1e-12 else 0.0), steps


@pytest.mark.parametrize("seed", range(4))
def test_window_stats_match_numpy_on_every_prefix(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 60, size=6)
    parts = [np.cumsum(rng.normal(rng.normal(), rng.uniform(0.1, 3), n)) for n in lengths]
    z, offsets = np.concatenate(parts), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    series = np.repeat(np.arange(6), 3).astype(np.int64)
    cuts = np.minimum(rng.integers(1, 60, size=18), lengths[series]).astype(np.int64)
    H, span = 7, 20
    spread, steps = np.empty(18), np.empty((18, H))
    window_stats(z, offsets, series, cuts, span, spread, steps)
    for j in range(18):
        want_spread, want_steps = reference_stats(parts[series[j]][:cuts[j]], H, span)
        np.testing.assert_allclose(spread[j], want_spread, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(steps[j], want_steps, rtol=1e-10, atol=1e-15)


def test_a_held_out_window_is_described_by_its_series_points_before_its_targets_only():
    """The leak the unit once had: the statistics of a window must not see its targets (or anything
    after them), or the calibration learns that large errors come with large units."""
    rng = np.random.default_rng(0)
    z = np.cumsum(rng.normal(size=80))
    layout = Layout(window=12, horizon=6, span=1)
    store = SeriesStore.prepare(z.copy(), np.array([0, 80]), None, 1, False, horizon=6)
    changed = z.copy()
    changed[60:] += 100 * rng.normal(size=20)          # the targets of the window ending at 66, and after
    other = SeriesStore.prepare(changed, np.array([0, 80]), None, 1, False, horizon=6)
    a = gather_samples(store, np.array([0]), np.array([66]), layout, stats=True)
    b = gather_samples(other, np.array([0]), np.array([66]), layout, stats=True)
    np.testing.assert_array_equal(a.spread, b.spread)
    np.testing.assert_array_equal(a.steps, b.steps)
    assert not np.allclose(a.y, b.y)                    # the targets did change
    whole = np.empty(1), np.empty((1, 6))               # and the store's own statistics use the whole series
    window_stats(z, np.array([0, 80]), np.array([0]), np.array([80]), SPAN, *whole)
    np.testing.assert_allclose(store.step_error, whole[1])


def heteroscedastic(n_series=300, H=3, seed=0):
    """Windows whose errors scale with their series' step error (slope 1) and not with the rest."""
    rng = np.random.default_rng(seed)
    series = np.repeat(np.arange(n_series), 2)
    level = np.exp(rng.uniform(-1.5, 1.5, n_series))[series]
    spread = np.exp(rng.normal(0, 0.3, n_series))[series]
    steps = spread[:, None] * level[:, None] * np.sqrt(np.arange(1, H + 1))
    errors = np.abs(rng.standard_t(5, size=(len(series), H))) * steps
    insample = np.exp(rng.normal(0, 0.5, n_series))[series]    # unrelated to the errors
    return errors, spread, steps, insample, series


def test_the_scale_model_finds_the_feature_the_errors_follow():
    errors, spread, steps, insample, series = heteroscedastic()
    scale, scores = ErrorScale.fit(errors, spread, steps, insample, series)
    assert 0.85 < scale.slopes[0] < 1.15                 # d / spread: the driver
    assert abs(scale.slopes[1]) < 0.15                   # the in-sample error: noise here
    assert scores.shape == errors.shape and (scores >= 0).all()
    # the scores are errors over units fitted on the *other* half of the series: they differ from the
    # in-sample ones, and each half's units come from a model that never saw it
    in_sample = errors / scale.unit(spread, steps, insample)
    assert not np.allclose(scores, in_sample)
    assert 0.7 < np.median(scores) / np.median(in_sample) < 1.4


def test_a_handful_of_series_keeps_intervals_proportional_to_the_spread():
    """The slopes are shrunk by a ridge worth KAPPA series: with 3 series (however many windows each)
    the data cannot outweigh it, so the unit stays close to spread * exp(a_k)."""
    errors, spread, steps, insample, series = heteroscedastic(n_series=3)
    many = np.repeat(np.arange(len(series)), 50)          # 50 windows per series: still 3 series
    errors, spread, steps, insample, series = errors[many], spread[many], steps[many], insample[many], series[many]
    small, _ = ErrorScale.fit(errors, spread, steps, insample, series)
    big, _ = ErrorScale.fit(*heteroscedastic(n_series=600))
    assert np.abs(small.slopes).max() < 0.5 * abs(big.slopes[0])


def test_one_series_is_scored_in_sample_and_a_missing_in_sample_error_takes_the_median():
    rng = np.random.default_rng(1)
    errors = np.abs(rng.normal(size=(40, 4)))
    spread, steps = np.ones(40), np.ones((40, 4))
    insample = np.full(40, 0.5)
    scale, scores = ErrorScale.fit(errors, spread, steps, insample, np.zeros(40, np.int64))
    np.testing.assert_allclose(scores, errors / scale.unit(spread, steps, insample))
    assert scale.insample_fill == pytest.approx(np.log(0.5))
    np.testing.assert_allclose(scale.unit(spread[:1], steps[:1], np.array([np.nan])),
                               scale.unit(spread[:1], steps[:1], np.array([0.5])))
    exact = errors.copy()
    exact[:5] = 0.0                                        # exact hits: no log, but a score of 0
    _, scores = ErrorScale.fit(exact, spread, steps, insample, np.zeros(40, np.int64))
    assert (scores[:5] == 0).all() and np.isfinite(scores).all()


def test_new_series_get_intervals_from_their_own_history():
    """predict(h, y=...) on series the model never saw: a calm and a wild one get intervals in
    proportion to their own behaviour, and the fitted series' intervals are unchanged by it."""
    rng = np.random.default_rng(3)
    t = np.arange(150)
    train = pd.concat([pd.DataFrame({"unique_id": k, "ds": t, "y": 100 + np.cumsum(rng.normal(0, 1 + k % 3, 150))})
                       for k in range(12)])
    model = Forecaster(horizon=6, max_epochs=3, random_state=0, progress=False).fit(train)
    before = model.predict(6, level=[90])
    new = pd.concat([pd.DataFrame({"unique_id": "calm", "ds": t, "y": 100 + np.cumsum(rng.normal(0, 0.2, 150))}),
                     pd.DataFrame({"unique_id": "wild", "ds": t, "y": 100 + np.cumsum(rng.normal(0, 4, 150))})])
    fc = model.predict(6, y=new, level=[90])
    width = (fc.yhat_hi_90 - fc.yhat_lo_90).groupby(fc.unique_id).mean()
    assert width["wild"] > 5 * width["calm"]
    pd.testing.assert_frame_equal(model.predict(6, level=[90]), before)


def test_the_scale_model_does_not_depend_on_the_units_of_the_data():
    """Errors, spreads and step errors all in units a million times larger (scaler=None on big numbers):
    the same slopes and scores, and a unit a million times larger."""
    errors, spread, steps, insample, series = heteroscedastic()
    scale, scores = ErrorScale.fit(errors, spread, steps, insample, series)
    big, big_scores = ErrorScale.fit(errors * 1e6, spread * 1e6, steps * 1e6, insample, series)
    np.testing.assert_allclose(big.slopes, scale.slopes, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(big_scores, scores, rtol=1e-6)
    np.testing.assert_allclose(big.unit(spread[:5] * 1e6, steps[:5] * 1e6, insample[:5]),
                               1e6 * scale.unit(spread[:5], steps[:5], insample[:5]), rtol=1e-6)
