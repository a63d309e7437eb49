"""Argument checks shared across tsrnn. Each raises ValueError naming the argument."""
from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_array(name: str, a, ndim: int, dtype: np.dtype, shape: tuple | None = None) -> np.ndarray:
    """Return ``a`` as a C-contiguous array after checking type, dims, dtype, shape and finiteness.

    ``shape`` may contain None for free dimensions. No silent casts: a dtype mismatch is an error,
    because a float64 array fed to a float32 network would be truncated without anyone noticing.
    """
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if a.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype}, got {a.dtype}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(a.shape, shape)):
            if want is not None and got != want:
                raise ValueError(f"{name} has shape {a.shape}, expected {tuple('*' if s is None else s for s in shape)}"
                                 f" (axis {axis} should be {want})")
    if a.size and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains non-finite values (first at index {tuple(int(i) for i in bad)})")
    return np.ascontiguousarray(a)


def check_positive_int(name: str, value) -> int:
    """``value`` as an int, or ValueError naming ``name`` unless it is an integer >= 1 (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_fraction(name: str, value, high_inclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    ok = 0.0 <= value <= 1.0 if high_inclusive else 0.0 <= value < 1.0
    if not ok:
        raise ValueError(f"{name} must be in [0, 1{']' if high_inclusive else ')'}, got {value}")
    return float(value)


def check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_output_names(id_col, time_col) -> None:
    """A model's long outputs keep the data's id and time column names beside columns of their own
    (``yhat``, ``yhat_lo_80``, ...; ``fallbacks_``' ``n_obs`` and ``rule``): a data column named like one
    of those would overwrite it.

    >>> check_output_names("yhat", "ds")
    Traceback (most recent call last):
    ...
    ValueError: id_col='yhat' is a name the forecasts give a column of their own; rename the data's column
    """
    for name, value, own in (("id_col", id_col, ("n_obs", "rule")), ("time_col", time_col, ())):
        if str(value).startswith("yhat") or value in own:
            raise ValueError(f"{name}={value!r} is a name the forecasts give a column of their own; rename the "
                             "data's column")
