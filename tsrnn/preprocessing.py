"""Per-series scaling, seasonal adjustment and windowing for the Forecaster (NumPy only).

Pipeline for one series y (float64), fitted on the training data only:

1. ``SeriesScaler``: a per-series map z = T(y) and its inverse.
   * ``"window"`` (default): log(y) when the series is strictly positive (errors become relative, like
     the M4 metrics), otherwise (y - mean) / std; each window is then also centred on its own level
     (step 3), ES-RNN style.
   * ``"standard"`` (y - mean) / std, ``"minmax"`` (y - min) / (max - min), ``"robust"``
     (y - median) / IQR, ``None`` identity. A constant series gets scale 1 (never a division by zero).
2. Seasonal adjustment (``season_length`` m > 1, optional): additive seasonal indices of z from a
   classical decomposition (centred moving average of order m), used only if the series has two full
   seasons and its seasonality passes the M4 autocorrelation test at 90 %; z - s[t mod m].
3. Windows: ``window`` inputs and ``horizon`` targets per sample, sliding with a stride, as strided
   views (no copy of the series). With the ``"window"`` scaler each sample is centred on its level, the
   mean of its last ``level_span`` inputs. Series shorter than window + horizon are left-padded with
   their first value and a 0/1 "padded" input channel tells the network which inputs are real.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SCALERS = ("window", "standard", "minmax", "robust", None)


@dataclass
class SeriesScaler:
    """z = (f(y) - shift) / scale with f = log or identity."""
    log: bool
    shift: float
    scale: float

    @classmethod
    def fit(cls, y: np.ndarray, kind) -> "SeriesScaler":
        if kind == "window":
            if (y > 0).all():
                return cls(True, 0.0, 1.0)
            return cls(False, float(np.mean(y)), _safe(np.std(y)))
        if kind == "standard":
            return cls(False, float(np.mean(y)), _safe(np.std(y)))
        if kind == "minmax":
            return cls(False, float(np.min(y)), _safe(np.max(y) - np.min(y)))
        if kind == "robust":
            q1, q2, q3 = np.percentile(y, [25, 50, 75])
            return cls(False, float(q2), _safe(q3 - q1))
        return cls(False, 0.0, 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        z = np.log(y) if self.log else y
        return (z - self.shift) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        z = z * self.scale + self.shift
        return np.exp(np.clip(z, -700, 700)) if self.log else z

    def to_dict(self) -> dict:
        return {"log": self.log, "shift": self.shift, "scale": self.scale}


def _safe(scale: float) -> float:
    """A usable divisor: 1 for a constant (or numerically constant) series."""
    return float(scale) if np.isfinite(scale) and scale > 1e-12 else 1.0


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


def seasonal_indices(z: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices (m,) by classical decomposition, indexed by position t mod m
    (t = 0 at the first observation); zeros when there is no detectable seasonality."""
    if not seasonality_test(z, m):
        return np.zeros(max(m, 1))
    # centred moving average of order m (2 x m for even m)
    if m % 2 == 0:
        kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        kernel = np.ones(m) / m
    trend = np.convolve(z, kernel, mode="valid")
    offset = (len(kernel) - 1) // 2
    detrended = z[offset: offset + len(trend)] - trend
    positions = (np.arange(len(detrended)) + offset) % m
    idx = np.array([detrended[positions == k].mean() for k in range(m)])
    return idx - idx.mean()


def seasonal_component(indices: np.ndarray, start: int, n: int) -> np.ndarray:
    """indices[t mod m] for t = start .. start + n - 1."""
    m = len(indices)
    return indices[(start + np.arange(n)) % m]


def windows(z: np.ndarray, window: int, horizon: int, stride: int = 1, min_inputs: int = 1):
    """All (input, target) samples of one prepared series, as arrays (N, window) and (N, horizon), plus
    the pad mask (N, window) (1 where the input is padding). Samples end at the series' end and step
    back by ``stride``. A series shorter than window + horizon is left-padded so that its samples have
    at least ``min_inputs`` real inputs. Returns None when there is no sample."""
    n = len(z)
    pad = max(0, window - min_inputs) if n < window + horizon else 0
    if n + pad < window + horizon:
        return None
    padded = np.concatenate([np.full(pad, z[0]), z]) if pad else z
    view = sliding_window_view(padded, window + horizon)[::-1][::stride][::-1]   # keep the last window
    mask = np.zeros((len(view), window))
    if pad:
        starts = np.arange(len(padded) - window - horizon + 1)[::-1][::stride][::-1]
        mask = (starts[:, None] + np.arange(window) < pad).astype(np.float64)
    return view[:, :window], view[:, window:], mask


def last_inputs(z: np.ndarray, window: int):
    """The most recent ``window`` inputs of a prepared series (left-padded if too short) and its mask."""
    if len(z) >= window:
        return z[-window:], np.zeros(window)
    pad = window - len(z)
    return np.concatenate([np.full(pad, z[0]), z]), (np.arange(window) < pad).astype(np.float64)


def window_level(inputs: np.ndarray, span: int) -> np.ndarray:
    """Level of each sample: the mean of its last ``span`` inputs. inputs (N, window) -> (N, 1)."""
    return inputs[:, -span:].mean(axis=1, keepdims=True)
