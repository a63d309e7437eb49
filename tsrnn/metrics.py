"""Forecast accuracy metrics with the M4 Competition's definitions (pure NumPy).

For one series with history x_1..x_n, actual values y_{n+1..n+h} and forecasts f:

* MAE   = mean |y - f|
* RMSE  = sqrt(mean (y - f)^2)
* MAPE  = 100 * mean |y - f| / |y|
* sMAPE = (200 / h) * sum |y - f| / (|y| + |f|)                        (M4; a term with y = f = 0 counts 0)
* MASE  = mean |y - f| / [ 1/(n - m) * sum_{j=m+1..n} |x_j - x_{j-m}| ]  (M4; m = seasonal period)
* RMSSE = RMSE / sqrt[ 1/(n - m) * sum_{j=m+1..n} (x_j - x_{j-m})^2 ]      (M5's with m = 1)
* OWA   = ( sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2 ) / 2, from the *means* over a group of series.

Intervals [L, U] at level l (alpha = 1 - l/100) and quantile forecasts q_tau:

* coverage = mean 1{L <= y <= U}
* MSIS     = mean [ (U - L) + (2/alpha)(L - y) 1{y < L} + (2/alpha)(y - U) 1{y > U} ] / scale  (M4; scale
  as MASE's)
* pinball  = mean [ tau (y - q) 1{y >= q} + (1 - tau)(q - y) 1{y < q} ], the quantile loss; scaled by
  MASE's scale it is the scaled pinball loss (M5's SPL); averaged over tau = (1 -+ l/100)/2 it scores
  an interval's two ends as quantiles.

M4 frequency figures are means over series; OWA is computed from those means (``tsrnn.backtest`` does
that per model).

Each metric is written once, row-wise (``*_rows``: one value per row of (n, h) arrays, what ``backtest``
scores a window of 100,000 series with); the scalar functions are its one-series case. In a row, an
actual value of NaN is a point that was not observed (a gap a backtest's ``fill`` filled): the row's
mean leaves it out, and a row without an observed value scores NaN.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mae", "rmse", "mape", "smape", "mase", "mase_scale", "rmsse", "owa", "mae_rows", "rmse_rows",
           "mape_rows", "smape_rows", "mase_scales", "rmsse_scales", "scaled_error", "coverage", "msis", "pinball",
           "coverage_rows", "interval_score_rows", "pinball_rows"]


def _pair(y_true, y_pred):
    y, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != f.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y.shape} and {f.shape}")
    if y.size == 0:
        raise ValueError("y_true is empty")
    return y, f


def _row_mean(terms: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean of each row of ``terms`` over the points whose actual value ``y`` is observed (not NaN)."""
    observed = ~np.isnan(y)
    if observed.all():
        return np.mean(terms, axis=-1)
    count = observed.sum(axis=-1)
    total = np.sum(np.where(observed, terms, 0.0), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def mae_rows(y, f) -> np.ndarray:
    """Mean absolute error of each row (along the last axis).

    Example
    -------
    >>> import numpy as np
    >>> mae_rows(np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 1.0], [3.0, 3.0]])).tolist()
    [0.5, 1.0]
    >>> mae_rows(np.array([[1.0, np.nan], [np.nan, np.nan]]), np.array([[2.0, 9.0], [3.0, 3.0]])).tolist()
    [1.0, nan]
    """
    return _row_mean(np.abs(y - f), y)


def rmse_rows(y, f) -> np.ndarray:
    """Root mean squared error of each row (along the last axis).

    Example
    -------
    >>> import numpy as np
    >>> rmse_rows(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).round(4).tolist()
    [3.5355]
    """
    return np.sqrt(_row_mean((y - f) ** 2, y))


def mape_rows(y, f) -> np.ndarray:
    """MAPE of each row in percent; NaN for a row with an actual value of 0 (undefined there).

    Example
    -------
    >>> import numpy as np
    >>> mape_rows(np.array([[100.0, 200.0], [0.0, 1.0]]), np.array([[110.0, 180.0], [1.0, 1.0]])).tolist()
    [10.0, nan]
    """
    defined = (y != 0).all(axis=-1)
    return np.where(defined, 100.0 * _row_mean(np.abs(y - f) / np.where(y != 0, np.abs(y), 1.0), y), np.nan)


def smape_rows(y, f) -> np.ndarray:
    """M4's sMAPE of each row in percent (a term with y = f = 0 counts 0).

    Example
    -------
    >>> import numpy as np
    >>> smape_rows(np.array([[100.0, 0.0]]), np.array([[100.0, 0.0]])).tolist()
    [0.0]
    """
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(2.0 * np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return 100.0 * _row_mean(terms, y)


def mase_scales(values: np.ndarray, offsets: np.ndarray, m: int) -> np.ndarray:
    """The MASE denominator of every series of a store (series i is values[offsets[i]:offsets[i+1]],
    each longer than m): the in-sample MAE of the seasonal naive forecast with period m.

    Example
    -------
    >>> import numpy as np
    >>> mase_scales(np.array([1.0, 2.0, 4.0, 10.0, 10.0]), np.array([0, 3, 5]), 1).tolist()
    [1.5, 0.0]
    """
    series, diffs = _naive_errors(values, offsets, m)
    return np.bincount(series, weights=np.abs(diffs), minlength=len(offsets) - 1) / (np.diff(offsets) - m)


def rmsse_scales(values: np.ndarray, offsets: np.ndarray, m: int) -> np.ndarray:
    """The RMSSE denominator of every series of a store (as ``mase_scales``): the in-sample root mean
    squared error of the seasonal naive forecast with period m.

    Example
    -------
    >>> import numpy as np
    >>> rmsse_scales(np.array([1.0, 2.0, 4.0, 10.0, 10.0]), np.array([0, 3, 5]), 1).round(4).tolist()
    [1.5811, 0.0]
    """
    series, diffs = _naive_errors(values, offsets, m)
    return np.sqrt(np.bincount(series, weights=diffs ** 2, minlength=len(offsets) - 1) / (np.diff(offsets) - m))


def _naive_errors(values: np.ndarray, offsets: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(series, error) of every in-sample seasonal naive forecast of a store's series: z_t - z_{t-m}."""
    lengths = np.diff(offsets)
    series = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(values)) - np.repeat(offsets[:-1], lengths)
    valid = position[m:] >= m
    return series[m:][valid], (values[m:] - values[:-m])[valid]


def scaled_error(mae_values, scale, tol=0.0):
    """MAE / scale, with the rule for a zero scale: inf for an imperfect forecast, 0 for a perfect one;
    an error of at most ``tol`` counts as perfect there (the float rounding of an exact forecast of a
    flat series, 5.000000000000001 for 5, is no error).

    Example
    -------
    >>> scaled_error([2.0, 1.0, 0.0, 1e-15], [4.0, 0.0, 0.0, 0.0], tol=1e-12).tolist()
    [0.5, inf, 0.0, 0.0]
    """
    mae_values, scale = np.asarray(mae_values, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, mae_values / np.where(scale > 0, scale, 1.0),
                        np.where(mae_values > tol, np.inf, 0.0))


def coverage_rows(y, lower, upper) -> np.ndarray:
    """Share of each row's actual values inside [lower, upper].

    Example
    -------
    >>> import numpy as np
    >>> coverage_rows(np.array([[1.0, 5.0]]), np.array([[0.0, 0.0]]), np.array([[2.0, 2.0]])).tolist()
    [0.5]
    """
    return _row_mean(((y >= lower) & (y <= upper)).astype(np.float64), y)


def interval_score_rows(y, lower, upper, level: float) -> np.ndarray:
    """Mean interval score of each row at coverage ``level`` (percent): the width plus 2/alpha times
    the distance by which an actual value falls outside (unscaled; divide by the MASE scale for MSIS).

    Example
    -------
    >>> import numpy as np
    >>> interval_score_rows(np.array([[1.0, 5.0]]), np.array([[0.0, 0.0]]), np.array([[2.0, 2.0]]), 95).round(6).tolist()
    [62.0]
    """
    alpha = 1.0 - level / 100.0
    below = np.maximum(lower - y, 0.0)
    above = np.maximum(y - upper, 0.0)
    return _row_mean(upper - lower + 2.0 / alpha * (below + above), y)


def pinball_rows(y, quantile_forecast, tau: float) -> np.ndarray:
    """Mean pinball (quantile) loss of each row for the quantile ``tau`` in (0, 1).

    Example
    -------
    >>> import numpy as np
    >>> pinball_rows(np.array([[10.0, 10.0]]), np.array([[8.0, 12.0]]), 0.9).round(3).tolist()
    [1.0]
    """
    diff = y - quantile_forecast
    return _row_mean(np.maximum(tau * diff, (tau - 1.0) * diff), y)


def coverage(y_true, lower, upper) -> float:
    """Share of the actual values inside the interval [lower, upper].

    >>> coverage([1, 2, 3, 4], [0, 0, 0, 0], [2, 2, 2, 5])
    0.75
    """
    y, lo = _pair(y_true, lower)
    return float(coverage_rows(y, lo, _pair(y_true, upper)[1]))


def msis(y_true, lower, upper, y_train, m: int = 1, level: float = 95.0) -> float:
    """Mean scaled interval score (M4's interval metric, at level 95 there): the interval score over
    the in-sample seasonal-naive MAE with period m.

    >>> msis([3, 4], [2, 2], [4, 4], y_train=[1, 2, 3])
    2.0
    """
    y, lo = _pair(y_true, lower)
    return float(scaled_error(interval_score_rows(y, lo, _pair(y_true, upper)[1], level), mase_scale(y_train, m)))


def pinball(y_true, quantile_forecast, tau: float) -> float:
    """Mean pinball loss of a forecast of the ``tau`` quantile.

    >>> pinball([10, 10], [8, 12], 0.9)
    1.0
    """
    if not 0.0 < tau < 1.0:
        raise ValueError(f"tau must be in (0, 1), got {tau!r}")
    return float(pinball_rows(*_pair(y_true, quantile_forecast), tau))


def mae(y_true, y_pred) -> float:
    """Mean absolute error.

    >>> mae([1, 2], [2, 2])
    0.5
    """
    return float(mae_rows(*_pair(y_true, y_pred)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    >>> rmse([0, 0], [3, 4])  # doctest: +ELLIPSIS
    3.535...
    """
    return float(rmse_rows(*_pair(y_true, y_pred)))


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, in percent (undefined, hence an error, if any y is 0).

    >>> mape([100, 200], [110, 180])
    10.0
    """
    y, f = _pair(y_true, y_pred)
    if np.any(y == 0):
        raise ValueError("MAPE is undefined when an actual value is 0; use sMAPE or MASE")
    return float(mape_rows(y, f))


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE as in M4, in percent (0..200).

    >>> round(smape([100, 100], [110, 90]), 3)
    10.025
    """
    return float(smape_rows(*_pair(y_true, y_pred)))


def mase_scale(y_train, m: int = 1) -> float:
    """In-sample mean absolute error of the seasonal naive forecast with period m (MASE denominator).

    Example
    -------
    >>> mase_scale([1.0, 3.0, 2.0, 4.0], m=2)
    1.0
    """
    x = _training(y_train, m, "MASE")
    return float(mase_scales(x, np.array([0, len(x)]), m)[0])


def _training(y_train, m: int, metric: str) -> np.ndarray:
    """One series' history as float64, checked to be longer than the seasonal naive's lag m."""
    x = np.asarray(y_train, dtype=np.float64)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    if len(x) <= m:
        raise ValueError(f"{metric} needs more than m={m} training points, got {len(x)}")
    return x


def mase(y_true, y_pred, y_train, m: int = 1) -> float:
    """Mean absolute scaled error (M4): MAE over the in-sample seasonal-naive MAE with period m.

    >>> mase([3, 4], [3, 3], y_train=[1, 2, 3])
    0.5
    """
    return float(scaled_error(mae(y_true, y_pred), mase_scale(y_train, m)))


def rmsse(y_true, y_pred, y_train, m: int = 1) -> float:
    """Root mean squared scaled error (M5's, with ``m = 1``): RMSE over the in-sample RMSE of the
    seasonal naive forecast with period m. Unlike sMAPE it stays meaningful on test values of 0
    (intermittent sales), and unlike MASE it rewards forecasting the mean, not the median, which for
    a product that sells on a third of the days is 0.

    >>> round(rmsse([3, 4], [3, 3], y_train=[1, 2, 4]), 4)
    0.4472
    """
    x = _training(y_train, m, "RMSSE")
    return float(scaled_error(rmse(y_true, y_pred), rmsse_scales(x, np.array([0, len(x)]), m)[0]))


ROUNDING = 1e-9      # an error this small relative to the data (or an sMAPE in %) is float rounding


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average (M4) of mean sMAPE and mean MASE relative to Naive2's on the same series.
    Where Naive2's error is 0 (flat series it forecasts exactly) a ratio follows MASE's rule for a zero
    scale: 0 when the model's error is 0 too (an sMAPE within 1e-9 %: rounding), else inf.

    >>> owa(9.0, 0.9, 10.0, 1.0)
    0.9
    >>> owa(1e-14, 0.0, 0.0, 0.0), owa(1.0, 0.1, 0.0, 0.0)
    (0.0, inf)
    """
    return 0.5 * float(scaled_error(smape_value, smape_naive2, ROUNDING) + scaled_error(mase_value, mase_naive2))
