"""Forecast accuracy metrics with the M4 Competition's definitions (pure NumPy).

For one series with history x_1..x_n, actual values y_{n+1..n+h} and forecasts f:

* MAE   = mean |y - f|
* RMSE  = sqrt(mean (y - f)^2)
* MAPE  = 100 * mean |y - f| / |y|
* sMAPE = (200 / h) * sum |y - f| / (|y| + |f|)                        (M4; a term with y = f = 0 counts 0)
* MASE  = mean |y - f| / [ 1/(n - m) * sum_{j=m+1..n} |x_j - x_{j-m}| ]  (M4; m = seasonal period)
* OWA   = ( sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2 ) / 2, from the *means* over a group of series.

M4 frequency figures are means over series; OWA is computed from those means (``tsrnn.backtest`` does
that per model).
"""
from __future__ import annotations

import numpy as np

__all__ = ["mae", "rmse", "mape", "smape", "mase", "mase_scale", "owa"]


def _pair(y_true, y_pred):
    y, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != f.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y.shape} and {f.shape}")
    if y.size == 0:
        raise ValueError("y_true is empty")
    return y, f


def mae(y_true, y_pred) -> float:
    """Mean absolute error.

    >>> mae([1, 2], [2, 2])
    0.5
    """
    y, f = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y - f)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    >>> rmse([0, 0], [3, 4])  # doctest: +ELLIPSIS
    3.535...
    """
    y, f = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, in percent (undefined, hence an error, if any y is 0).

    >>> mape([100, 200], [110, 180])
    10.0
    """
    y, f = _pair(y_true, y_pred)
    if np.any(y == 0):
        raise ValueError("MAPE is undefined when an actual value is 0; use sMAPE or MASE")
    return float(100.0 * np.mean(np.abs(y - f) / np.abs(y)))


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE as in M4, in percent (0..200).

    >>> round(smape([100, 100], [110, 90]), 3)
    10.025
    """
    y, f = _pair(y_true, y_pred)
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(2.0 * np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100.0 * np.mean(terms))


def mase_scale(y_train, m: int = 1) -> float:
    """In-sample mean absolute error of the seasonal naive forecast with period m (MASE denominator)."""
    x = np.asarray(y_train, dtype=np.float64)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    if len(x) <= m:
        raise ValueError(f"MASE needs more than m={m} training points, got {len(x)}")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(y_true, y_pred, y_train, m: int = 1) -> float:
    """Mean absolute scaled error (M4): MAE over the in-sample seasonal-naive MAE with period m.

    >>> mase([3, 4], [3, 3], y_train=[1, 2, 3])
    0.5
    """
    scale = mase_scale(y_train, m)
    if scale == 0:
        return float("inf") if mae(y_true, y_pred) > 0 else 0.0
    return mae(y_true, y_pred) / scale


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average (M4) of mean sMAPE and mean MASE relative to Naive2's on the same series.

    >>> owa(9.0, 0.9, 10.0, 1.0)
    0.9
    """
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)
