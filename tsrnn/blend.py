"""The statistical forecasts the Forecaster's networks are blended with (``Forecaster(blend=...)``, see
``docs/forecaster.md``): the Theta method, and the mean of Theta and a damped trend.

**Theta** (Assimakopoulos & Nikolopoulos 2000) in Hyndman & Billah's form (2003). Of a seasonally
adjusted series x_1 .. x_n, the forecast k steps after its end is simple exponential smoothing's last
level plus half the slope of the least-squares line through the series:

    l_t = l_{t-1} + alpha (x_t - l_{t-1}),   l_0 = x_1        alpha: least one-step squared error, in [0.01, 1]
    b   = sum_t (t - tbar)(x_t - xbar) / sum_t (t - tbar)^2
    f_k = l_n + b/2 (k - 1 + 1/alpha - (1 - alpha)^n / alpha)  =  a + slope k,   slope = b/2

**Damped trend** (Gardner & McKenzie 1985; ETS(A,Ad,N) in Hyndman's form):

    f_t = l_{t-1} + phi b_{t-1}                  one-step forecast, e_t = x_t - f_t
    l_t = f_t + alpha e_t
    b_t = phi b_{t-1} + alpha beta e_t           l_0 = x_1, b_0 = (x_{1+q} - x_1) / q, q = min(n - 1, 4)
    f_k = l_n + b_n (phi + phi^2 + ... + phi^k) = l_n + b_n phi / (1 - phi) (1 - phi^k)

(alpha, beta, phi): the least one-step squared error over a grid of 7 x 4 x 4, phi in [0.8, 0.98] (the
range the forecast package allows, so the trend always flattens out). All 112 candidates run in one
pass over the series, side by side (an inner loop the compiler vectorises), so a damped fit costs less
than a Theta fit (100,000 series of 180 points, one core: 0.7 s against 1.6 s).

Both read a series' last ``HISTORY`` (512) points at most, so their cost per series is bounded.

**Their mean** (``blend="theta+damped"``, the default) is M4's lesson twice over: combinations beat
single methods, and Theta's straight line and the damped trend's flattening one err differently.
Measured on the M4 dev sample with the same fitted networks (3 seeds), the best blend's mean absolute
held-out error, each in its series' spread: Yearly 1.676-1.686 with Theta, 1.649-1.653 with the mean;
Quarterly 1.787-1.799 and 1.762-1.770; Monthly 1.571-1.606 and 1.551-1.588. A grid of 384 (alpha and
beta up to 1) scored the same within 0.4 % at 3.4 times the cost.

Every forecast is kept as four numbers per series, a **curve** (``c0, c1, c2, phi``):

    f_k = c0 + c1 k + c2 (1 - phi^k)      Theta: (a, slope, 0, 0); the mean: half of each

The prepared series are what the network reads (``tsrnn/store.py``): scaled, log for strictly positive
series, seasonal indices removed. The statistical forecasts there are on the log scale, and they are
blended with the network's in the same units, so the blend's held-out errors calibrate the intervals
as the network's alone did. Array-only and jitted, one series (or one cut of a series) per loop
iteration, nothing allocated per series.

Example
-------
>>> import numpy as np
>>> curves = store_curves(np.arange(10.0), np.array([0, 10]), "theta")   # a straight line, 0 .. 9
>>> np.round(curve_forecasts(curves, 1, 3), 6).tolist()                   # continued at half its slope
[[9.5, 10.0, 10.5]]
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._config import JIT

__all__ = ["KINDS", "HISTORY", "partner_curves", "fit_curves", "store_curves", "curve_forecasts"]

KINDS = ("theta+damped", "theta")      # the statistical forecasts a blend can use
# The statistical forecasts read each series' last HISTORY points at most: their cost is then bounded per
# series, whatever its length. They run on every series and on the prefix of every held-out window and of
# each series' last training windows (the intervals' in-sample error), which on long histories was much
# of a fit: on M5's shape (30,490 daily series of 1,941 days, 61,000 such windows; a 40 s fit) the fits on
# those windows took 14.2 s with every point, 4.0 s with the last 512 (random walks of that shape, one
# core). On the M4 dev sample only Weekly and Hourly series are longer; on Weekly the capped fits'
# held-out error is 0.7 % lower (2.074 against 2.088 alone), and the weight chosen (0) is unchanged.
HISTORY = 512

# alpha search: a grid of 20 values (0.05 .. 1), then a golden-section search on the grid step around the
# best of them. The one-step squared error of SES is smooth in alpha but not always unimodal on [0, 1]
# (a series with a level shift has a second valley near 1), so the grid picks the valley first.
_GRID = 20
_GOLDEN_STEPS = 14


@njit(**JIT)
def _ses_sse(x, start, n, alpha):
    """One-step squared error of SES with l_0 = x_1 over x[start:start + n], and the last level."""
    level = x[start]
    sse = 0.0
    for t in range(start + 1, start + n):
        e = x[t] - level                              # one-step error: x_t - l_{t-1}
        sse += e * e
        level += alpha * e                            # l_t = l_{t-1} + alpha (x_t - l_{t-1})
    return sse, level


# The damped trend's grid: 7 x 4 x 4 = 112 candidates (alpha, beta, phi), all fitted in one pass.
_ALPHA, _BETA, _PHI = np.meshgrid([0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9], [0.0, 0.05, 0.15, 0.4],
                                  [0.8, 0.9, 0.95, 0.98], indexing="ij")
_ALPHA, _ALPHA_BETA, _PHI = _ALPHA.ravel(), (_ALPHA * _BETA).ravel(), _PHI.ravel()


@njit(**JIT)
def _theta(z, start, n):
    """(a, slope) of the Theta forecast f_k = a + slope k of z[start:start + n], n >= 2."""
    # b = sum (t - tbar)(x_t - xbar) / sum (t - tbar)^2, t = 0 .. n-1
    tbar = 0.5 * (n - 1)
    xbar = 0.0
    for t in range(n):
        xbar += z[start + t]
    xbar /= n
    sxy, sxx = 0.0, 0.0
    for t in range(n):
        d = t - tbar
        sxy += d * (z[start + t] - xbar)
        sxx += d * d
    b = sxy / sxx
    # alpha: the best grid value, then golden section on [best - step, best + step]
    step = 1.0 / _GRID
    best, best_sse = 1.0, np.inf
    for g in range(_GRID):
        alpha = (g + 1) * step
        sse, _ = _ses_sse(z, start, n, alpha)
        if sse < best_sse:
            best, best_sse = alpha, sse
    lo, hi = max(0.01, best - step), min(1.0, best + step)
    ratio = 0.6180339887498949
    c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fc, _ = _ses_sse(z, start, n, c)
    fd, _ = _ses_sse(z, start, n, d)
    for _ in range(_GOLDEN_STEPS):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - ratio * (hi - lo)
            fc, _ = _ses_sse(z, start, n, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + ratio * (hi - lo)
            fd, _ = _ses_sse(z, start, n, d)
    alpha = c if fc < fd else d
    if best_sse < min(fc, fd):
        alpha = best
    _, level = _ses_sse(z, start, n, alpha)
    slope = 0.5 * b
    return level + slope * (1.0 / alpha - (1.0 - alpha) ** n / alpha - 1.0), slope


@njit(**JIT)
def _damped(z, start, n, alpha, alpha_beta, phi, level, trend, sse):
    """(l_n, b_n, phi) of the damped trend of z[start:start + n], n >= 3, with the least one-step squared
    error of the candidates (alpha, alpha beta, phi); ``level``, ``trend``, ``sse``: scratch, one per
    candidate."""
    q = min(n - 1, 4)
    b0 = (z[start + q] - z[start]) / q
    for g in range(len(alpha)):
        level[g], trend[g], sse[g] = z[start], b0, 0.0
    for t in range(start + 1, start + n):
        x = z[t]
        for g in range(len(alpha)):                   # independent candidates: a vectorised loop
            f = level[g] + phi[g] * trend[g]          # f_t = l_{t-1} + phi b_{t-1}
            e = x - f
            sse[g] += e * e
            level[g] = f + alpha[g] * e               # l_t = f_t + alpha e_t
            trend[g] = phi[g] * trend[g] + alpha_beta[g] * e    # b_t = phi b_{t-1} + alpha beta e_t
    best = np.argmin(sse)
    return level[best], trend[best], phi[best]


@njit(**JIT)
def partner_curves(z, offsets, series, cuts, damped, out):
    """out[j] = the curve (c0, c1, c2, phi) of the statistical forecast of series ``series[j]`` of the
    store (``z``, ``offsets``) from its first ``cuts[j]`` points: Theta's, or (``damped``) the mean of
    Theta's and the damped trend's (module docstring), fitted on the last ``HISTORY`` of those points at
    most. A cut of one point gives the flat line through it; the damped trend of fewer than 3 points is
    the last one's flat line."""
    level, trend, sse = np.empty(len(_ALPHA)), np.empty(len(_ALPHA)), np.empty(len(_ALPHA))
    for j in range(len(series)):
        n = min(cuts[j], HISTORY)
        start = offsets[series[j]] + cuts[j] - n
        a, slope = (z[start], 0.0) if n < 2 else _theta(z, start, n)
        if not damped:
            out[j, 0], out[j, 1], out[j, 2], out[j, 3] = a, slope, 0.0, 0.0
            continue
        l, b, phi = (z[start + n - 1], 0.0, 0.0) if n < 3 else _damped(z, start, n, _ALPHA, _ALPHA_BETA, _PHI,
                                                                        level, trend, sse)
        # mean of a + slope k and l + b phi / (1 - phi) (1 - phi^k)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = 0.5 * (a + l), 0.5 * slope, 0.5 * b * phi / (1.0 - phi), phi


def fit_curves(z: np.ndarray, offsets: np.ndarray, series: np.ndarray, cuts: np.ndarray, blend: str) -> np.ndarray:
    """(B, 4) the curves of ``blend`` (one of ``KINDS``) of the series ``series`` of a store (int64)
    from their first ``cuts`` points (int64)."""
    out = np.empty((len(series), 4))
    partner_curves(z, offsets, series, cuts, blend == "theta+damped", out)
    return out


def store_curves(z: np.ndarray, offsets: np.ndarray, blend: str) -> np.ndarray:
    """(n, 4) the curve of ``blend`` of every whole series of a store: what its forecasts blend with."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    return fit_curves(z, offsets, np.arange(n, dtype=np.int64), np.diff(offsets), blend)


def curve_forecasts(curves: np.ndarray, first: int, steps: int) -> np.ndarray:
    """(B, steps) the curves' forecasts at k = first, ..., first + steps - 1."""
    k = np.arange(first, first + steps)
    c0, c1, c2, phi = (curves[:, i:i + 1] for i in range(4))
    return c0 + c1 * k + c2 * (1.0 - phi ** k)
