"""The Theta method on the prepared series: the statistical half of the Forecaster's blend
(``Forecaster(blend="theta")``, see ``docs/forecaster.md``).

The standard Theta method (Assimakopoulos & Nikolopoulos 2000) in Hyndman & Billah's form (2003). Of a
seasonally adjusted series x_1 .. x_n, the forecast k steps after its end is simple exponential
smoothing's last level plus half the slope of the least-squares line through the series:

    l_t = l_{t-1} + alpha (x_t - l_{t-1}),   l_0 = x_1        alpha: least one-step squared error, in [0.01, 1]
    b   = sum_t (t - tbar)(x_t - xbar) / sum_t (t - tbar)^2
    f_k = l_n + b/2 (k - 1 + 1/alpha - (1 - alpha)^n / alpha)

so every forecast is a straight line in k, kept as two numbers per series (``a``, ``slope``):

    f_k = a + slope k,   slope = b/2,   a = l_n + slope (1/alpha - (1 - alpha)^n / alpha - 1)

The prepared series are what the network reads (``tsrnn/store.py``): scaled, log for strictly positive
series, seasonal indices removed. Theta there is Theta on the log scale (a damped exponential trend in
the data's units), and its forecasts are blended with the network's in the same units, so the blend's
held-out errors calibrate the intervals as the network's alone did. Array-only and jitted, one
series (or one cut of a series) per loop iteration, nothing allocated per series.

Example
-------
>>> import numpy as np
>>> lines = store_lines(np.arange(10.0), np.array([0, 10]))   # a straight line, 0 .. 9
>>> np.round(line_forecasts(lines, 1, 3), 6).tolist()             # continued at half its slope
[[9.5, 10.0, 10.5]]
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._config import JIT

__all__ = ["theta_lines", "store_lines", "line_forecasts"]

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


@njit(**JIT)
def theta_lines(z, offsets, series, cuts, out):
    """out[j] = (a, slope) of the Theta forecast of series ``series[j]`` of the store (``z``, ``offsets``)
    from its first ``cuts[j]`` points: f_k = a + slope k for k = 1, 2, ... (module docstring). A cut
    of one point gives the flat line through it."""
    for j in range(len(series)):
        start = offsets[series[j]]
        n = cuts[j]
        if n < 2:
            out[j, 0], out[j, 1] = z[start], 0.0
            continue
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
        out[j, 0] = level + slope * (1.0 / alpha - (1.0 - alpha) ** n / alpha - 1.0)
        out[j, 1] = slope


def store_lines(z: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(n, 2) the Theta line of every whole series of a store: what its forecasts blend with."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    out = np.empty((n, 2))
    theta_lines(z, offsets, np.arange(n, dtype=np.int64), np.diff(offsets), out)
    return out


def line_forecasts(lines: np.ndarray, first: int, steps: int) -> np.ndarray:
    """(B, steps) the lines' forecasts at k = first, ..., first + steps - 1."""
    return lines[:, :1] + lines[:, 1:] * np.arange(first, first + steps)
