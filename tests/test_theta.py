"""The Theta kernel (``tsrnn/theta.py``) against a plain numpy Theta method, and its use in gathered samples."""
import numpy as np
import pytest

from tsrnn.store import Layout, SeriesStore
from tsrnn.theta import line_forecasts, store_lines, theta_lines
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


@pytest.mark.parametrize("seed", range(8))
def test_theta_lines_match_a_brute_force_theta_method(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 80, size=5)
    parts = [np.cumsum(rng.normal(rng.normal(), 1, n)) + rng.normal(0, rng.uniform(0, 3), n) for n in lengths]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    got = line_forecasts(store_lines(np.concatenate(parts), offsets), 1, 6)
    for i, x in enumerate(parts):
        np.testing.assert_allclose(got[i], reference_theta(x, 6), atol=1e-3 * x.std())


def test_known_answers_a_line_a_constant_and_one_point():
    z = np.concatenate([np.arange(10.0), np.full(5, 3.0), [7.0]])
    lines = store_lines(z, np.array([0, 10, 15, 16]))
    np.testing.assert_allclose(line_forecasts(lines, 1, 3), [[9.5, 10, 10.5], [3, 3, 3], [7, 7, 7]])
    np.testing.assert_allclose(line_forecasts(lines, 4, 1)[:, 0], [11, 3, 7])    # k = 4 continues the line


def test_a_cut_is_the_theta_of_the_series_prefix():
    rng = np.random.default_rng(0)
    z = np.cumsum(rng.normal(size=50))
    offsets = np.array([0, 20, 50])
    out = np.empty((3, 2))
    theta_lines(z, offsets, np.array([1, 1, 0]), np.array([12, 30, 20]), out)
    np.testing.assert_allclose(out[0], store_lines(z[20:32], np.array([0, 12]))[0])
    np.testing.assert_allclose(out[1], store_lines(z[20:50], np.array([0, 30]))[0])
    np.testing.assert_allclose(out[2], store_lines(z[:20], np.array([0, 20]))[0])


def test_gathered_samples_carry_the_theta_forecast_of_their_targets_in_their_units():
    rng = np.random.default_rng(1)
    lengths = np.array([30, 18])
    y = np.exp(np.cumsum(rng.normal(0.02, 0.1, lengths.sum())))
    store = SeriesStore.prepare(y, np.concatenate([[0], np.cumsum(lengths)]), "window", 1, False, theta=True)
    layout = Layout(window=8, horizon=3, span=1)
    series, ends = np.array([0, 1, 0]), np.array([30, 15, 20])
    s = gather_samples(store, series, ends, layout, theta=True)
    for j, (i, e) in enumerate(zip(series, ends)):
        start = store.offsets[i]
        prefix = store.z[start:start + e - 3]                    # the points before the sample's targets
        want = line_forecasts(store_lines(prefix, np.array([0, len(prefix)])), 1, 3)[0] - s.level[j]
        np.testing.assert_allclose(s.theta[j], want)
    assert gather_samples(store, series, ends, layout).theta is None
    np.testing.assert_allclose(store.theta, store_lines(store.z, store.offsets))       # the whole histories
    np.testing.assert_array_equal(store.tail(8).theta, store.theta)                    # kept by the tail
