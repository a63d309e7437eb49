"""Per-series scaling and seasonal adjustment over a whole store of series at once (numba, array-only).

Series ``i`` of a store is ``y[offsets[i]:offsets[i + 1]]``; every function here loops over the offsets
inside one compiled call, so 100,000 series cost one call, not 100,000. Fitted on the training data only:

1. Scaling, a per-series map z = (f(y) - shift) / scale with f = log or identity:
   * ``"window"`` (default): log(y) when the series is strictly positive (errors become relative, like
     the M4 metrics), otherwise (y - mean) / std; each window is then also centred on its own level
     (``tsrnn.store``), ES-RNN style.
   * ``"standard"`` (y - mean) / std, ``"minmax"`` (y - min) / (max - min), ``"robust"``
     (y - median) / IQR, ``None`` identity. A constant series gets scale 1 (never a division by zero).
2. Seasonal adjustment (``season_length`` m > 1, optional): additive seasonal indices of z from a
   classical decomposition (centred moving average of order m), used only if the series has three full
   seasons and its seasonality passes the M4 autocorrelation test at 90 %; z - s[t mod m], t = 0 at the
   series' first observation.
"""
from __future__ import annotations

import numpy as np
from numba import njit

SCALERS = ("window", "standard", "minmax", "robust", None)
_KIND = {"window": 0, "standard": 1, "minmax": 2, "robust": 3, None: 4}


def fit_scalers(y: np.ndarray, offsets: np.ndarray, kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-series (log, shift, scale) arrays, each (n_series,)."""
    n = len(offsets) - 1
    log, shift, scale = np.zeros(n, np.bool_), np.zeros(n), np.ones(n)
    _fit_scalers(y, offsets, _KIND[kind], log, shift, scale)
    return log, shift, scale


@njit(cache=True)
def _safe(scale):
    """A usable divisor: 1 for a constant (or numerically constant) series."""
    return scale if np.isfinite(scale) and scale > 1e-12 else 1.0


@njit(cache=True)
def _fit_scalers(y, offsets, kind, log, shift, scale):
    for i in range(len(offsets) - 1):
        s = y[offsets[i]:offsets[i + 1]]
        if kind == 0 and s.min() > 0:                  # window: log of a positive series
            log[i] = True
        elif kind == 0 or kind == 1:                   # standardise
            shift[i] = s.mean()
            scale[i] = _safe(s.std())
        elif kind == 2:                                # minmax
            shift[i] = s.min()
            scale[i] = _safe(s.max() - s.min())
        elif kind == 3:                                # robust: median, IQR
            q1, q2, q3 = np.percentile(s, 25.0), np.percentile(s, 50.0), np.percentile(s, 75.0)
            shift[i] = q2
            scale[i] = _safe(q3 - q1)


@njit(cache=True)
def scale_into(y, offsets, log, shift, scale, out):
    """out = (f(y) - shift) / scale per series (``out`` may be ``y`` itself)."""
    for i in range(len(offsets) - 1):
        for t in range(offsets[i], offsets[i + 1]):
            v = np.log(y[t]) if log[i] else y[t]
            out[t] = (v - shift[i]) / scale[i]


def unscale(z: np.ndarray, log: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of the scaling for rows of values: z (n, h) with per-row (n,) parameters."""
    v = z * scale[:, None] + shift[:, None]
    return np.where(log[:, None], np.exp(np.clip(v, -700, 700)), v)


@njit(cache=True)
def _seasonal(z, m):
    """M4's test (lag-m autocorrelation significant at 90 %), then additive classical indices (m,) of
    one series; zeros when it is not seasonal."""
    n = len(z)
    idx = np.zeros(m)
    if m <= 1 or n < 3 * m:
        return idx
    mean = z.mean()
    denom = 0.0
    for t in range(n):
        denom += (z[t] - mean) ** 2
    if denom <= 0:
        return idx
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
    if not abs(acf_m) > 1.645 * np.sqrt((1 + 2 * acf_sq) / n):
        return idx
    # centred moving average of order m (2 x m for even m): trend[t] = sum_j kernel[j] z[t + j]
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
        sums[k] += z[t + half] - trend
        counts[k] += 1
    for k in range(m):
        idx[k] = sums[k] / counts[k]
    return idx - idx.mean()


@njit(cache=True)
def deseasonalize(z, offsets, m, indices):
    """Seasonal indices (n_series, m) of every series into ``indices``, and z -= s[t mod m] in place."""
    for i in range(len(offsets) - 1):
        a, b = offsets[i], offsets[i + 1]
        idx = _seasonal(z[a:b], m)
        indices[i] = idx
        for t in range(b - a):
            z[a + t] -= idx[t % m]


def seasonality_test(z: np.ndarray, m: int) -> bool:
    """M4's test (used for Naive2): the lag-m autocorrelation is significant at 90 %."""
    n = len(z)
    if m <= 1 or n < 3 * m:
        return False
    d = z - z.mean()
    denom = float(np.sum(d * d))
    if denom <= 0:
        return False
    acf = np.array([np.sum(d[k:] * d[:-k]) / denom for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(abs(acf[m - 1]) > limit)
