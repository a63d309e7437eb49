"""Prediction intervals: split-conformal half-widths from held-out absolute errors.

The held-out |errors| r_ik (sample i, step k, in normalised units, each divided by its series' unit u_j:
the spread, the mean |z_t - z_{t-1}| of the prepared series, times the error scale: its relative
error on its last training windows, ``Forecaster._error_ratio``, raised to the exponent of
``choose_exponent``; ``SeriesStore.interval_scale``) are
divided by their step's mean s_k and pooled; with Q the ceil((N + 1) level)-th smallest of the N pooled
values, step k of series j gets the half-width u_j * s_k * Q: calm series get narrow intervals, volatile
ones wide. When there are too few held-out errors for the level (ceil((N + 1) level) > N: a few short
series), Q is the normal approximation z_level * RMS of the pooled values instead, and a warning says
so. Steps past the network's horizon (recursive forecasts) reuse the pattern, widened by
sqrt(recursion round). The held-out samples are a bounded, seeded sample of the last windows of the
series (``tsrnn.store.Windows``), so calibration costs the same for 1,000 or 100,000 series.
"""
from __future__ import annotations

import numbers
import warnings
from statistics import NormalDist

import numpy as np

from .metrics import interval_score_rows

__all__ = ["check_levels", "check_quantiles", "conformal_halfwidth", "choose_exponent"]

# The exponents tried for the error scale, and the levels whose interval scores pick one (``choose_exponent``).
EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
SCORED_LEVELS = (80.0, 95.0)


def check_levels(level) -> list[float]:
    """Coverage levels in (0, 100) as floats (``None`` -> no interval).

    >>> check_levels([80, 95])
    [80.0, 95.0]
    """
    return _numbers(level, 100, "level must be a number or a list of numbers in (0, 100), e.g. [80, 95]",
                    "level must be a coverage in (0, 100), e.g. [80, 95]")


def check_quantiles(quantiles) -> list[float]:
    """Probabilities in (0, 1) as floats, sorted and without repeats (``None`` -> none).

    >>> check_quantiles([0.9, 0.1, 0.5])
    [0.1, 0.5, 0.9]
    """
    message = "quantiles must be probabilities in (0, 1), e.g. [0.1, 0.5, 0.9]"
    return sorted(set(_numbers(quantiles, 1, message, message)))


def _numbers(values, upper: float, not_numbers: str, out_of_range: str) -> list[float]:
    """A number or a list of numbers strictly between 0 and ``upper``, as floats (None -> [])."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{not_numbers}; got {values!r}")
    items = [values] if isinstance(values, numbers.Real) else list(values)
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < upper:
            raise ValueError(f"{out_of_range}; got {v!r}")
    return [float(v) for v in items]


def conformal_halfwidth(residuals: np.ndarray, level: float, h: int, horizon: int) -> np.ndarray:
    """Half-width (h,) in normalised units for coverage ``level`` from residuals (N, horizon).

    >>> r = np.abs(np.random.default_rng(0).normal(size=(200, 2)))
    >>> conformal_halfwidth(r, 80, 3, 2).shape
    (3,)
    """
    scale = residuals.mean(axis=0) + 1e-12
    pooled = np.sort((residuals / scale).ravel())
    rank = int(np.ceil((len(pooled) + 1) * level / 100.0))
    if rank <= len(pooled):
        quantile = pooled[rank - 1]
    else:
        quantile = NormalDist().inv_cdf(0.5 + level / 200.0) * np.sqrt(np.mean(pooled ** 2))
        warnings.warn(f"level {level:g} needs at least {int(np.ceil(100 / (100 - level))) - 1} held-out errors "
                      f"for a conformal interval; fit had {len(pooled)} (longer or more series give more): the "
                      "interval is the normal approximation from their RMS", UserWarning, stacklevel=3)
    steps = np.arange(h)
    return scale[steps % horizon] * quantile * np.sqrt(steps // horizon + 1)


def choose_exponent(errors: np.ndarray, series: np.ndarray, ratio: np.ndarray,
                    exponents=EXPONENTS, levels=SCORED_LEVELS) -> float:
    """The exponent a (of ``exponents``) for which the error scale ``ratio ** a`` gives the held-out
    samples the lowest mean interval score (Gneiting & Raftery's, ``metrics.interval_score_rows``, summed
    over ``levels``) with the half-widths ``conformal_halfwidth`` gives them.

    errors (N, horizon): held-out |errors| in spread units; series (N,): each sample's series; ratio
    (n,): each series' relative in-sample error. a = 0 is one width for all series (in spread units),
    a = 1 trusts the in-sample errors fully; the score weighs a width against the misses it causes,
    ``2 w + (2 / alpha) max(0, |e| - w)``, so a trades sharpness for coverage as MSIS does. One number
    chosen from five on thousands of errors: the conformal quantile stays (nearly) exact.

    >>> rng = np.random.default_rng(0)
    >>> ratio = np.repeat([0.2, 5.0], 100); series = np.arange(200)
    >>> errors = np.abs(rng.normal(size=(200, 3))) * ratio[:, None]  # the in-sample errors are right
    >>> choose_exponent(errors, series, ratio)
    1.0
    """
    horizon = errors.shape[1]

    def score(a: float) -> float:
        unit = ratio[series][:, None] ** a
        total = 0.0
        for level in levels:
            with warnings.catch_warnings():          # too few errors: the normal approximation predict uses
                warnings.simplefilter("ignore", UserWarning)
                width = unit * conformal_halfwidth(errors / unit, level, horizon, horizon)
            total += interval_score_rows(errors, -width, width, level).mean()
        return total

    return float(exponents[int(np.argmin([score(a) for a in exponents]))])
