"""pandas at the edge: every input form becomes a :class:`Panel` of float64 NumPy series, and forecasts go
back into the caller's form. The only module of the package that knows pandas; no numba here.

Accepted inputs (``to_panel``):

* ``pd.Series`` indexed by a ``DatetimeIndex`` (frequency set or inferable, or given as ``freq``),
  a ``PeriodIndex``, or a ``RangeIndex``/integer index with a constant step;
* a 1-D NumPy array (or list) -> integer steps 0..n-1;
* a long ``pd.DataFrame`` with columns ``unique_id, ds, y`` (names configurable), ``ds`` datetime or
  integer; rows may come in any order (they are sorted by id and time, the caller's frame is not touched);
* a wide ``pd.DataFrame``: one column per series, the index is the time axis.

Everything that would silently corrupt a forecast is an error naming the series and the place: NaN/inf
(unless a ``fill`` is asked for), duplicate or decreasing timestamps in an index, missing timestamps in a
regular series, non-numeric values, empty input, unknown columns, an unknown frequency.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Panel", "to_panel", "future_index", "FILLS"]

FILLS = (None, "ffill", "interpolate", "zero")


@dataclass
class Panel:
    """Series as float64 arrays plus what is needed to put forecasts back on their time axis."""
    ids: list                    # one id per series
    values: list                 # [np.ndarray (n_i,) float64]
    last: list                   # last time stamp of each series (Timestamp, Period or int)
    step: object                 # pandas offset (datetime), 1 (period) or int step (integer axis)
    kind: str                    # "series" | "array" | "long" | "wide"
    time_kind: str               # "datetime" | "period" | "integer"
    name: object = None          # Series name / target column (for the output)

    def __len__(self) -> int:
        return len(self.values)


def _fill(name, values: np.ndarray, fill):
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    where = np.flatnonzero(bad)
    if fill is None or np.isinf(values[where]).any():
        what = "inf" if np.isinf(values[where]).any() else "NaN"
        raise ValueError(f"series {name!r} contains {what} values ({len(where)} of {len(values)}, first at "
                         f"position {where[0]}); clean them or pass fill='ffill', 'interpolate' or 'zero' "
                         "(fill handles NaN only)")
    s = pd.Series(values)
    if fill == "zero":
        s = s.fillna(0.0)
    elif fill == "ffill":
        s = s.ffill().bfill()
    else:
        s = s.interpolate(limit_direction="both")
    return s.to_numpy(np.float64)


def _numeric(name, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise ValueError(f"series {name!r} must be numeric, got dtype {arr.dtype}")
    if arr.dtype == object:
        try:
            arr = pd.to_numeric(pd.Series(arr), errors="raise").to_numpy()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"series {name!r} must be numeric; found non-numeric values ({exc})") from None
    if np.iscomplexobj(arr):
        raise ValueError(f"series {name!r} must be real-valued, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _infer_freq(index: pd.DatetimeIndex):
    with warnings.catch_warnings():        # pandas 3 warns that infer_freq will return an offset
        warnings.simplefilter("ignore")
        found = pd.infer_freq(index)
    return None if found is None else pd.tseries.frequencies.to_offset(found)


def _datetime_step(name, index: pd.DatetimeIndex, freq):
    """The series' frequency: given, stored on the index, inferred from the whole index, or, when
    that fails because of gaps, the frequency most short stretches of the index agree on (so that a
    gap is then reported as missing timestamps rather than as an unknown frequency)."""
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    if index.freq is not None:
        return index.freq
    if len(index) >= 3:
        whole = _infer_freq(index)
        if whole is not None:
            return whole
        starts = range(0, max(1, len(index) - 4), max(1, (len(index) - 4) // 20))
        votes = [f for f in (_infer_freq(index[i:i + 5]) for i in starts) if f is not None]
        if votes:
            best = max(set(votes), key=votes.count)
            if votes.count(best) * 2 > len(votes):
                return best
    raise ValueError(f"cannot infer the frequency of series {name!r} (irregular timestamps?); "
                     "pass freq= (e.g. 'D', 'MS', 'h') or make the timestamps regular")


def _check_time_axis(name, index: pd.Index, freq):
    """Validate a series' time axis; return (time_kind, step)."""
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(f"series {name!r} has duplicate timestamps (first: {dup})")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(np.asarray(index[1:]) < np.asarray(index[:-1]))[0]) + 1
        raise ValueError(f"series {name!r} has unsorted timestamps ({index[pos]} comes after {index[pos - 1]}, "
                         f"position {pos}); sort it by time first")
    if isinstance(index, pd.DatetimeIndex):
        step = _datetime_step(name, index, freq)
        expected = pd.date_range(index[0], periods=len(index), freq=step)
        if not expected.equals(index):
            full = pd.date_range(index[0], index[-1], freq=step)
            missing = full.difference(index)
            detail = f"first missing: {missing[0]}" if len(missing) else "timestamps off the frequency grid"
            raise ValueError(f"series {name!r} has missing timestamps for frequency {step.freqstr} ({detail}); "
                             "fill the gaps (e.g. with .asfreq()) or pass the right freq")
        return "datetime", step
    if isinstance(index, pd.PeriodIndex):
        if len(index) > 1 and not (np.diff(index.asi8) == 1).all():
            raise ValueError(f"series {name!r} has missing periods")
        return "period", 1
    if pd.api.types.is_integer_dtype(index.dtype):
        ints = np.asarray(index, dtype=np.int64)
        step = int(ints[1] - ints[0]) if len(ints) > 1 else 1
        if len(ints) > 1 and not (np.diff(ints) == step).all():
            gap = int(np.flatnonzero(np.diff(ints) != step)[0])
            raise ValueError(f"series {name!r} has missing time steps (irregular step after {ints[gap]})")
        return "integer", step
    raise ValueError(f"series {name!r} has an unsupported time index of type {type(index).__name__}; "
                     "use a DatetimeIndex, PeriodIndex or integer index")


def _merge_axes(axes: list[tuple[str, object]]):
    kinds = {a[0] for a in axes}
    if len(kinds) > 1:
        raise ValueError(f"all series must share one kind of time axis, got {sorted(kinds)}")
    steps = {str(a[1]) for a in axes}
    if len(steps) > 1:
        raise ValueError(f"all series must share one frequency, got {sorted(steps)}; pass freq= to choose one")
    return axes[0]


def to_panel(y, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
             freq=None, fill=None) -> Panel:
    """Validate ``y`` (any accepted form) and return a :class:`Panel`. ``y`` itself is never modified."""
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    if isinstance(y, pd.DataFrame):
        if y.empty or len(y.columns) == 0:
            raise ValueError("the DataFrame is empty")
        if id_col in y.columns or time_col in y.columns or target_col in y.columns:
            return _long_panel(y, id_col, time_col, target_col, freq, fill)
        return _wide_panel(y, freq, fill)
    if isinstance(y, pd.Series):
        if y.empty:
            raise ValueError("the Series is empty")
        name = y.name if y.name is not None else 0
        kind, step = _check_time_axis(name, y.index, freq)
        values = _fill(name, _numeric(name, y.to_numpy()), fill)
        return Panel([name], [values], [y.index[-1] if kind != "integer" else int(y.index[-1])], step, "series",
                     kind, y.name)
    if isinstance(y, (np.ndarray, list, tuple)):
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise ValueError(f"a NumPy input must be 1-D (one series), got shape {arr.shape}; "
                             "pass several series as a long or wide DataFrame")
        if arr.size == 0:
            raise ValueError("the array is empty")
        values = _fill(0, _numeric(0, arr), fill)
        return Panel([0], [values], [len(values) - 1], 1, "array", "integer")
    raise ValueError(f"y must be a pandas Series, a DataFrame or a 1-D NumPy array, got {type(y).__name__}")


def _long_panel(df: pd.DataFrame, id_col, time_col, target_col, freq, fill) -> Panel:
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ValueError(f"the long DataFrame lacks column(s) {missing}; it has {list(df.columns)} "
                         f"(expected {id_col!r}, {time_col!r}, {target_col!r}; set id_col/time_col/target_col)")
    extra = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    if extra:
        raise ValueError(f"unknown column(s) {extra} in the long DataFrame: tsrnn uses only "
                         f"{id_col!r}, {time_col!r}, {target_col!r} (select them first)")
    if df[id_col].isna().any():
        raise ValueError(f"column {id_col!r} contains missing ids")
    ds = df[time_col]
    if not (pd.api.types.is_datetime64_any_dtype(ds) or pd.api.types.is_integer_dtype(ds)):
        raise ValueError(f"column {time_col!r} must hold datetimes or integers, got dtype {ds.dtype}")
    target = df[target_col]
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        raise ValueError(f"column {target_col!r} must be numeric, got dtype {target.dtype}")
    ordered = df.sort_values([id_col, time_col], kind="stable")
    ids, values, lasts, axes = [], [], [], []
    for uid, group in ordered.groupby(id_col, sort=False):
        index = pd.DatetimeIndex(group[time_col]) if pd.api.types.is_datetime64_any_dtype(ds) \
            else pd.Index(group[time_col].to_numpy())
        axes.append(_check_time_axis(uid, index, freq))
        ids.append(uid)
        values.append(_fill(uid, group[target_col].to_numpy(np.float64), fill))
        lasts.append(index[-1] if axes[-1][0] == "datetime" else int(index[-1]))
    kind, step = _merge_axes(axes)
    return Panel(ids, values, lasts, step, "long", kind, target_col)


def _wide_panel(df: pd.DataFrame, freq, fill) -> Panel:
    kind, step = _check_time_axis("(wide index)", df.index, freq)
    last = df.index[-1] if kind != "integer" else int(df.index[-1])
    ids, values = [], []
    for col in df.columns:
        values.append(_fill(col, _numeric(col, df[col].to_numpy()), fill))
        ids.append(col)
    return Panel(ids, values, [last] * len(ids), step, "wide", kind)


def future_index(panel: Panel, i: int, h: int):
    """The h time stamps after series i."""
    last = panel.last[i]
    if panel.time_kind == "datetime":
        return pd.date_range(last + panel.step, periods=h, freq=panel.step)
    if panel.time_kind == "period":
        return pd.period_range(last + 1, periods=h, freq=last.freq)
    return pd.Index(last + panel.step * np.arange(1, h + 1), dtype=np.int64)


def to_output(panel: Panel, forecasts: list, extra: dict | None = None, value_name: str = "yhat"):
    """Forecasts (one (h,) array per series, plus optional extra columns with the same shapes) in the
    caller's form: Series for a Series/array, long DataFrame (unique_id, ds, yhat, ...) otherwise;
    a wide input gets a wide frame when there are no extra columns."""
    extra = extra or {}
    h = len(forecasts[0])
    if panel.kind in ("series", "array"):
        idx = future_index(panel, 0, h)
        if not extra:
            return pd.Series(forecasts[0], index=idx, name=panel.name if panel.kind == "series" else value_name)
        frame = pd.DataFrame({value_name: forecasts[0]}, index=idx)
        for col, vals in extra.items():
            frame[col] = vals[0]
        return frame
    if panel.kind == "wide" and not extra:
        return pd.DataFrame({uid: f for uid, f in zip(panel.ids, forecasts)}, index=future_index(panel, 0, h))
    stamps = [future_index(panel, i, h) for i in range(len(panel))]
    rows = {"unique_id": np.repeat(np.asarray(panel.ids, dtype=object), h),
            "ds": stamps[0].append(stamps[1:]) if len(stamps) > 1 else stamps[0],   # keeps datetime/period dtype
            value_name: np.concatenate(forecasts)}
    for col, vals in extra.items():
        rows[col] = np.concatenate(vals)
    return pd.DataFrame(rows)
