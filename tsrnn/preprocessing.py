"""Per-series scaling and seasonal adjustment over a whole store of series at once (numba, array-only).

Series ``i`` of a store is ``y[offsets[i]:offsets[i + 1]]``; every function here loops over the offsets
inside one compiled call, so 100,000 series cost one call, not 100,000. Fitted on the training data only:

1. Scaling, a per-series map z = (f(y) - shift) / scale with f = log or identity:
   * ``"window"``: log(y) when the series is strictly positive (errors become relative, like the M4
     metrics), otherwise (y - mean) / std; each window is then also centred on its own level
     (``tsrnn.store``), ES-RNN style.
   * ``"steps"``: as ``"window"``, then divided by the series' mean absolute step (log(y) / mean
     |log y_t - log y_{t-1}|, else (y - mean) / mean |y_t - y_{t-1}|): every series moves about one
     unit per step, so a calm trend and a noisy walk are told apart by shape, not drowned in each
     other's scale, and each series weighs the same in the loss (as in MASE).
   * ``"auto"`` (the Forecaster's default) picks one of these two from the series' lengths
     (``Forecaster``).
   * ``"standard"`` (y - mean) / std, ``"minmax"`` (y - min) / (max - min), ``"robust"``
     (y - median) / IQR, ``None`` identity. A (numerically) constant series is scaled by its own
     magnitude, an all-zero one by 1 (never a division by zero).
2. Seasonal adjustment (``season_length`` m > 1, optional): additive seasonal indices of z from a
   classical decomposition (centred moving average of order m), used only if the series has three full
   seasons and its seasonality passes the M4 autocorrelation test at 90 %; z - s[t mod m], t = 0 at the
   series' first observation.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._config import JIT

SCALERS = ("auto", "window", "steps", "standard", "minmax", "robust", None)
_KIND = {"window": 0, "standard": 1, "minmax": 2, "robust": 3, None: 4, "steps": 5}


def fit_scalers(y: np.ndarray, offsets: np.ndarray, kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-series (log, shift, scale) arrays, each (n_series,); ``kind`` one of ``SCALERS`` but "auto"."""
    n = len(offsets) - 1
    log, shift, scale = np.zeros(n, np.bool_), np.zeros(n), np.ones(n)
    _fit_scalers(y, offsets, _KIND[kind], log, shift, scale)
    return log, shift, scale


@njit(**JIT)
def _safe(scale, center):
    """A usable divisor. A numerically constant series (spread below 1e-12 of its level) is scaled by its
    own magnitude |center| (1 for an all-zero series), not by 1: forecasts then stay on the series' scale,
    and scaling the data by c scales the forecasts by c."""
    if np.isfinite(scale) and scale > 1e-12 * abs(center) and scale > 1e-300:
        return scale
    return abs(center) if 0 < abs(center) < np.inf else 1.0


@njit(**JIT)
def _fit_scalers(y, offsets, kind, log, shift, scale):
    for i in range(len(offsets) - 1):
        s = y[offsets[i]:offsets[i + 1]]
        if kind == 0 and s.min() > 0:                  # window: log of a positive series
            log[i] = True
        elif kind == 0 or kind == 1:                   # standardise
            shift[i] = s.mean()
            scale[i] = _safe(s.std(), shift[i])
        elif kind == 2:                                # minmax
            shift[i] = s.min()
            scale[i] = _safe(s.max() - s.min(), shift[i])
        elif kind == 3:                                # robust: median, IQR
            q1, q2, q3 = np.percentile(s, 25.0), np.percentile(s, 50.0), np.percentile(s, 75.0)
            shift[i] = q2
            scale[i] = _safe(q3 - q1, shift[i])
        elif kind == 5:                                # steps: log (or centre), over the mean |step|
            log[i] = s.min() > 0
            if not log[i]:
                shift[i] = s.mean()
            total = 0.0                                # mean |f(y_t) - f(y_{t-1})|
            for t in range(1, len(s)):
                total += abs(np.log(s[t]) - np.log(s[t - 1])) if log[i] else abs(s[t] - s[t - 1])
            step = total / (len(s) - 1) if len(s) > 1 else 0.0
            scale[i] = _safe(step, 1.0) if log[i] else _safe(step, shift[i])


@njit(**JIT)
def zero_shares(y, offsets):
    """(n,) the share of each series' values that are exactly 0 (no temporary as long as ``y``)."""
    n = len(offsets) - 1
    out = np.zeros(n)
    for i in range(n):
        zeros = 0
        for t in range(offsets[i], offsets[i + 1]):
            if y[t] == 0.0:
                zeros += 1
        out[i] = zeros / max(offsets[i + 1] - offsets[i], 1)
    return out


@njit(**JIT)
def scale_into(y, offsets, log, shift, scale, out):
    """out = (f(y) - shift) / scale per series (``out`` may be ``y`` itself)."""
    for i in range(len(offsets) - 1):
        for t in range(offsets[i], offsets[i + 1]):
            v = np.log(y[t]) if log[i] else y[t]
            out[t] = (v - shift[i]) / scale[i]


@njit(**JIT)
def standardize_channels(x, offsets, scaled, center, scale):
    """Covariate channels x (rows, C) float32, in place: per series i and channel c with ``scaled[c]``,
    x = (x - mean) / std over the series' rows (center[i, c], scale[i, c] record them; ``_safe`` for a
    constant channel); other channels keep center 0, scale 1."""
    for i in range(len(offsets) - 1):
        a, b = offsets[i], offsets[i + 1]
        for c in range(x.shape[1]):
            center[i, c], scale[i, c] = 0.0, 1.0
            if not scaled[c] or b <= a:
                continue
            s = 0.0
            for t in range(a, b):
                s += x[t, c]
            mu = s / (b - a)
            v = 0.0
            for t in range(a, b):
                v += (x[t, c] - mu) ** 2
            sd = _safe(np.sqrt(v / (b - a)), mu)
            center[i, c], scale[i, c] = mu, sd
            for t in range(a, b):
                x[t, c] = (x[t, c] - mu) / sd


def unscale(z: np.ndarray, log: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of the scaling for rows of values: z (n, h) with per-row (n,) parameters."""
    v = z * scale[:, None] + shift[:, None]
    return np.where(log[:, None], np.exp(np.clip(v, -700, 700)), v)


@njit(**JIT)
def _is_seasonal(z, m):
    """M4's test: three full seasons and a lag-m autocorrelation significant at 90 %."""
    n = len(z)
    if m <= 1 or n < 3 * m:
        return False
    mean = z.mean()
    denom = 0.0
    for t in range(n):
        denom += (z[t] - mean) ** 2
    if denom <= 0:
        return False
    acf_sq, acf_m = 0.0, 0.0
    for k in range(1, m + 1):
        c = 0.0
        for t in range(k, n):
            c += (z[t] - mean) * (z[t - k] - mean)
        c /= denom
        if k < m:
            acf_sq += c * c
        else:
            acf_m = c
    return abs(acf_m) > 1.645 * np.sqrt((1 + 2 * acf_sq) / n)


@njit(**JIT)
def _classical(z, m, multiplicative):
    """Classical decomposition's seasonal figure (m,) by position t mod m: the mean of z / trend
    (multiplicative) or z - trend (additive) at each position, the trend a centred moving average of
    order m (2 x m for even m): trend[t] = sum_j kernel[j] z[t + j]."""
    n = len(z)
    L = m + 1 if m % 2 == 0 else m
    kernel = np.full(L, 1.0 / m)
    if m % 2 == 0:
        kernel[0] = kernel[L - 1] = 0.5 / m
    half = (L - 1) // 2
    sums, counts = np.zeros(m), np.zeros(m)
    for t in range(n - L + 1):
        trend = 0.0
        for j in range(L):
            trend += kernel[j] * z[t + j]
        k = (t + half) % m
        sums[k] += z[t + half] / trend if multiplicative else z[t + half] - trend
        counts[k] += 1
    return sums / counts


@njit(**JIT)
def deseasonalize(z, offsets, m, indices):
    """Additive seasonal indices (n_series, m) of every seasonal series into ``indices`` (zeros for the
    others), and z -= s[t mod m] in place."""
    for i in range(len(offsets) - 1):
        a, b = offsets[i], offsets[i + 1]
        if not _is_seasonal(z[a:b], m):
            continue
        idx = _classical(z[a:b], m, False)
        idx -= idx.mean()
        indices[i] = idx
        for t in range(b - a):
            z[a + t] -= idx[t % m]


@njit(**JIT)
def multiplicative_figures(y, offsets, m, figures, seasonal):
    """M4's (and R ``decompose``'s) multiplicative seasonal figure of every series, normalised to mean 1,
    into ``figures`` (n_series, m), and ``seasonal[i]`` whether series i has one; ones where the series
    is not strictly positive, lacks the lag (R's ``acf`` default lag.max = 10 log10(n): a lag beyond it
    is NA and the test fails) or fails the test."""
    for i in range(len(offsets) - 1):
        s = y[offsets[i]:offsets[i + 1]]
        figures[i] = 1.0
        seasonal[i] = False
        if m <= 1 or len(s) < 3 * m or s.min() <= 0 or m > int(np.floor(10 * np.log10(len(s)))):
            continue
        if _is_seasonal(s, m):
            fig = _classical(s, m, True)
            figures[i] = fig / fig.mean()
            seasonal[i] = True


def naive2_forecasts(y: np.ndarray, offsets: np.ndarray, h: int, m: int) -> np.ndarray:
    """M4's Naive2 for every series of a store, (n_series, h): the last deseasonalised value,
    reseasonalised.

    >>> naive2_forecasts(np.array([5.0, 6.0, 1.0]), np.array([0, 2, 3]), 2, 1).tolist()
    [[6.0, 6.0], [1.0, 1.0]]
    """
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    m = max(int(m), 1)
    figures = np.ones((len(offsets) - 1, m))
    if m > 1:
        multiplicative_figures(y, offsets, m, figures, np.zeros(len(figures), np.bool_))
    n = np.diff(offsets)
    rows = np.arange(len(n))
    last = y[offsets[1:] - 1] / figures[rows, (n - 1) % m]
    return last[:, None] * figures[rows[:, None], (n[:, None] + np.arange(h)) % m]


def seasonality_test(z: np.ndarray, m: int) -> bool:
    """M4's test (used for Naive2 and the ARIMA differencing order): three full seasons and a lag-m
    autocorrelation significant at 90 %.

    >>> seasonality_test(np.tile([1.0, 5.0, 3.0, 9.0], 6), 4)
    True
    """
    return bool(_is_seasonal(np.asarray(z, dtype=np.float64), int(m)))
