"""The blend's statistical forecasts (``tsrnn/blend.py``) against plain numpy Theta, damped-trend and
exponential smoothing methods, and their use in gathered samples."""
import itertools

import numpy as np
import pytest

from tsrnn.blend import HISTORY, KINDS, curve_forecasts, fit_curves, partner_curves, store_curves
from tsrnn.store import Layout, SeriesStore
from tsrnn.training import gather_samples


def reference_theta(x: np.ndarray, h: int) -> np.ndarray:
    """Theta by brute force: SES's alpha is the best of a fine grid (least one-step squared error,
    l_0 = x_1), then f_k = l_n + b/2 (k - 1 + 1/alpha - (1 - alpha)^n / alpha)."""
    n = len(x)
    b = np.polyfit(np.arange(n), x, 1)[0]
    alphas = np.linspace(0.01, 1.0, 4001)
    level, sse = np.full_like(alphas, x[0]), np.zeros_like(alphas)
    for v in x[1:]:
        e = v - level
        sse += e * e
        level += alphas * e
    j = int(np.argmin(sse))
    a, k = alphas[j], np.arange(1, h + 1)
    return level[j] + 0.5 * b * (k - 1 + 1 / a - (1 - a) ** n / a)


def reference_damped(x: np.ndarray, h: int) -> np.ndarray:
    """The damped trend, one candidate at a time in plain Python, each forecast summed term by term:
    f_k = l_n + b_n (phi + ... + phi^k)."""
    q = min(len(x) - 1, 4)
    best = (np.inf, None)
    for alpha, beta, phi in itertools.product([0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9], [0.0, 0.05, 0.15, 0.4],
                                              [0.8, 0.9, 0.95, 0.98]):
        level, trend, sse = x[0], (x[q] - x[0]) / q, 0.0
        for v in x[1:]:
            e = v - (level + phi * trend)
            sse += e * e
            level, trend = level + phi * trend + alpha * e, phi * trend + alpha * beta * e
        if sse < best[0]:
            best = (sse, [level + trend * sum(phi ** i for i in range(1, k + 1)) for k in range(1, h + 1)])
    return np.array(best[1])


def reference_ets(x: np.ndarray, h: int) -> np.ndarray:
    """Exponential smoothing by brute force: for every (alpha, beta, phi) of the grid, the initial level
    and trend that minimise the one-step squared error, found by a general optimiser on the plain
    recursion (no use of its linearity); each form's best candidate; the form with the least AICc
    (parameters: N 2, A 4, Ad 5, and sigma); its forecast summed term by term."""
    from scipy.optimize import minimize

    def sse(s0, alpha, beta, phi, trend):
        level, slope, total = s0[0], s0[1] if trend else 0.0, 0.0
        for v in x:
            f = level + phi * slope
            e = v - f
            total += e * e
            level, slope = f + alpha * e, phi * slope + alpha * beta * e
        return total

    forms = {}
    for alpha in [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99]:
        candidates = [(0.0, 0.0, "N")] + [(beta, phi, "A" if phi == 1 else "Ad") for beta in [0.01, 0.05, 0.15, 0.4]
                                         for phi in [0.8, 0.9, 0.95, 0.98, 1.0]]
        for beta, phi, form in candidates:
            trend = form != "N"
            start = np.array([x[0], x[1] - x[0]])
            fit = minimize(sse, start, args=(alpha, beta, phi, trend), method="BFGS", options={"gtol": 1e-10})
            if fit.fun < forms.get(form, (np.inf,))[0]:
                forms[form] = (fit.fun, alpha, beta, phi, fit.x if trend else np.array([fit.x[0], 0.0]))
    n = len(x)

    def aicc(form):
        q = {"N": 2, "A": 4, "Ad": 5}[form] + 1
        return n * np.log(forms[form][0] / n) + 2 * q + 2 * q * (q + 1) / (n - q - 1)
    _, alpha, beta, phi, (level, slope) = forms[min(forms, key=aicc)]
    for v in x:                                       # the states at the series' end
        f = level + phi * slope
        level, slope = f + alpha * (v - f), phi * slope + alpha * beta * (v - f)
    return np.array([level + slope * sum(phi ** i for i in range(1, k + 1)) for k in range(1, h + 1)])


def panel(seed: int):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 80, size=5)
    parts = [np.cumsum(rng.normal(rng.normal(), 1, n)) + rng.normal(0, rng.uniform(0, 3), n) for n in lengths]
    return parts, np.concatenate([[0], np.cumsum(lengths)])


@pytest.mark.parametrize("seed", range(8))
def test_theta_curves_match_a_brute_force_theta_method(seed):
    parts, offsets = panel(seed)
    got = curve_forecasts(store_curves(np.concatenate(parts), offsets, "theta"), 1, 6)
    for i, x in enumerate(parts):
        np.testing.assert_allclose(got[i], reference_theta(x, 6), atol=1e-3 * x.std())


@pytest.mark.parametrize("seed", range(8))
def test_theta_damped_curves_are_the_mean_of_theta_and_a_brute_force_damped_trend(seed):
    parts, offsets = panel(seed)
    got = curve_forecasts(store_curves(np.concatenate(parts), offsets, "theta+damped"), 1, 9)
    for i, x in enumerate(parts):
        want = 0.5 * (reference_theta(x, 9) + reference_damped(x, 9))
        np.testing.assert_allclose(got[i], want, atol=1e-3 * x.std())


@pytest.mark.parametrize("seed", range(4))
def test_ets_curves_match_a_brute_force_exponential_smoothing(seed):
    parts, offsets = panel(seed)
    got = curve_forecasts(store_curves(np.concatenate(parts), offsets, "ets"), 1, 9)
    for i, x in enumerate(parts):
        if len(x) >= 8:                               # the reference's AICc needs n > 6 points for every form
            np.testing.assert_allclose(got[i], reference_ets(x, 9), atol=1e-5 * x.std())


def test_ets_fits_the_initial_states_a_line_and_a_damped_curve_exactly():
    """A straight line is Holt's forecast with any alpha and beta once its initial level and slope are
    fitted (the errors are all 0), and a noiseless damped trend is recovered from its own points."""
    line = 5.0 - 0.3 * np.arange(40)
    np.testing.assert_allclose(curve_forecasts(store_curves(line, np.array([0, 40]), "ets"), 1, 5)[0],
                               5.0 - 0.3 * np.arange(40, 45), atol=1e-6)
    phi, t = 0.9, np.arange(60)
    damped = 2.0 + 3.0 * (1 - phi ** (t + 1)) / (1 - phi)     # l_t = l_{t-1} + phi^t b_0, l_0 = 2, b_0 = 3 / phi
    curve = store_curves(damped, np.array([0, 60]), "ets")[0]
    want = damped[-1] + 3.0 * phi ** 59 * phi * (1 - phi ** np.arange(1, 6)) / (1 - phi)    # b_60 = phi^60 b_0
    np.testing.assert_allclose(curve_forecasts(curve[None], 1, 5)[0], want, atol=1e-6)


def test_known_answers_a_line_a_constant_and_short_series():
    z = np.concatenate([np.arange(10.0), np.full(5, 3.0), [7.0], [1.0, 2.0]])
    offsets = np.array([0, 10, 15, 16, 18])
    theta = store_curves(z, offsets, "theta")
    np.testing.assert_allclose(curve_forecasts(theta, 1, 3)[:3], [[9.5, 10, 10.5], [3, 3, 3], [7, 7, 7]])
    np.testing.assert_allclose(curve_forecasts(theta, 4, 1)[:3, 0], [11, 3, 7])   # k = 4 continues the line
    both = curve_forecasts(store_curves(z, offsets, "theta+damped"), 1, 200)
    # a constant stays constant; one point, or two (too few for a trend), give Theta's and a flat line's mean
    np.testing.assert_allclose(both[1:3], [[3] * 200, [7] * 200])
    np.testing.assert_allclose(both[3], 0.5 * (curve_forecasts(theta, 1, 200)[3] + 2))
    # a straight line: the damped trend goes on rising, less than the line does, and flattens out
    damped = 2 * both[0] - curve_forecasts(theta, 1, 200)[0]
    steps = np.diff(np.concatenate([[9.0], damped]))
    assert np.all(steps > 0) and np.all(steps <= 1) and np.all(np.diff(steps) < 0) and steps[-1] < 0.05 * steps[0]


@pytest.mark.parametrize("blend", KINDS)
def test_a_cut_is_the_forecast_of_the_series_prefix(blend):
    rng = np.random.default_rng(0)
    z = np.cumsum(rng.normal(size=50))
    offsets = np.array([0, 20, 50])
    out = np.empty((3, 4))
    partner_curves(z, offsets, np.array([1, 1, 0]), np.array([12, 30, 20]), KINDS.index(blend), out)
    np.testing.assert_allclose(out[0], store_curves(z[20:32], np.array([0, 12]), blend)[0])
    np.testing.assert_allclose(out[1], store_curves(z[20:50], np.array([0, 30]), blend)[0])
    np.testing.assert_allclose(out[2], store_curves(z[:20], np.array([0, 20]), blend)[0])


@pytest.mark.parametrize("blend", KINDS)
def test_gathered_samples_carry_the_statistical_forecast_of_their_targets_in_their_units(blend):
    rng = np.random.default_rng(1)
    lengths = np.array([30, 18])
    y = np.exp(np.cumsum(rng.normal(0.02, 0.1, lengths.sum())))
    store = SeriesStore.prepare(y, np.concatenate([[0], np.cumsum(lengths)]), "window", 1, False, blend=blend)
    layout = Layout(window=8, horizon=3, span=1)
    series, ends = np.array([0, 1, 0]), np.array([30, 15, 20])
    s = gather_samples(store, series, ends, layout, blend=blend)
    for j, (i, e) in enumerate(zip(series, ends)):
        start = store.offsets[i]
        prefix = store.z[start:start + e - 3]                    # the points before the sample's targets
        want = curve_forecasts(store_curves(prefix, np.array([0, len(prefix)]), blend), 1, 3)[0] - s.level[j]
        np.testing.assert_allclose(s.statistical[j], want)
    assert gather_samples(store, series, ends, layout).statistical is None
    np.testing.assert_allclose(store.curves, store_curves(store.z, store.offsets, blend))   # the whole histories
    np.testing.assert_array_equal(store.tail(8).curves, store.curves)                     # kept by the tail


@pytest.mark.parametrize("blend", KINDS)
def test_a_long_history_is_fitted_on_its_last_history_points(blend):
    rng = np.random.default_rng(2)
    z = np.cumsum(rng.normal(0.1, 1, 3 * HISTORY))
    out = np.empty((2, 4))
    partner_curves(z, np.array([0, len(z)]), np.array([0, 0]), np.array([len(z), HISTORY + 7]),
                   KINDS.index(blend), out)
    np.testing.assert_array_equal(out[0], store_curves(z[-HISTORY:], np.array([0, HISTORY]), blend)[0])
    np.testing.assert_array_equal(out[1], store_curves(z[7:HISTORY + 7], np.array([0, HISTORY]), blend)[0])
    assert not np.array_equal(out[0], out[1])


@pytest.mark.parametrize("blend", KINDS)
def test_curves_fitted_on_several_threads_are_the_ones_fitted_on_one(blend):
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 40, size=3000)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    z = np.cumsum(rng.normal(size=offsets[-1]))
    series = rng.permutation(3000)
    cuts = np.maximum(1, lengths[series] - rng.integers(0, 5, size=3000))
    one = fit_curves(z, offsets, series, cuts, blend, threads=1)
    np.testing.assert_array_equal(fit_curves(z, offsets, series, cuts, blend, threads=4), one)
    np.testing.assert_array_equal(one[:7], fit_curves(z, offsets, series[:7], cuts[:7], blend))
