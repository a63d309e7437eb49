"""The interval unit (``tsrnn/intervals.py``): the window statistics against plain numpy, their
leak-freedom, the scale model's fit, shrinkage and cross-fitting, and their use by the Forecaster."""
import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import Forecaster
from tsrnn.intervals import (FOLDS, PHASE_SEASONS, RECENT, ROUNDS, SPAN, ErrorScale, check_levels,
                             conformal_ends, conformal_halfwidth, conformal_tails, cross_folds, misjudged_series,
                             recent_spans, recursion_growth, window_stats)
from tsrnn.store import Layout, SeriesStore
from tsrnn.training import gather_samples


def reference_stats(x: np.ndarray, H: int, span: int, spans=(), rounds: int = 0):
    """Spread, k-step drift errors (k = 1 .. H), recent spreads and the drift errors at the ends of
    ``rounds`` recursion rounds after the first (k = 2H, 3H, ..) of one prefix, written the obvious way."""
    if len(x) < 2:
        return 0.0, np.zeros(H), np.zeros(len(spans)), np.zeros(rounds)
    dx = np.diff(x)
    mu, spread = dx.mean(), np.abs(dx).mean()
    recent = np.array([np.abs(dx[-s:]).mean() for s in spans])
    ks = list(range(1, H + 1)) + [r * H for r in range(2, rounds + 2)]
    d = {}
    for i, k in enumerate(ks):
        if len(x) - k >= 2:
            d[k] = np.abs(x[k:] - x[:-k] - k * mu)[-span:].mean()
        else:
            d[k] = spread if k == 1 else d[ks[i - 1]] * np.sqrt(k / ks[i - 1])
    steps, rounds_ = np.array([d[k] for k in ks[:H]]), np.array([d[k] for k in ks[H:]])
    return (spread if spread > 1e-12 else 0.0), steps, recent, rounds_


@pytest.mark.parametrize("seed", range(4))
def test_window_stats_match_numpy_on_every_prefix(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 60, size=6)
    parts = [np.cumsum(rng.normal(rng.normal(), rng.uniform(0.1, 3), n)) for n in lengths]
    z, offsets = np.concatenate(parts), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    series = np.repeat(np.arange(6), 3).astype(np.int64)
    cuts = np.minimum(rng.integers(1, 60, size=18), lengths[series]).astype(np.int64)
    H, span, spans, R = 7, 20, np.array([3, 10, 40]), 5
    spread, steps, recent, phase = np.empty(18), np.empty((18, H)), np.empty((18, 3)), np.empty((18, H))
    rounds = np.empty((18, R))
    window_stats(z, offsets, series, cuts, span, spans, 1, spread, steps, recent, phase, rounds)
    for j in range(18):
        want_spread, want_steps, want_recent, want_rounds = reference_stats(parts[series[j]][:cuts[j]], H, span,
                                                                            spans, R)
        np.testing.assert_allclose(spread[j], want_spread, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(steps[j], want_steps, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(recent[j], want_recent, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(rounds[j], want_rounds, rtol=1e-10, atol=1e-15)
    assert (phase == 1).all()                              # no season: no phase


def reference_phase(x: np.ndarray, H: int, m: int, seasons: int) -> np.ndarray:
    """The phase ratios of one prefix, written the obvious way: the seasonal changes of the last
    ``seasons`` seasons, grouped by the phase of their point."""
    n = len(x)
    out = np.ones(H)
    if m < 2 or n <= m:
        return out
    t = np.arange(max(m, n - seasons * m), n)              # points with a seasonal change, looked at
    change = np.abs(x[t] - x[t - m])
    if change.mean() <= 1e-12:
        return out
    for k in range(1, H + 1):
        same = (t - (n - 1 + k)) % m == 0                  # the phase of the k-th point after the prefix
        if same.any():
            out[k - 1] = change[same].mean() / change.mean()
    return out


@pytest.mark.parametrize("seed", range(4))
def test_phase_ratios_match_numpy_on_every_prefix(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 200, size=6)
    m = int(rng.choice([2, 4, 7, 12]))
    # a seasonal pattern whose noise depends on the phase
    parts = [np.sin(np.arange(n) * 2 * np.pi / m) + rng.normal(size=n) * (1 + 3 * (np.arange(n) % m == 1))
             for n in lengths]
    parts[0][:] = 4.0                                      # a constant series: no change at any phase
    z, offsets = np.concatenate(parts), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    series = np.repeat(np.arange(6), 3).astype(np.int64)
    cuts = np.minimum(rng.integers(1, 200, size=18), lengths[series]).astype(np.int64)
    H = 2 * m + 3
    spread, steps, recent, phase = np.empty(18), np.empty((18, H)), np.empty((18, 3)), np.empty((18, H))
    window_stats(z, offsets, series, cuts, 20, np.array([3, 10, 40]), m, spread, steps, recent, phase,
                 np.empty((18, 0)))
    for j in range(18):
        want = reference_phase(parts[series[j]][:cuts[j]], H, m, PHASE_SEASONS)
        np.testing.assert_allclose(phase[j], want, rtol=1e-10)
    assert (phase[series == 0] == 1).all()
    long = (cuts >= 8 * m) & (series > 0)                  # enough seasons: the noisy phase stands out
    if long.any():
        noisy = (cuts[long, None] - 1 + np.arange(1, H + 1)) % m == 1
        assert phase[long][noisy].min() > phase[long][~noisy].max()


def test_recent_spans_are_whole_seasons_of_at_least_eight_steps():
    assert recent_spans(1).tolist() == [8, 16, 32]
    assert recent_spans(24).tolist() == [24, 48, 96]
    assert len(recent_spans(7)) == len(RECENT) == ErrorScale.FEATURES - 5


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
    for name in ("spread", "steps", "recent", "history", "phase"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.history.tolist() == [60]                   # the points before the targets
    assert not np.allclose(a.y, b.y)                    # the targets did change
    whole = np.empty(1), np.empty((1, 6)), np.empty((1, 3)), np.empty((1, 6)), np.empty((1, ROUNDS - 1))
    window_stats(z, np.array([0, 80]), np.array([0]), np.array([80]), SPAN, recent_spans(1), 1, *whole)
    np.testing.assert_allclose(store.step_error, whole[1])      # and the store's own statistics use all of it
    np.testing.assert_allclose(store.recent_spread, whole[2])
    np.testing.assert_allclose(store.round_error, whole[4])


def heteroscedastic(n_series=300, H=3, seed=0, driver="steps", windows=2, m=1):
    """``windows`` windows per series whose errors scale (slope 1) with their series' step error, its
    first recent spread (``driver="recent"``) or the phase ratio of each target (``driver="phase"``,
    with ``m`` phases: each window starts at its own phase), and not with the rest. Returns
    ErrorScale.fit's arguments."""
    rng = np.random.default_rng(seed)
    series = np.repeat(np.arange(n_series), windows)
    level = np.exp(rng.uniform(-1.5, 1.5, n_series))[series]
    spread = np.exp(rng.normal(0, 0.3, n_series))[series]
    steps = spread[:, None] * np.exp(rng.normal(0, 0.3, n_series))[series, None] * np.sqrt(np.arange(1, H + 1))
    recent = spread[:, None] * np.exp(rng.normal(0, 0.3, (n_series, len(RECENT))))[series]
    by_phase = np.exp(rng.uniform(-1.5, 1.5, (n_series, m)))             # each series' own phase pattern
    start = rng.integers(0, m, len(series))
    phase = by_phase[series[:, None], (start[:, None] + np.arange(H)) % m]
    phase /= by_phase.mean(axis=1)[series, None]
    if driver == "steps":
        steps = steps * level[:, None]
        size = steps
    elif driver == "recent":
        recent[:, 0] *= level
        size = recent[:, :1] * np.sqrt(np.arange(1, H + 1))
    else:
        size = spread[:, None] * phase
    errors = np.abs(rng.standard_t(5, size=(len(series), H))) * size
    insample = np.exp(rng.normal(0, 0.5, n_series))[series]    # unrelated to the errors
    history = rng.integers(10, 500, n_series)[series]          # unrelated to the errors
    return errors, spread, steps, insample, history, recent, phase, series, m


def unit(scale, args, rows=slice(None)):
    """``scale.unit`` of the windows ``rows`` of heteroscedastic's ``args``."""
    _, spread, steps, insample, history, recent, phase, _, _ = args
    return scale.unit(spread[rows], steps[rows], insample[rows], history[rows], recent[rows], phase[rows])


@pytest.mark.parametrize("driver, feature", [("steps", 0), ("recent", 4), ("phase", ErrorScale.FEATURES - 1)])
def test_the_scale_model_finds_the_feature_the_errors_follow(driver, feature):
    args = heteroscedastic(driver=driver, m=1 if driver != "phase" else 12)
    errors = args[0]
    scale, scores = ErrorScale.fit(*args)
    assert 0.8 < scale.slopes[feature] < 1.15            # the driver
    others = np.delete(scale.slopes, [feature, 2])       # (the log spread shares the driver's spread)
    assert np.abs(others).max() < 0.2                    # the rest: noise here
    assert scores.shape == errors.shape and (scores >= 0).all()
    # the scores are errors over units fitted on the *other* folds' series: they differ from the
    # in-sample ones, and each fold's units come from a model that never saw it
    in_sample = errors / unit(scale, args)
    assert not np.allclose(scores, in_sample)
    assert 0.7 < np.median(scores) / np.median(in_sample) < 1.4


def test_each_folds_scores_come_from_a_scale_fitted_without_it():
    """Scaling one fold's errors scales its own scores by one factor a step (their units come from the
    other folds' fit, which never saw them; the factor is 5 over the change in the step factor all the
    scores are divided by), while every other fold's scores move each by its own (that fold is part of
    their fits)."""
    args = heteroscedastic(n_series=200)
    errors, series = args[0], args[7]
    fold = cross_folds(series)
    assert len(np.unique(fold)) == FOLDS
    _, scores = ErrorScale.fit(*args)
    changed = errors * np.where(fold == 3, 5.0, 1.0)[:, None]
    _, moved = ErrorScale.fit(changed, *args[1:])
    ratio = moved / scores
    np.testing.assert_allclose(ratio[fold == 3], np.broadcast_to(ratio[fold == 3][0], ratio[fold == 3].shape),
                               rtol=1e-9)
    others = ratio[fold != 3]
    assert not np.allclose(others, np.broadcast_to(others[0], others.shape), rtol=1e-3)    # their fits saw it


def test_one_extreme_score_does_not_widen_its_steps_intervals():
    """The step factor is the step's winsorised mean score: a window whose unit was misjudged by a factor
    of a thousand leaves its step's half-width where the others' are (the mean would multiply it)."""
    rng = np.random.default_rng(0)
    scores = np.abs(rng.normal(size=(1200, 3)))
    calm = conformal_halfwidth(scores, 95, 3, 3)
    scores[17, 0] = 3000.0
    wild = conformal_halfwidth(scores, 95, 3, 3)
    np.testing.assert_allclose(wild, calm, rtol=0.02)


def test_a_step_whose_errors_are_mostly_exact_does_not_widen_the_others():
    """More than half of one step's errors exactly 0 (a count forecast that hits): its median score is 0,
    and as the step factor it made that step's other scores, pooled, set every step's quantile (about
    1e12 here); the winsorised mean keeps each step within a factor of 2 of its own."""
    rng = np.random.default_rng(0)
    scores = np.abs(rng.normal(size=(300, 2)))
    calm = conformal_halfwidth(scores, 95, 2, 2)
    scores[:180, 0] = 0.0
    lumpy = conformal_halfwidth(scores, 95, 2, 2)
    assert lumpy[1] < 2 * calm[1]
    assert lumpy[0] <= calm[0] * 1.01
    covered = scores <= lumpy
    assert covered.mean() >= 0.95 and covered.mean(axis=0).min() >= 0.9      # pooled: 95 % of all the scores


def test_each_fit_removes_its_own_step_bias():
    """Two series: 20 windows whose second step errs ten times the first, and one window that errs
    alike at both. The fitted unit learns the tenfold step from both series; each series' scores come
    from a fit on the other (cross-fitting), so the first series' scores say its second step errs ten
    times more than *that* fit said. The step factor measured on those scores once multiplied the fitted
    unit, which knew it already: the second step's interval came out about 40 times the first's. Each
    fit's step bias is now taken out by itself."""
    rng = np.random.default_rng(0)
    errors = np.abs(rng.normal(size=(21, 2))) * [1.0, 10.0]
    errors[20] = [1.0, 1.0]
    n = len(errors)
    series = np.r_[np.zeros(20, np.int64), 1]
    spread, steps, history, recent = np.ones(n), np.ones((n, 2)), np.full(n, 30), np.ones((n, len(RECENT)))
    scale, scores = ErrorScale.fit(errors, spread, steps, np.full(n, 0.5), history, recent, np.ones((n, 2)), series)
    unit = scale.unit(spread[:1], steps[:1], np.array([0.5]), history[:1], recent[:1], np.ones((1, 2)))
    half = conformal_halfwidth(scores, 80, 2, 2) * unit[0]
    assert 5 < half[1] / half[0] < 20


def test_a_handful_of_series_keeps_intervals_proportional_to_the_spread():
    """The slopes are shrunk by a ridge worth KAPPA series: with 3 series (however many windows each)
    the data cannot outweigh it, so the unit stays close to spread * exp(a_k)."""
    args = heteroscedastic(n_series=3)
    many = np.repeat(np.arange(len(args[0])), 50)         # 50 windows per series: still 3 series
    small, _ = ErrorScale.fit(*(a[many] for a in args[:-1]), args[-1])
    big, _ = ErrorScale.fit(*heteroscedastic(n_series=600))
    assert np.abs(small.slopes).max() < 0.5 * abs(big.slopes[0])


def test_columns_past_the_horizon_reuse_a_step_with_their_own_phase():
    args = heteroscedastic(driver="phase", m=12)
    scale, _ = ErrorScale.fit(*args)
    _, spread, steps, insample, history, recent, phase, _, _ = args
    step = np.arange(7) % 3                                       # 7 columns from a horizon of 3
    own = np.exp(np.random.default_rng(1).uniform(-1, 1, (len(spread), 7)))
    ahead = scale.unit(spread, steps, insample, history, recent, own, step=step)
    base = scale.unit(spread, steps, insample, history, recent, phase)
    np.testing.assert_allclose(ahead, base[:, step] * (own / phase[:, step]) ** scale.slopes[-1], rtol=1e-10)


def test_a_recursive_step_grows_as_the_series_drift_error_does():
    """Past the horizon, step k = (r - 1) H + b takes network step b's unit times d_k / d_b: sqrt(k / b)
    for a random walk, about 1 for noise around a level, never below 1, and a random walk's without
    drift errors (a constant series)."""
    rng = np.random.default_rng(0)
    walk, noise = np.cumsum(rng.normal(size=4000)), rng.normal(size=4000)
    z, offsets = np.concatenate([walk, noise, np.full(50, 3.0)]), np.array([0, 4000, 8000, 8050])
    H, h = 4, 4 * ROUNDS + 8                                      # and two steps past the last round's end
    stats = np.empty(3), np.empty((3, H)), np.empty((3, 3)), np.empty((3, H)), np.empty((3, ROUNDS - 1))
    window_stats(z, offsets, np.arange(3), np.diff(offsets), 4000, recent_spans(1), 1, *stats)
    growth = recursion_growth(stats[1], stats[4], h)
    k = np.arange(1, h + 1)
    assert (growth[:, :H] == 1).all() and (growth >= 1).all()
    np.testing.assert_allclose(growth[0], np.sqrt(k / ((k - 1) % H + 1)), rtol=0.25)
    assert growth[1].max() < 1.25
    np.testing.assert_allclose(growth[2], np.sqrt(k / ((k - 1) % H + 1)))


def test_recursive_intervals_widen_for_a_random_walk_and_not_for_noise():
    """Forecaster(horizon=1) forecasting 12 steps: the random walks' intervals widen about as sqrt(k),
    the noisy levels' stay about as wide as their first step's and still cover (the rule before widened
    both by sqrt(k), the noise's intervals covering everything)."""
    rng = np.random.default_rng(3)
    n, h = 160, 12
    frames = []
    for j in range(40):
        y = np.cumsum(rng.normal(size=n + h)) + 50 if j % 2 else rng.normal(size=n + h) + 50
        frames.append(pd.DataFrame({"unique_id": f"{'walk' if j % 2 else 'noise'}{j}", "ds": np.arange(n + h), "y": y}))
    data = pd.concat(frames, ignore_index=True)
    past, future = data[data.ds < n], data[data.ds >= n]
    fc = Forecaster(hidden_size=8, ensemble_size=1, max_epochs=6, samples_per_epoch=512, random_state=0, n_threads=1,
                    progress=False).fit(past).predict(h, level=[80])
    fc = fc.merge(future, on=["unique_id", "ds"])
    width = (fc.yhat_hi_80 - fc.yhat_lo_80).to_numpy().reshape(40, h)
    walk = fc.unique_id.str.startswith("walk").to_numpy()[::h]
    assert np.median(width[walk, -1] / width[walk, 0]) > 2.5
    assert np.median(width[~walk, -1] / width[~walk, 0]) < 1.3
    inside = ((fc.y >= fc.yhat_lo_80) & (fc.y <= fc.yhat_hi_80)).to_numpy().reshape(40, h)
    assert 0.65 < inside[~walk].mean() < 0.95


def test_the_unit_reads_no_feature_far_past_the_windows_it_was_fitted_on():
    """A feature beyond the fitted windows' range, widened by one, is read at that edge: the slopes are
    not extrapolated (a new series of one point has a log history of 0)."""
    args = heteroscedastic()
    scale, _ = ErrorScale.fit(*args)
    errors, spread, steps, insample, history, recent, phase, _, _ = args
    low = scale.bounds[0, 3]                                      # the history feature: log min(n, SPAN)
    assert low == pytest.approx(np.log(history.min()) - 1) and scale.slopes[3] != 0
    one, edge = (scale.unit(spread, steps, insample, np.full(len(spread), n), recent, phase) for n in (1, np.exp(low)))
    np.testing.assert_allclose(one, edge, rtol=1e-12)
    inside = scale.unit(spread, steps, insample, history, recent, phase)
    np.testing.assert_array_equal(inside, ErrorScale(scale.intercepts, scale.slopes, scale.insample_fill,
                                                     scale.spread_center).unit(spread, steps, insample, history,
                                                                               recent, phase))


def test_a_new_series_of_one_or_two_points_gets_an_interval_like_the_fitted_ones():
    """A series too short to show its own step takes the fitted series' relative step, and the fitted
    frequency: before, one new point at a level of 100 got a 90 % interval 842 million wide (the
    unit's slopes extrapolated, and a spread of one log unit), and two dated points were an error."""
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2015-01", periods=60, freq="MS")
    df = pd.concat([pd.DataFrame({"unique_id": f"s{k}", "ds": stamps, "y": 100 + np.cumsum(rng.normal(size=60))})
                    for k in range(8)])
    model = Forecaster(hidden_size=8, ensemble_size=1, max_epochs=3, samples_per_epoch=256, random_state=0,
                       n_threads=1, progress=False, horizon=3).fit(df)
    fitted = model.predict(3, level=[90])
    typical = (fitted.yhat_hi_90 - fitted.yhat_lo_90).to_numpy().reshape(8, 3).mean(axis=0)
    for n in (1, 2):
        new = pd.DataFrame({"unique_id": "new", "ds": pd.date_range("2019-11", periods=n, freq="MS"),
                            "y": 100.0 + np.arange(n)})
        fc = model.predict(3, y=new, level=[90])
        assert list(fc.ds) == list(pd.date_range("2019-11", periods=n + 3, freq="MS")[n:])
        width = (fc.yhat_hi_90 - fc.yhat_lo_90).to_numpy()
        assert (width < 5 * typical).all() and (width > typical / 5).all()


def test_one_seasonal_series_learns_how_its_errors_vary_with_the_phase():
    """The phase ratio varies within a series, so its ridge is worth KAPPA series-phases, not KAPPA
    series: one hourly series with 200 windows learns it (the other slopes stay shrunk)."""
    args = heteroscedastic(n_series=1, H=24, driver="phase", windows=200, m=24)
    scale, _ = ErrorScale.fit(*args)
    assert 0.6 < scale.slopes[-1] < 1.15
    assert np.abs(scale.slopes[:-1]).max() < 0.2


def test_one_series_is_scored_in_sample_and_a_missing_in_sample_error_takes_the_median():
    rng = np.random.default_rng(1)
    errors = np.abs(rng.normal(size=(40, 4)))
    spread, steps, history, recent = np.ones(40), np.ones((40, 4)), np.full(40, 30), np.ones((40, len(RECENT)))
    insample, phase = np.full(40, 0.5), np.ones((40, 4))
    one = np.zeros(40, np.int64)
    scale, scores = ErrorScale.fit(errors, spread, steps, insample, history, recent, phase, one)
    np.testing.assert_allclose(scores, errors / scale.unit(spread, steps, insample, history, recent, phase))
    assert scale.insample_fill == pytest.approx(np.log(0.5))
    np.testing.assert_allclose(scale.unit(spread[:1], steps[:1], np.array([np.nan]), history[:1], recent[:1], phase[:1]),
                               scale.unit(spread[:1], steps[:1], np.array([0.5]), history[:1], recent[:1], phase[:1]))
    exact = errors.copy()
    exact[:5] = 0.0                                        # exact hits: no log, but a score of 0
    _, scores = ErrorScale.fit(exact, spread, steps, insample, history, recent, phase, one)
    assert (scores[:5] == 0).all() and np.isfinite(scores).all()


def test_a_long_history_counts_as_the_span_its_statistics_rest_on():
    """History enters as log min(n, SPAN): a series of 10,000 points is described like one of SPAN."""
    x = ErrorScale.features(np.ones(3), np.ones((3, 2)), np.ones(3), np.array([12, SPAN, 10_000]),
                            np.ones((3, len(RECENT))), np.ones((3, 2)), 0.0, 0.0)
    assert x[0, 0, 3] == pytest.approx(np.log(12)) and x[1, 0, 3] == x[2, 0, 3] == pytest.approx(np.log(SPAN))


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
    """Errors, spreads, step errors and recent spreads all in units a million times larger (scaler=None
    on big numbers): the same slopes and scores, and a unit a million times larger."""
    args = heteroscedastic()
    errors, spread, steps, insample, history, recent, phase, series, m = args
    scale, scores = ErrorScale.fit(*args)
    big_args = (errors * 1e6, spread * 1e6, steps * 1e6, insample, history, recent * 1e6, phase, series, m)
    big, big_scores = ErrorScale.fit(*big_args)
    np.testing.assert_allclose(big.slopes, scale.slopes, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(big_scores, scores, rtol=1e-6)
    np.testing.assert_allclose(unit(big, big_args, slice(5)), 1e6 * unit(scale, args, slice(5)), rtol=1e-6)


def test_a_series_without_steps_borrows_steps_measured_against_the_lenders_size():
    """A one-point series borrows the fitted series' step relative to their level: series crossing 0
    whose last value lies near it have steps many times that value, not many times their size (before,
    a one-point series at 10 lent steps 10,000 times its level got an overflowing interval)."""
    rng = np.random.default_rng(0)
    lenders = [np.append(rng.normal(size=59), 1e-4) for _ in range(8)]
    df = pd.concat([pd.DataFrame({"unique_id": f"s{k}", "ds": np.arange(60), "y": y}) for k, y in enumerate(lenders)])
    model = Forecaster(hidden_size=8, ensemble_size=1, max_epochs=3, samples_per_epoch=256, random_state=0,
                       n_threads=1, progress=False, horizon=3).fit(df)
    fc = model.predict(3, y=pd.DataFrame({"unique_id": ["new"], "ds": [59], "y": [10.0]}), level=[90])
    assert np.isfinite(fc.yhat_hi_90).all() and (fc.yhat_hi_90 < 1000).all() and (fc.yhat_lo_90 > 0.01).all()


def test_steady_series_beside_intermittent_ones_keep_intervals_of_their_own_size():
    """The unit follows the mean error (a Laplace likelihood), not the geometric mean: intermittent
    series, whose errors are mostly near 0 and sometimes 1, got units far below their mean error, their
    scores a long tail, and the pooled quantile gave steady sellers beside them 95 % intervals millions
    of units wide for day-to-day noise of a few units (the default network, which fits the zero days
    closely)."""
    model, fc = retail_panel_forecast()
    steady = fc[fc.kind == 2]
    assert (steady.yhat_hi_95 - steady.yhat_lo_95).mean() < 100    # 22 (32 pooled); 1,219 with the log fit


@functools.lru_cache(maxsize=1)
def retail_panel_forecast():
    """20 never-sold, 20 intermittent (Poisson, 0.3 a day, twice that at weekends) and 20 steady
    (Poisson, 20, 30 at weekends) daily series of 200 days: the model fitted on the first 186 and its
    80 % and 95 % intervals for the last 14, with the test values (``y``) and each series' kind."""
    rng = np.random.default_rng(0)
    day = pd.date_range("2023-01-01", periods=200, freq="D")
    rows = []
    for k in range(60):
        kind = k % 3
        rate = ((0.0, 0.3, 20.0)[kind] * (1 + (0.0, 1.0, 0.5)[kind] * (day.dayofweek >= 5)))
        rows.append(pd.DataFrame({"unique_id": f"p{k}", "ds": day, "y": rng.poisson(rate).astype(float), "kind": kind}))
    data = pd.concat(rows, ignore_index=True)
    train, test = data[data.ds < day[186]], data[data.ds >= day[186]]
    model = Forecaster(horizon=14, season_length=7, nonnegative=True, random_state=0, progress=False)
    model.fit(train[["unique_id", "ds", "y"]])
    forecast = model.predict(14, level=[80, 95], quantiles=[0.025, 0.1, 0.5, 0.9, 0.975])
    return model, forecast.merge(test, on=["unique_id", "ds"])


def test_intermittent_series_are_calibrated_apart_from_steady_ones():
    """Mondrian conformal: the intermittent series' scores set their own quantile, the steady ones'
    theirs. Pooled, intermittent series under-covered (95 %: 0.871, 80 %: 0.686) and steady ones
    over-covered (0.993, 0.879); apart, 0.921 / 0.729 and 0.957 / 0.850; with the intermittent ones'
    upper ends at their upper tail's quantile (``conformal_tails``), 0.946 / 0.854. A group of fewer
    than ``GROUP_SCORES`` scores takes the pooled quantile, at every level."""
    model, fc = retail_panel_forecast()
    assert set(model.residual_groups_) == {0, 1}
    inside = {lv: (fc.y >= fc[f"yhat_lo_{lv}"]) & (fc.y <= fc[f"yhat_hi_{lv}"]) for lv in (80, 95)}
    intermittent, steady = fc.kind == 1, fc.kind == 2
    assert inside[95][intermittent].mean() >= 0.93 and inside[95][steady].mean() <= 0.98
    assert inside[80][intermittent].mean() >= 0.80 and inside[80][steady].mean() <= 0.87
    scores = np.random.default_rng(0).normal(size=(90, 2)) * np.repeat([1.0, 3.0], [60, 30])[:, None]
    groups = np.repeat([0, 1], [60, 30])                     # group 1: 60 scores, fewer than GROUP_SCORES
    lower, upper = conformal_ends(scores, groups, np.array([0, 1]), 95, 2, 2)
    np.testing.assert_array_equal(upper[0], conformal_halfwidth(np.abs(scores[:60]), 95, 2, 2))
    np.testing.assert_array_equal(upper[1], conformal_halfwidth(np.abs(scores), 95, 2, 2))
    np.testing.assert_array_equal(lower, -upper)             # steady and pooled: symmetric
    for a in range(40, 100, 10):                              # whichever way a group goes, at every level:
        for b in (1, 5, 10, 20, 50):                          # nested, as the quantiles must not cross
            few = np.repeat([0, 1], [a, b])                   # (b = 50: group 1 has 100 scores, its own tails)
            mixed = np.random.default_rng(a + b).normal(size=(a + b, 2)) * (1 + 2 * few[:, None]) + few[:, None]
            (lo50, hi50), (lo90, hi90) = (conformal_ends(mixed, few, np.array([0, 1]), lv, 2, 2) for lv in (50, 90))
            assert (lo90 <= lo50).all() and (lo50 <= 0).all() and (hi90 >= hi50).all() and (hi50 >= 0).all()


def test_an_intermittent_groups_interval_reaches_as_far_as_its_upper_tail():
    """Zero-inflated errors (a small overshoot on 70 % of the days, a sale of 1, 2, .. above the forecast
    on the rest): the symmetric interval's upper end is the ``level`` quantile of the errors' sizes,
    the interval score's optimum is the ``(1 + level) / 2`` quantile of the errors. The intermittent
    group's interval keeps the symmetric lower end, reaches the upper tail's quantile, covers at least
    the level on new draws and scores better; on the retail panel its series' quantiles are its
    interval ends and do not cross."""
    rng = np.random.default_rng(0)

    def draw(n):
        sale = rng.random((n, 2)) < 0.3
        return np.where(sale, rng.geometric(0.5, (n, 2)) - 0.2, -0.2)

    calibration, test = draw(500), draw(20000)
    for level in (80, 95):
        lower, upper = conformal_tails(calibration, level, 2, 2)
        half = conformal_halfwidth(np.abs(calibration), level, 2, 2)
        np.testing.assert_array_equal(lower, -half)
        assert (upper > half).all()
        alpha = 1 - level / 100

        def score(lo, hi):
            return np.mean(hi - lo + 2 / alpha * (np.maximum(lo - test, 0) + np.maximum(test - hi, 0)))
        assert ((test >= lower) & (test <= upper)).mean() >= level / 100
        assert score(lower, upper) < 0.97 * score(-half, half)      # 10 % better at 80 %, 5 % at 95 %
    _, fc = retail_panel_forecast()
    slow = fc[fc.kind == 1]
    np.testing.assert_array_equal(slow["yhat_q0.1"], slow.yhat_lo_80)
    np.testing.assert_array_equal(slow["yhat_q0.975"], slow.yhat_hi_95)
    ordered = slow[["yhat_q0.025", "yhat_q0.1", "yhat_q0.5", "yhat_q0.9", "yhat_q0.975"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all() and (slow.yhat_hi_80 > slow.yhat).all()


def test_a_misjudged_series_is_calibrated_apart_and_does_not_widen_the_others(tmp_path):
    """A level of 100 that stepped by 0.1 twice, beside six seasonal series and a log-scaled series of 1s
    and 9s: the network forecasts it to about 1 % of its level, which is hundreds of its tiny spreads,
    and no feature of the unit says so. Its windows held 6 % of the scores; pooled, they set the 95 %
    quantile of every series (before: the 1s-and-9s series' interval about 1e15 times its range, the
    seasonal ones' up to 81 times theirs). Calibrated on its own errors (group 2), it keeps an interval
    a few % of its level wide and the others get theirs back."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    frames = [pd.DataFrame({"unique_id": f"s{k}", "ds": t,
                            "y": 20 + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(size=60)}) for k in range(6)]
    frames.append(pd.DataFrame({"unique_id": "ones and nines", "ds": t, "y": np.where(rng.random(60) < 0.5, 1.0, 9.0)}))
    flat = np.full(40, 100.0)
    flat[13:] += 0.1
    flat[29:] += 0.1
    frames.append(pd.DataFrame({"unique_id": "flat", "ds": t[:40], "y": flat}))
    df = pd.concat(frames, ignore_index=True)
    model = Forecaster(horizon=6, season_length=7, random_state=0, progress=False, n_threads=1).fit(df)
    groups = dict(zip(model.panel_.ids, model.interval_groups_.tolist()))
    assert groups.pop("flat") == 2 and set(groups.values()) == {0}
    fc = model.predict(6, level=[80, 95])
    span = df.groupby("unique_id").y.agg(lambda v: v.max() - v.min())
    width = (fc.yhat_hi_95 - fc.yhat_lo_95).groupby(fc.unique_id).max()
    assert (width.drop("flat") < 3 * span.drop("flat")).all()
    assert (width["flat"] < 5) and (fc[fc.unique_id == "flat"].yhat_lo_80 < 100.2).all()
    assert ((fc.yhat_hi_95 >= fc.yhat_hi_80) & (fc.yhat_lo_95 <= fc.yhat_lo_80)).all()
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(6, level=[80, 95]), fc)
    scores = np.r_[np.ones((20, 2)), np.full((2, 2), 9.0), np.full((2, 2), 11.0)]      # 10 times the median: no
    flagged = misjudged_series(scores, np.repeat([0, 1, 2, 3], [10, 10, 2, 2]), np.zeros(4, np.int64))
    assert flagged.tolist() == [False, False, False, True]


def test_constant_series_do_not_calibrate_the_intervals_of_the_others():
    """A constant series is forecast by its value, not by the networks: its held-out windows stay out of
    the calibration (before, fifteen zero-sales series set every step's interval factor, and the one
    series that varied got intervals from them). A panel of constant series only keeps them all."""
    rng = np.random.default_rng(0)
    varying = pd.DataFrame({"unique_id": "v", "ds": np.arange(48), "y": 50 + np.cumsum(rng.normal(size=48))})
    zeros = pd.DataFrame({"unique_id": np.repeat([f"z{k}" for k in range(15)], 48), "ds": np.tile(np.arange(48), 15),
                          "y": 0.0})
    settings = dict(hidden_size=8, ensemble_size=1, max_epochs=3, samples_per_epoch=256, random_state=0, n_threads=1,
                    progress=False, horizon=3)
    alone = Forecaster(**settings).fit(varying)
    model = Forecaster(**settings).fit(pd.concat([varying, zeros]))
    assert model.residuals_.shape == alone.residuals_.shape            # the varying series' windows only
    fc = model.predict(3, level=[80, 95])
    v = fc[fc.unique_id == "v"]
    width, own = (v.yhat_hi_95 - v.yhat_lo_95).to_numpy(), np.abs(np.diff(varying.y)).mean()
    assert ((width > own) & (width < 20 * own)).all()
    only = Forecaster(**settings).fit(zeros).predict(3, level=[95])     # nothing else to calibrate on
    assert np.isfinite(only.yhat_hi_95).all() and (only.yhat == 0).all()


def test_a_level_without_enough_errors_is_never_narrower_than_a_lower_one():
    """Eight scores resolve levels up to 8 / 9: above, the normal approximation from their RMS stands in,
    but never below the widest score, which the 80 % interval takes (before: 90 % narrower than 80 %)."""
    scores = np.array([[1.0]] * 7 + [[5.0]])
    with pytest.warns(UserWarning, match="held-out errors for a conformal interval") as caught:
        widths = [conformal_halfwidth(scores, lv, 1, 1)[0] for lv in (50, 80, 90, 99)]
    assert len(caught) == 2 and widths[1] == pytest.approx(5.0) and np.all(np.diff(widths) >= 0)


def test_the_errors_a_level_needs_are_counted_exactly_and_symmetric_quantiles_share_their_interval():
    """99.9 % resolves with 999 scores (rank ceil(1000 * 0.999) = 999), whatever 99.9's binary rounding;
    the quantiles 0.001 and 0.999 both end the 99.8 % interval: one level, one warning, mirrored ends."""
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conformal_halfwidth(np.abs(rng.normal(size=(999, 1))), 99.9, 1, 1)
    with pytest.warns(UserWarning, match="level 99.9 needs at least 999 held-out errors"):
        conformal_halfwidth(np.abs(rng.normal(size=(998, 1))), 99.9, 1, 1)
    y = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 60), "ds": np.tile(np.arange(60), 2),
                      "y": np.r_[np.sin(np.arange(60) / 3) * 5, np.cos(np.arange(60) / 4) * 3] + 10})
    model = Forecaster(horizon=3, hidden_size=4, ensemble_size=1, max_epochs=2, scaler="standard",
                       random_state=0, progress=False).fit(y)          # a linear scale: the ends mirror
    with pytest.warns(UserWarning) as caught:
        fc = model.predict(3, quantiles=[0.001, 0.999])
    assert {str(w.message) for w in caught} == {str(caught[0].message)}
    assert "level 99.8 needs at least 499 held-out errors" in str(caught[0].message)
    np.testing.assert_allclose(fc["yhat_q0.999"] - fc.yhat, fc.yhat - fc["yhat_q0.001"], rtol=1e-12)


def test_a_level_below_1_is_warned_about_as_a_probability_meant_as_a_percentage():
    with pytest.warns(UserWarning, match="for 95 % pass 95"):
        assert check_levels(0.95) == [0.95]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_levels([1, 50, 99.5]) == [1.0, 50.0, 99.5]
