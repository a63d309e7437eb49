"""pandas at the edge: every input form becomes a :class:`Panel` (all series' values in one float64 array
plus offsets), and forecasts go back into the caller's form. The only module of the package that knows
pandas; no numba here.

Accepted inputs (``to_panel``):

* ``pd.Series`` indexed by a ``DatetimeIndex`` (frequency set or inferable, or given as ``freq``),
  a ``PeriodIndex``, or a ``RangeIndex``/integer index with a constant step;
* a 1-D NumPy array (or list) -> integer steps 0..n-1;
* a long ``pd.DataFrame`` with columns ``unique_id, ds, y`` (names configurable), ``ds`` datetime or
  integer; rows may come in any order (the order is fixed by one vectorised sort; the caller's frame is
  not touched);
* a wide ``pd.DataFrame``: one column per series, the index is the time axis (its name does not matter:
  ``df.pivot(index="ds", columns="unique_id", values="y")`` is one). A series may start after the
  index's first row (leading NaN: it had not begun); they all end at its last row.

A long frame may carry covariate columns, read only when named (``columns=``): numeric ones as float64,
boolean ones as 0/1, anything else (strings, objects, ``category``) as categories (integer codes into the
sorted categories). ``read_future`` reads the frame of future covariate values that a forecast needs, and
``calendar_features`` derives calendar features from the time stamps; ``tsrnn/covariates.py`` turns both
into network inputs.

A long frame is read with whole-frame NumPy operations, never a Python loop per series: the ids are
factorised once, the rows sorted once (skipped when they already are), and the time-axis checks
(duplicates, missing steps, the frequency grid) run over all rows at once. Everything that would silently
corrupt a forecast is an error naming the series and the place: NaN/inf (unless a ``fill`` is asked
for), duplicate or decreasing timestamps in an index, missing timestamps in a regular series (unless a
``fill`` is asked for: the missing stamps become NaN rows, then filled), stamps off the frequency grid,
non-numeric values, empty input, unknown columns, an unknown frequency. All bad series of a frame are
reported in one error: how many there are and the first ten, each with its problem.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

__all__ = ["Axis", "Column", "Panel", "SeriesError", "check_nonnegative", "to_panel", "to_output", "shift_stamps",
           "series_stamps", "read_future", "future_rows", "row_stamps", "calendar_features", "default_calendar",
           "FILLS", "CALENDAR"]

FILLS = (None, "ffill", "interpolate", "zero")
# the reason recorded for a series forecast by its value because its history does not vary: the
# Forecaster's constant-series rule, and a baseline's fallback where no model form fits such a history
CONSTANT_RULE = "constant: its value (the history does not vary)"
_LISTED = 10                     # bad series named in one error


@dataclass
class Axis:
    """Where a panel's series end and how their time advances: enough to put forecasts on the right
    time stamps, without the values (what a fitted model keeps of its series)."""
    ids: np.ndarray              # (n,) object array, one id per series
    last: object                 # (n,) last time stamp per series: DatetimeIndex, PeriodIndex or int64 array
    step: object                 # pandas offset (datetime), 1 (period) or int step (integer axis)
    kind: str                    # "series" | "array" | "long" | "wide" | "polars" (a long polars frame)
    time_kind: str               # "datetime" | "period" | "integer"
    name: object                 # Series name / target column (for the output)
    index_names: tuple           # (time, series) names of a Series' index or a wide frame's index and columns

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def freq(self):
        """The pandas frequency of a datetime axis (None for periods and integer steps): what a fitted
        model passes as ``to_panel``'s ``known_freq`` for new series too short to show their own."""
        return self.step if self.time_kind == "datetime" else None


@dataclass
class Column:
    """One covariate column of a long frame, row for row with the panel's ``data``."""
    kind: str                    # "numeric" | "bool" | "category"
    values: np.ndarray           # float64 (numeric; bool as 0.0/1.0) or int64 codes into ``categories``
    categories: tuple = ()       # category of each code (sorted when the values can be sorted)

    def take(self, rows: np.ndarray) -> "Column":
        return Column(self.kind, self.values[rows], self.categories)

    def decoded(self) -> np.ndarray:
        """The values as the frame had them (categories instead of codes)."""
        if self.kind != "category":
            return self.values.astype(bool) if self.kind == "bool" else self.values.copy()
        cats = np.empty(len(self.categories), dtype=object)
        cats[:] = list(self.categories)
        return cats[self.values]


@dataclass
class Panel(Axis):
    """Series as one float64 array plus offsets, with their :class:`Axis`: series ``i`` is
    ``data[offsets[i]:offsets[i + 1]]``; ``columns`` holds the covariate columns read with it."""
    data: np.ndarray             # (total,) float64, series after series
    offsets: np.ndarray          # (n + 1,) int64
    columns: dict = field(default_factory=dict)   # name -> Column, row for row with data
    filled: np.ndarray | None = None              # (total,) bool: the value was made up by ``fill``; None: none was

    def axis(self) -> Axis:
        return Axis(self.ids, self.last, self.step, self.kind, self.time_kind, self.name, self.index_names)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def values(self) -> list:
        """One view per series (for code that works series by series, such as the statsmodels baselines)."""
        return [self.data[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def subset(self, keep: np.ndarray, drop_last: np.ndarray | int = 0) -> "Panel":
        """The series ``keep`` (indices), each without its last ``drop_last`` points (one vectorised gather)."""
        keep = np.asarray(keep, dtype=np.int64)
        drop = np.broadcast_to(np.asarray(drop_last, dtype=np.int64), keep.shape)
        lengths = self.lengths[keep] - drop
        if (lengths < 1).any():
            raise ValueError("subset would leave an empty series")
        offsets = np.zeros(len(keep) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        rows = np.repeat(self.offsets[keep] - offsets[:-1], lengths) + np.arange(offsets[-1])
        last = shift_stamps(self, _take(self.last, keep), -drop)
        return Panel(self.ids[keep], last, self.step, self.kind, self.time_kind, self.name, self.index_names,
                     self.data[rows], offsets,
                     {name: col.take(rows) for name, col in self.columns.items()}, _take_rows(self.filled, rows))

    def rows_after(self, keep: np.ndarray, drop_last: int, steps: int) -> "Panel":
        """For the series ``keep`` cut by ``drop_last`` points (as ``subset``), the ``steps`` points after
        each cut: the rows a forecast from the cut reads its future covariates from."""
        keep = np.asarray(keep, dtype=np.int64)
        starts = self.offsets[keep] + self.lengths[keep] - drop_last
        rows = (starts[:, None] + np.arange(steps)).ravel()
        last = shift_stamps(self, _take(self.last, keep), np.full(len(keep), steps - drop_last))
        offsets = np.arange(len(keep) + 1, dtype=np.int64) * steps
        return Panel(self.ids[keep], last, self.step, self.kind, self.time_kind, self.name, self.index_names,
                     self.data[rows], offsets,
                     {name: col.take(rows) for name, col in self.columns.items()}, _take_rows(self.filled, rows))


def _take_rows(filled: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if filled is None else filled[rows]


def _take(last, idx):
    return last.take(idx) if isinstance(last, pd.Index) else np.asarray(last)[idx]


# ------------------------------------------------------------------------------------------------------
# time stamps, vectorised
def _fixed_ticks(index: pd.DatetimeIndex, step) -> int | None:
    """The step in the index's integer unit when it is a fixed duration on this axis (tz-naive axes:
    hours, minutes, days; a tz-aware day can be 23 or 25 hours), else None."""
    if index.tz is not None and not isinstance(step, pd.tseries.offsets.Tick):
        return None
    try:
        return int(pd.Timedelta(step) / pd.Timedelta(1, unit=index.unit))
    except (ValueError, TypeError):
        return None


def shift_stamps(panel_or_axis, last, k) -> object:
    """``last[j] + k[j] * step`` for every j, vectorised; ``last`` of the panel's kind."""
    step, time_kind = panel_or_axis.step, panel_or_axis.time_kind
    k = np.asarray(k, dtype=np.int64)
    if time_kind == "integer":
        return np.asarray(last, dtype=np.int64) + k * int(step)
    if time_kind == "period":
        return last + k
    fixed = _fixed_ticks(last, step)
    if fixed is not None:
        return pd.DatetimeIndex(last.asi8 + k * fixed, dtype=last.dtype)
    # calendar offsets (months, weeks, business days, tz-aware days): positions on one global grid
    if len(last) == 0:
        return last
    kmin, kmax = int(k.min()), int(k.max())
    start = last.min() + step * kmin if kmin < 0 else last.min()     # offset * 0 would roll forward
    end = last.max() + step * kmax if kmax > 0 else last.max()
    grid = pd.date_range(start, end, freq=step)       # tz-aware when the stamps are
    pos = grid.searchsorted(last)
    on = (pos < len(grid)) & (grid.take(np.minimum(pos, len(grid) - 1)) == last)
    if on.all():
        return grid.take(pos + k)
    stamps = list(grid.take(np.where(on, pos + k, 0)))  # off the global grid (e.g. '2MS' of another phase)
    for j in np.flatnonzero(~on):
        stamps[j] = last[j] + step * int(k[j]) if k[j] else last[j]
    return pd.DatetimeIndex(stamps).as_unit(last.unit)


def series_stamps(panel: Axis, k: np.ndarray, series: np.ndarray):
    """Time stamps ``last[series[j]] + k[j] * step`` (k = 0 is the last point, negative k goes back)."""
    return shift_stamps(panel, _take(panel.last, series), k)


# ------------------------------------------------------------------------------------------------------
# one series (Series, array, wide columns)
class SeriesError(ValueError):
    """A problem of one series: ``str`` is "series <name> <problem>"; a frame's reader collects the
    ``problem`` of every bad series into one error."""

    def __init__(self, name, problem: str):
        super().__init__(f"series {name!r} {problem}")
        self.name, self.problem = name, problem


def _fill(name, values: np.ndarray, fill):
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    where = np.flatnonzero(bad)
    if fill is None or np.isinf(values[where]).any():
        what = "inf" if np.isinf(values[where]).any() else "NaN"
        raise SeriesError(name, f"contains {what} values ({len(where)} of {len(values)}, first at "
                         f"position {where[0]}); clean them or pass fill='ffill', 'interpolate' or 'zero' "
                         "(fill handles NaN only)")
    if bad.all():
        raise SeriesError(name, f"has no values: all {len(values)} are NaN")
    return _filled(values, np.array([0, len(values)]), fill)


def _filled(values: np.ndarray, offsets: np.ndarray, fill) -> np.ndarray:
    """A new array: the NaN of every series ``values[offsets[i]:offsets[i + 1]]`` filled with 0
    (``"zero"``), the last value before (``"ffill"``; the first after for leading NaN) or the straight
    line between the values on either side (``"interpolate"``; the nearest value at either end), as
    pandas' ``fillna(0)``, ``ffill().bfill()`` and ``interpolate(limit_direction="both")`` fill each
    series, but whole-array: 50,000 monthly series of 120 points with 60,000 missing stamps read in
    0.2-1.1 s, against 4.0 s when pandas filled them one series after another. A series without any
    value gets meaningless numbers: the callers report it."""
    nan = np.isnan(values)
    if fill == "zero":
        return np.where(nan, 0.0, values)
    idx = np.arange(len(values))
    lengths = np.diff(offsets)
    start, end = np.repeat(offsets[:-1], lengths), np.repeat(offsets[1:], lengths)
    before = np.maximum.accumulate(np.where(nan, -1, idx))              # the last value at or before each point
    after = np.minimum.accumulate(np.where(nan, len(values), idx)[::-1])[::-1]   # the first at or after it
    has_before, has_after = before >= start, after < end
    lo = np.clip(np.where(has_before, before, after), 0, len(values) - 1)
    hi = np.clip(np.where(has_after, after, before), 0, len(values) - 1)
    if fill == "ffill":
        return np.where(nan, values[lo], values)
    share = np.where(has_before & has_after, (idx - lo) / np.maximum(hi - lo, 1), 0.0)
    return np.where(nan, values[lo] + (values[hi] - values[lo]) * share, values)


def _numeric(name, values) -> np.ndarray:
    if isinstance(values, np.ma.MaskedArray):           # masked values are missing values, not numbers
        values = np.ma.filled(values.astype(np.float64), np.nan)
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind in "mM" or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise SeriesError(name, f"must be numeric, got dtype {arr.dtype}")
    if arr.dtype == object:
        try:
            arr = pd.to_numeric(pd.Series(arr), errors="raise").to_numpy()
        except (ValueError, TypeError) as exc:
            raise SeriesError(name, f"must be numeric; found non-numeric values ({exc})") from None
    if np.iscomplexobj(arr):
        raise SeriesError(name, f"must be real-valued, got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64)            # always a copy: the caller's data stays untouched


def _infer_freq(index: pd.DatetimeIndex):
    with warnings.catch_warnings():        # pandas 3 warns that infer_freq will return an offset
        warnings.simplefilter("ignore")
        found = pd.infer_freq(index)
    return None if found is None else pd.tseries.frequencies.to_offset(found)


def _datetime_step(name, index: pd.DatetimeIndex, freq, known_freq=None):
    """The series' frequency: given, stored on the index, inferred from the whole index, or, when
    that fails because of gaps, the frequency most short stretches of the index agree on (so that a
    gap is then reported as missing timestamps rather than as an unknown frequency); ``known_freq``
    (a fitted model's) for a series of fewer than three stamps, which cannot show its own."""
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
    elif known_freq is not None:
        return pd.tseries.frequencies.to_offset(known_freq)
    raise ValueError(f"cannot infer the frequency of series {name!r} (irregular timestamps?); "
                     "pass freq= (e.g. 'D', 'MS', 'h') or make the timestamps regular")


def _check_time_axis(name, index: pd.Index, freq, known_freq=None):
    """Validate one series' time axis; return (time_kind, step) (``known_freq``: ``_datetime_step``)."""
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise SeriesError(name, f"has duplicate timestamps (first: {dup})")
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(np.asarray(index[1:]) < np.asarray(index[:-1]))[0]) + 1
        raise SeriesError(name, f"has unsorted timestamps ({index[pos]} comes after {index[pos - 1]}, "
                         f"position {pos}); sort it by time first")
    if isinstance(index, pd.DatetimeIndex):
        step = _datetime_step(name, index, freq, known_freq)
        expected = pd.date_range(index[0], periods=len(index), freq=step)
        if not expected.equals(index):
            full = pd.date_range(index[0], index[-1], freq=step)
            off = index.difference(full)                 # first: no fill repairs a stamp off the grid
            if len(off):
                raise SeriesError(name, f"has timestamps off the frequency grid of {step.freqstr} (first: "
                                 f"{off[0]}); pass the right freq")
            raise SeriesError(name, f"has missing timestamps for frequency {step.freqstr} (first missing: "
                             f"{full.difference(index)[0]}); pass fill= to fill them, fill them yourself (e.g. with "
                             ".asfreq()) or pass the right freq")
        return "datetime", step
    if isinstance(index, pd.PeriodIndex):
        if len(index) > 1 and not (np.diff(index.asi8) == index.freq.n).all():
            raise SeriesError(name, "has missing periods; pass fill= to fill them")
        return "period", 1
    if pd.api.types.is_integer_dtype(index.dtype):
        ints = np.asarray(index, dtype=np.int64)
        step = int(ints[1] - ints[0]) if len(ints) > 1 else 1
        if len(ints) > 1 and not (np.diff(ints) == step).all():
            gap = int(np.flatnonzero(np.diff(ints) != step)[0])
            raise SeriesError(name, f"has missing time steps (irregular step after {ints[gap]}); "
                                    "pass fill= to fill them")
        return "integer", step
    raise SeriesError(name, f"has an unsupported time index of type {type(index).__name__}; "
                     "use a DatetimeIndex, PeriodIndex or integer index")


def _too_many_gaps(name, filled: int, observed: int, step_name: str) -> SeriesError:
    return SeriesError(name, f"has {filled} missing timestamps for frequency {step_name} against {observed} "
                             "present: a fill would invent most of the series; check the time stamps or freq=")


def _on_full_grid(name, y, freq):
    """``y`` (a Series or a wide frame) reindexed onto every time step from its first stamp to its last,
    NaN at the missing ones (the ``fill`` then repairs them): for a ``fill`` given with an index that has
    gaps. Returned as is when there are none, or when the index is not a regular grid with gaps
    (duplicates, disorder, stamps off the grid: ``_check_time_axis`` names them); an error when the gaps
    would be most of the series."""
    index = y.index
    if len(index) < 2 or index.has_duplicates or not index.is_monotonic_increasing:
        return y
    if isinstance(index, pd.DatetimeIndex):
        try:
            step = _datetime_step(name, index, freq)
        except ValueError:
            return y
        full, step_name = pd.date_range(index[0], index[-1], freq=step), step.freqstr
    elif isinstance(index, pd.PeriodIndex):
        full, step_name = pd.period_range(index[0], index[-1], freq=index.freq), index.freqstr
    elif pd.api.types.is_integer_dtype(index.dtype):
        ints = np.asarray(index, dtype=np.int64)
        step = int(np.diff(ints).min())
        full, step_name = pd.Index(np.arange(ints[0], ints[-1] + 1, step)), f"{step} (integer steps)"
    else:
        return y
    if len(full) == len(index) or not index.isin(full).all():
        return y
    if len(full) - len(index) > len(index):
        raise _too_many_gaps(name, len(full) - len(index), len(index), step_name)
    return y.reindex(full)


def _last_of(index: pd.Index, kind: str):
    return index[-1:] if kind in ("datetime", "period") else np.asarray(index[-1:], dtype=np.int64)


def _single(values: np.ndarray, name, last, step, kind, time_kind, series_name=None, fill=None,
            time_name=None) -> Panel:
    """A panel of one series, its NaN filled by ``fill`` (and marked ``filled``)."""
    ids = np.empty(1, dtype=object)
    ids[0] = name
    made = _made_up(values, fill)
    return Panel(ids, last, step, kind, time_kind, series_name, (time_name, None), _fill(name, values, fill),
                 np.array([0, len(values)], np.int64), filled=made)


def _made_up(values: np.ndarray, fill) -> np.ndarray | None:
    """Where ``fill`` will make a value up (the NaN of ``values``); None without a fill or a NaN."""
    if fill is None:
        return None
    made = np.isnan(values)
    return made if made.any() else None


# ------------------------------------------------------------------------------------------------------
def check_nonnegative(panel: Panel) -> None:
    """A ValueError naming every series (the first ten) with a value below 0, for models told that the
    data cannot be negative (``nonnegative=True``).

    >>> check_nonnegative(to_panel(pd.Series([1.0, 0.0, 2.0])))
    >>> check_nonnegative(to_panel(pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [1, 2, 1, 2],
    ...                                          "y": [1.0, -2.0, 3.0, 4.0]})))
    Traceback (most recent call last):
    ...
    ValueError: nonnegative=True, but series 'a' has values below 0 (1 of 2, first at position 1: -2)
    """
    rows = np.flatnonzero(panel.data < 0)
    if not len(rows):
        return
    series = np.searchsorted(panel.offsets, rows, side="right") - 1      # the series of each such value
    counts = np.bincount(series, minlength=len(panel.lengths))

    def describe(i: int) -> str:
        first = int(rows[np.searchsorted(series, i)])                  # rows ascend, so series do too
        return (f"has values below 0 ({counts[i]} of {panel.lengths[i]}, first at position "
                f"{first - panel.offsets[i]}: {panel.data[first]:g})")
    problems = _Problems(np.asarray(panel.ids))
    problems.add(series, describe)
    problems.raise_any("nonnegative=True, but ")


def to_panel(y, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
             freq=None, fill=None, columns=(), static=(), known_freq=None) -> Panel:
    """Validate ``y`` (any accepted form) and return a :class:`Panel`. ``y`` itself is never modified.

    ``known_freq``: the frequency of time stamps too few (under three in every series) to infer it
    from, as a fitted model knows it; ``freq``, when given, still rules.

    A long frame may hold its ids and time stamps as index levels named ``id_col`` and ``time_col`` (a
    frame after ``set_index(["unique_id", "ds"])``).

    ``columns``: covariate columns of a long frame to read along (any other column is an error);
    ``static``: those among them that must be constant within each series. A NaN in a numeric covariate
    is an error naming the series and the column, or is filled by ``fill`` like the target.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["b", "a", "a"], "ds": [1, 2, 1], "y": [5.0, 2.0, 1.0]})
    >>> panel = to_panel(df)
    >>> list(panel.ids), panel.data.tolist(), panel.offsets.tolist()
    (['a', 'b'], [1.0, 2.0, 5.0], [0, 2, 3])
    """
    columns = list(dict.fromkeys(columns))
    if is_polars(y):
        panel = to_panel(from_polars(y), id_col, time_col, target_col, freq, fill, columns, static, known_freq)
        if panel.kind != "long":
            raise ValueError(f"a polars DataFrame must be a long frame with columns {id_col!r}, {time_col!r}, "
                             f"{target_col!r}; it has {list(y.columns)}")
        return replace(panel, kind="polars")
    if isinstance(y, Panel):
        missing = [c for c in columns if c not in y.columns]
        if missing:
            raise ValueError(f"the data lack the covariate column(s) {missing}")
        return y
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    if isinstance(y, pd.DataFrame):
        if y.empty or len(y.columns) == 0:
            raise ValueError("the DataFrame is empty")
        # long: any of the three columns, or the ids as an index level (``set_index([id_col, time_col])``);
        # an index that is only the time axis (``df.pivot(index="ds", columns="unique_id")``) is wide
        if id_col in y.columns or time_col in y.columns or target_col in y.columns or id_col in y.index.names:
            return _long_panel(levels_as_columns(y, id_col, time_col), id_col, time_col, target_col, freq, fill,
                               columns, static, known_freq)
        if columns:
            raise ValueError(f"covariates {columns} need a long DataFrame ({id_col!r}, {time_col!r}, {target_col!r} "
                             "and the covariate columns); this one has none of those columns")
        return _wide_panel(_on_full_grid("(wide index)", y, freq) if fill is not None else y, freq, fill, known_freq)
    if columns:
        raise ValueError(f"covariates {columns} need a long DataFrame ({id_col!r}, {time_col!r}, {target_col!r} "
                         f"and the covariate columns), got a {type(y).__name__}")
    if isinstance(y, pd.Series):
        if y.empty:
            raise ValueError("the Series is empty")
        name = y.name if y.name is not None else 0
        if fill is not None:
            y = _on_full_grid(name, y, freq)
        kind, step = _check_time_axis(name, y.index, freq, known_freq)
        return _single(_numeric(name, y.to_numpy()), name, _last_of(y.index, kind), step, "series", kind, y.name, fill,
                       y.index.name)
    if isinstance(y, (np.ndarray, list, tuple)):
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise ValueError(f"a NumPy input must be 1-D (one series), got shape {arr.shape}; "
                             "pass several series as a long or wide DataFrame")
        if arr.size == 0:
            raise ValueError("the array is empty")
        values = _numeric(0, y if isinstance(y, np.ma.MaskedArray) else arr)
        return _single(values, 0, np.array([len(values) - 1], np.int64), 1, "array", "integer", fill=fill)
    raise ValueError(f"y must be a pandas Series, a DataFrame or a 1-D NumPy array, got {type(y).__name__}")


def _wide_panel(df: pd.DataFrame, freq, fill, known_freq=None) -> Panel:
    kind, step = _check_time_axis("(wide index)", df.index, freq, known_freq)
    if df.columns.has_duplicates:
        raise ValueError(f"the wide DataFrame has duplicate column names: "
                         f"{list(df.columns[df.columns.duplicated()].unique()[:_LISTED])}")
    raw = [_started(col, _numeric(col, df[col].to_numpy()), fill) for col in df.columns]
    made = _made_up(np.concatenate(raw), fill)
    columns = [_fill(col, values, fill) for col, values in zip(df.columns, raw)]
    last = _last_of(df.index, kind)
    ids = np.empty(len(columns), dtype=object)
    ids[:] = list(df.columns)
    last = last.repeat(len(columns)) if isinstance(last, pd.Index) else np.repeat(last, len(columns))
    offsets = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in columns], out=offsets[1:])
    return Panel(ids, last, step, "wide", kind, None, (df.index.name, df.columns.name), np.concatenate(columns),
                 offsets, filled=made)


def _started(name, values: np.ndarray, fill) -> np.ndarray:
    """A wide frame's column from its first value on: its leading NaN are rows before the series began
    (a frame made by ``pivot`` from series of different starts), not missing values. The series of a wide
    frame share the index's last row as their end, so trailing NaN are an error unless ``fill`` fills them."""
    present = np.flatnonzero(~np.isnan(values))
    if not len(present):
        raise SeriesError(name, "has no values (every row of its column is NaN)")
    if fill is None and present[-1] < len(values) - 1:
        raise SeriesError(name, f"ends {len(values) - 1 - present[-1]} row(s) before the wide frame's last row "
                          "(trailing NaN): the series of a wide frame end together; pass a long frame for "
                          "series that end at different times, or fill= to fill them")
    return values[present[0]:]


# ------------------------------------------------------------------------------------------------------
# long frames: whole-frame operations
def factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize`` in the order tsrnn gives ids and categories: sorted (a ``category`` dtype: its own
    order), or first seen when the values cannot be sorted (mixed types). Unhashable values: TypeError.

    >>> codes, uniques = factorize(pd.Series(["b", "a", "b"]))
    >>> codes.tolist(), list(uniques)
    ([1, 0, 1], ['a', 'b'])
    >>> list(factorize(pd.Series(["b", "a"], dtype=pd.CategoricalDtype(["b", "a"])))[1])
    ['b', 'a']
    """
    try:
        return pd.factorize(values, sort=True)
    except TypeError:
        return pd.factorize(values, sort=False)


def levels_as_columns(df: pd.DataFrame, id_col, time_col) -> pd.DataFrame:
    """``df`` with the id and time index levels (a frame after ``set_index([id_col, time_col])``) as
    columns: a new frame, or ``df`` itself when there are none.

    >>> df = pd.DataFrame({"unique_id": ["a", "a"], "ds": [1, 2], "y": [1.0, 2.0]}).set_index(["unique_id", "ds"])
    >>> list(levels_as_columns(df, "unique_id", "ds").columns)
    ['unique_id', 'ds', 'y']
    """
    levels = [c for c in (id_col, time_col) if c in df.index.names and c not in df.columns]
    return df.reset_index(levels) if levels else df


class _Problems:
    """Bad series found while reading a frame, reported together in one error."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        self.found: dict[int, str] = {}

    def add(self, series: np.ndarray, describe) -> None:
        """``describe(i)`` -> the problem of series i (called for the listed ones only)."""
        series = np.unique(series)
        for i in series[:_LISTED]:
            self.found.setdefault(int(i), describe(int(i)))
        for i in series[_LISTED:]:
            self.found.setdefault(int(i), "")

    def raise_any(self, context: str = "") -> None:
        """One ValueError listing the problems found, after ``context`` (e.g. the setting that makes them so)."""
        if not self.found:
            return
        listed = [(i, msg) for i, msg in sorted(self.found.items()) if msg][:_LISTED]
        parts = [f"series {self.ids[i]!r} {msg}" for i, msg in listed]
        if len(self.found) == 1:
            raise ValueError(context + parts[0])
        more = f" (first {len(parts)} listed)" if len(self.found) > len(parts) else ""
        raise ValueError(f"{context}{len(self.found)} of {len(self.ids)} series have bad data{more}: "
                         + "; ".join(parts))


_OWN_COLUMN_AS_COVARIATE = {
    "id": "for a per-series static covariate, copy it into a column of another name",
    "time": "calendar=True derives features from the time stamps",
    "target": "the network reads its past already, and as a future covariate it would need the values "
              "being forecast",
}


def _long_panel(df: pd.DataFrame, id_col, time_col, target_col, freq, fill, columns=(), static=(),
                known_freq=None) -> Panel:
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ValueError(f"the long DataFrame lacks column(s) {missing}; it has {list(df.columns)} "
                         f"(expected {id_col!r}, {time_col!r}, {target_col!r}; set id_col/time_col/target_col)")
    for role, own in (("id", id_col), ("time", time_col), ("target", target_col)):
        if own in columns:
            raise ValueError(f"{own!r} is the {role} column and cannot be a covariate too: "
                             + _OWN_COLUMN_AS_COVARIATE[role])
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise ValueError(f"covariate column(s) {absent} are not in the long DataFrame; it has {list(df.columns)}")
    extra = [c for c in df.columns if c not in (id_col, time_col, target_col) and c not in columns]
    if extra:
        named = f" and the covariates {columns}" if columns else ""
        raise ValueError(f"unknown column(s) {extra} in the long DataFrame: tsrnn uses {id_col!r}, {time_col!r}, "
                         f"{target_col!r}{named}; select the columns first, or name covariates with "
                         "past_covariates=, future_covariates= or static_covariates=")
    id_series = df[id_col]
    if id_series.isna().any():
        raise ValueError(f"column {id_col!r} contains missing ids")
    ds = df[time_col]
    datetime = pd.api.types.is_datetime64_any_dtype(ds)
    if not (datetime or pd.api.types.is_integer_dtype(ds)):
        raise ValueError(f"column {time_col!r} must hold datetimes or integers, got dtype {ds.dtype}")
    target = df[target_col]
    if pd.api.types.is_bool_dtype(target) or target.dtype.kind in "mM":
        raise ValueError(f"column {target_col!r} must be numeric, got dtype {target.dtype}")

    try:
        codes, uniques = factorize(id_series)
    except TypeError:
        raise ValueError(f"column {id_col!r} holds ids that cannot be told apart (unhashable, such as "
                         f"{id_series.iloc[0]!r}); use strings, numbers, time stamps or tuples") from None
    codes = codes.astype(np.int32 if len(uniques) < 2**31 else np.int64, copy=False)
    ids = np.empty(len(uniques), dtype=object)
    ids[:] = list(uniques)
    index = pd.DatetimeIndex(ds) if datetime else None
    ticks = index.asi8 if datetime else ds.to_numpy(np.int64)

    order = None                                       # rows by (series, time); skipped when already so
    if not _sorted(codes, ticks):
        order = np.lexsort((ticks, codes))
        codes, ticks = codes[order], ticks[order]
    counts = np.bincount(codes, minlength=len(ids))
    offsets = np.zeros(len(ids) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    problems = _Problems(ids)

    values = _long_values(target, target_col, order, offsets, problems)
    dup = _flag_steps(codes, ticks, lambda gaps, a, b: gaps == 0)
    if len(dup):
        problems.add(codes[dup], lambda i: "has duplicate timestamps (first: "
                     f"{_stamp(index, order, dup[np.searchsorted(codes[dup], i)] + 1, ticks, datetime)})")
    step, time_kind = _long_step(index, ticks, offsets, codes, order, freq, datetime, problems, known_freq)
    gaps = None if fill is None or len(dup) else _gap_layout(index, ticks, step, codes, offsets, problems)
    if gaps is not None:                                 # fill= and missing stamps: NaN rows there, filled below
        values = gaps.spread(values, np.nan)
    elif datetime:
        _check_grid(index, ticks, step, codes, offsets, order, problems)
    else:
        irregular = _flag_steps(codes, ticks, lambda gaps, a, b: (gaps != step) & (gaps != 0))
        if len(irregular):
            problems.add(codes[irregular], lambda i: "has missing time steps (irregular step after "
                         f"{ticks[irregular[np.searchsorted(codes[irregular], i)]]}); pass fill= to fill them")
    rows = offsets if gaps is None else gaps.offsets   # the panel's series, gap rows included
    made = _made_up(values, fill)
    _fill_long(values, rows, fill, problems, ids)
    read = {name: _long_column(df[name], name, order, rows, fill, problems, ids, gaps, name in static)
            for name in columns}
    for name in static:
        _check_static(read[name], name, rows, problems)
    problems.raise_any()
    ends = offsets[1:] - 1
    if datetime:
        last = index.take(order[ends] if order is not None else ends)
    else:
        last = ticks[ends].copy()
    return Panel(ids, last, step, "long", time_kind, target_col, (None, None), values, rows, read, made)


@dataclass
class _Gaps:
    """Where a long frame's rows go once its missing time stamps are rows too (``fill=`` given): row ``j``
    of the sorted frame becomes panel row ``dest[j]``; ``offsets`` are the series' bounds with the gaps."""
    dest: np.ndarray
    offsets: np.ndarray

    def spread(self, values: np.ndarray, blank) -> np.ndarray:
        """``values`` (sorted frame order) at their panel rows, ``blank`` in the gaps."""
        out = np.full(self.offsets[-1], blank, dtype=values.dtype)
        out[self.dest] = values
        return out

    def carried(self, values: np.ndarray) -> np.ndarray:
        """``values`` at their panel rows, each gap holding its series' last value before it (every series
        starts with a row of the frame, so the last row at or before a gap is always its own)."""
        last = np.zeros(self.offsets[-1], np.int64)
        last[self.dest] = np.arange(len(self.dest))
        return values[np.maximum.accumulate(last)]


def _gap_layout(index, ticks, step, codes, offsets, problems) -> _Gaps | None:
    """The rows of a sorted long frame, without duplicates, on the ``step`` grid with its missing stamps
    added (``_Gaps``); None when no series misses a stamp or when some row is off the grid (the grid
    checks then name it). A series whose missing stamps outnumber its rows is reported instead."""
    if index is None or _fixed_ticks(index, step) is not None:        # integer steps, fixed-length offsets
        fixed = step if index is None else _fixed_ticks(index, step)
        since = ticks - ticks[offsets[codes]]
        if (since % fixed).any():
            return None
        slot = since // fixed
    else:                                                # calendar offsets: positions on one global grid
        grid = pd.date_range(index.min(), index.max(), freq=step).as_unit(index.unit).asi8
        pos = np.minimum(np.searchsorted(grid, ticks), len(grid) - 1)
        if (grid[pos] != ticks).any():
            return None
        slot = pos - pos[offsets[codes]]
    counts = np.diff(offsets)
    spans = slot[offsets[1:] - 1] + 1
    if (spans == counts).all():
        return None
    name = step.freqstr if index is not None else f"{step} (integer steps)"
    sparse = np.flatnonzero(spans - counts > counts)
    if len(sparse):                                     # before the rows are laid out: a stray stamp can be far off
        problems.add(sparse, lambda i: _too_many_gaps(problems.ids[i], int(spans[i] - counts[i]), int(counts[i]),
                                                      name).problem)
        problems.raise_any()
    new = np.zeros(len(offsets), np.int64)
    np.cumsum(spans, out=new[1:])
    return _Gaps(new[codes] + slot, new)


def _long_column(col: pd.Series, name, order, offsets, fill, problems, ids, gaps: _Gaps | None = None,
                 static: bool = False) -> Column:
    """A covariate column in panel row order (``order``: the source row of each panel row, or None;
    ``offsets``: the panel's series). With ``gaps`` (missing stamps filled), a numeric covariate is
    NaN at the new rows and filled like the target; a boolean, categorical or static one carries its
    series' previous value there (an unknown category cannot be interpolated, nor a static one change)."""
    dtype = col.dtype
    if dtype.kind in "mM" or isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError(f"covariate column {name!r} must be numeric, boolean or categorical, got dtype {dtype}")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        kind = "bool" if pd.api.types.is_bool_dtype(dtype) else "numeric"
        raw = col.to_numpy(dtype=np.float64, na_value=np.nan)
        values = raw[order] if order is not None else raw      # may be a read-only view of the caller's column
        if gaps is not None:
            values = gaps.carried(values) if kind == "bool" or static else gaps.spread(values, np.nan)
        if not np.isfinite(values).all():
            values = np.array(values, copy=True) if values is raw else values
            _fill_long(values, offsets, fill if kind == "numeric" else None, problems, ids, f" in covariate {name!r}")
        return Column(kind, values)
    codes, uniques = factorize(col)
    codes = codes.astype(np.int64)
    codes = codes[order] if order is not None else codes
    if gaps is not None:
        codes = gaps.carried(codes)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        series = np.searchsorted(offsets, missing, side="right") - 1
        problems.add(series, lambda i: f"has missing values in categorical covariate {name!r} (first at position "
                                       f"{missing[np.searchsorted(series, i)] - offsets[i]})")
    return Column("category", codes, tuple(uniques))


def _check_static(col: Column, name, offsets, problems) -> None:
    """A static covariate must be constant within each series."""
    first = np.repeat(col.values[offsets[:-1]], np.diff(offsets))
    differs = np.flatnonzero((col.values != first) & ~(np.isnan(col.values) & np.isnan(first))
                             if col.kind != "category" else col.values != first)
    if len(differs):
        series = np.searchsorted(offsets, differs, side="right") - 1
        decoded = col.decoded()

        def describe(i):
            row = differs[np.searchsorted(series, i)]
            return (f"has static covariate {name!r} varying within the series ({_plain(decoded[offsets[i]])!r} "
                    f"at position 0, {_plain(decoded[row])!r} at position {row - offsets[i]}); a static covariate "
                    "is one value per series: pass it as a past or future covariate instead")
        problems.add(series, describe)


def _plain(value):
    """A NumPy scalar as the Python value it holds, for messages (``1.5``, not ``np.float64(1.5)``)."""
    return value.item() if isinstance(value, np.generic) else value


_CHUNK = 1 << 20                 # rows per step of the whole-frame checks: no temporary is as long as the frame


def _sorted(codes: np.ndarray, ticks: np.ndarray) -> bool:
    """Rows already ordered by (series, time), strictly increasing in time within a series."""
    for a in range(0, len(codes) - 1, _CHUNK):
        b = min(a + _CHUNK, len(codes) - 1)
        dc = codes[a + 1:b + 1] - codes[a:b]
        if not ((dc > 0) | ((dc == 0) & (ticks[a + 1:b + 1] > ticks[a:b]))).all():
            return False
    return True


def _flag_steps(codes: np.ndarray, ticks: np.ndarray, rule) -> np.ndarray:
    """Sorted rows j where rows j and j + 1 belong to one series and ``rule(gaps, a, b)`` flags the
    step between them (gaps = ticks[j + 1] - ticks[j] for j in a..b-1), chunk by chunk."""
    found = []
    for a in range(0, len(codes) - 1, _CHUNK):
        b = min(a + _CHUNK, len(codes) - 1)
        hit = np.flatnonzero((codes[a + 1:b + 1] == codes[a:b]) & rule(ticks[a + 1:b + 1] - ticks[a:b], a, b))
        if len(hit):
            found.append(hit + a)
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _stamp(index, order, row, ticks, datetime):
    """The time stamp of sorted row ``row`` for a message."""
    if not datetime:
        return int(ticks[row])
    return index[order[row] if order is not None else row]


def _long_values(target: pd.Series, target_col, order, offsets, problems) -> np.ndarray:
    """The value column as a float64 array in (series, time) order, always a new array; rows whose
    value is not a number are reported per series."""
    if pd.api.types.is_numeric_dtype(target):
        raw = target.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        coerced = pd.to_numeric(target, errors="coerce")
        raw = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isnan(raw) & target.notna().to_numpy())
        if len(bad):
            if len(bad) == len(target):
                raise ValueError(f"column {target_col!r} must be numeric, got dtype {target.dtype} with "
                                 f"values such as {target.iloc[0]!r}")
            rows = bad if order is None else np.sort(np.argsort(order)[bad])
            series = np.searchsorted(offsets, rows, side="right") - 1

            def describe(i):
                row = rows[np.searchsorted(series, i)]
                original = order[row] if order is not None else row
                return f"has a non-numeric value {target.iloc[original]!r} (position {row - offsets[i]})"
            problems.add(series, describe)            # reported with the frame's other problems
    if order is not None:
        return raw[order]
    # to_numpy may give a view of the caller's column (float64, pyarrow float64) or a read-only view of
    # pandas' converted copy (object or string values): either way the store needs its own writable array
    return raw if raw.flags.owndata and raw.flags.writeable else raw.copy()


def _long_step(index, ticks, offsets, codes, order, freq, datetime, problems, known_freq=None):
    """The panel's step: given, or inferred from the longest series (then checked on every row), or
    ``known_freq`` where the longest series is too short to show it (``_datetime_step``)."""
    if not datetime:
        gaps = np.diff(ticks)[np.diff(codes) == 0]
        positive = gaps[gaps > 0]
        return (int(positive.min()) if len(positive) else 1), "integer"
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq), "datetime"
    lengths = np.diff(offsets)
    error = None
    for i in np.argsort(-lengths, kind="stable")[:5]:
        rows = np.arange(offsets[i], offsets[i + 1])
        series_index = index.take(order[rows] if order is not None else rows)
        if series_index.has_duplicates:
            continue
        try:
            return _datetime_step(problems.ids[i], series_index, None, known_freq), "datetime"
        except ValueError as exc:
            error = error or exc
    if error is None:
        error = ValueError("cannot infer the frequency of the series (too short or duplicated timestamps); "
                           "pass freq= (e.g. 'D', 'MS', 'h')")
    problems.raise_any()
    raise error


def _check_grid(index, ticks, step, codes, offsets, order, problems):
    """Every series is on ``step``'s grid without missing stamps."""
    fixed = _fixed_ticks(index, step)
    if fixed is not None:
        wrong = _flag_steps(codes, ticks, lambda gaps, a, b: (gaps != fixed) & (gaps != 0))
        if len(wrong):
            def describe(i):                            # a stamp off the grid first: no fill repairs that
                rows = wrong[codes[wrong] == i]
                gaps = ticks[rows + 1] - ticks[rows]
                off = np.flatnonzero((gaps < fixed) | (gaps % fixed != 0))
                row = rows[off[0] if len(off) else 0]
                gap = ticks[row + 1] - ticks[row]
                missing = _stamp(index, order, row, ticks, True) + step
                return (f"has missing timestamps for frequency {step.freqstr} (first missing: {missing}); "
                        "pass fill= to fill them, fill them yourself (e.g. with .asfreq()) or pass the right freq") \
                    if gap > fixed and gap % fixed == 0 else \
                    f"has timestamps off the frequency grid of {step.freqstr} (after {missing - step})"
            problems.add(codes[wrong], describe)
        return
    # calendar offsets: each stamp's position on one global grid; a step must advance it by exactly one
    grid = pd.date_range(index.min() - step, index.max() + step, freq=step).as_unit(index.unit).asi8
    bad = []
    for a in range(0, len(ticks), _CHUNK):
        b = min(a + _CHUNK + 1, len(ticks))
        pos = np.searchsorted(grid, ticks[a:b])
        off = grid[np.minimum(pos, len(grid) - 1)] != ticks[a:b]
        step_wrong = (codes[a + 1:b] == codes[a:b - 1]) & (np.diff(pos) != 1) & (ticks[a + 1:b] != ticks[a:b - 1])
        bad.append(codes[a:b][off])
        bad.append(codes[a:b - 1][step_wrong])
    bad_series = np.unique(np.concatenate(bad))
    for i in bad_series:                               # each on its own (a multiple of another phase)
        rows = np.arange(offsets[i], offsets[i + 1])
        series_index = index.take(order[rows] if order is not None else rows)
        try:
            _check_time_axis(problems.ids[i], series_index, step)
        except SeriesError as exc:
            problems.add(np.array([i]), lambda _i, problem=exc.problem: problem)


def _fill_long(values: np.ndarray, offsets: np.ndarray, fill, problems: _Problems, ids, where: str = "") -> None:
    """NaN/inf: an error naming the series (``where``: which column, for a covariate), or (``fill``)
    filled series by series, in place."""
    bad = np.flatnonzero(~np.isfinite(values))
    if not len(bad):
        return
    series = np.searchsorted(offsets, bad, side="right") - 1
    if fill is None or np.isinf(values[bad]).any():
        if fill is not None:
            inf = np.isinf(values[bad])
            bad, series = bad[inf], series[inf]

        def describe(i):
            rows = bad[series == i]
            what = "inf" if np.isinf(values[rows]).any() else "NaN"
            return (f"contains {what} values{where} ({len(rows)} of {offsets[i + 1] - offsets[i]}, first at "
                    f"position {rows[0] - offsets[i]}); clean them or pass fill='ffill', 'interpolate' or 'zero' "
                    "(fill handles NaN only)")
        problems.add(series, describe)
        return
    empty = np.flatnonzero(np.bincount(series, minlength=len(offsets) - 1) == np.diff(offsets))
    if len(empty):
        problems.add(empty, lambda i: f"has no values{where}: all {offsets[i + 1] - offsets[i]} are NaN")
    values[bad] = _filled(values, offsets, fill)[bad]


# ------------------------------------------------------------------------------------------------------
# future covariate values and calendar features
def _axis_ticks(axis: Axis, stamps) -> np.ndarray:
    """Time stamps as int64 on the axis' own scale (datetime ticks in the axis' unit, period ordinals)."""
    if axis.time_kind == "datetime":
        return pd.DatetimeIndex(stamps).as_unit(axis.last.unit).asi8
    if axis.time_kind == "period":
        return pd.PeriodIndex(stamps).asi8
    return np.asarray(stamps, dtype=np.int64)


def read_future(df, axis: Axis, steps: int, columns, id_col: str = "unique_id", time_col: str = "ds") -> Panel:
    """The future covariate values of a forecast: for every series of ``axis``, in its order, the rows of
    ``df`` at the ``steps`` time stamps after the series' end, as a :class:`Panel` (no target values)
    whose ``columns`` hold them. Rows of other series or other times are ignored; a missing column,
    series or time stamp, a duplicate row or a NaN is an error naming it.

    Example
    -------
    >>> import pandas as pd
    >>> hist = to_panel(pd.DataFrame({"unique_id": "a", "ds": [1, 2, 3], "y": [1.0, 2, 3], "p": [5.0, 6, 7]}),
    ...                 columns=["p"])
    >>> future = pd.DataFrame({"unique_id": "a", "ds": [4, 5], "p": [8.0, 9.0]})
    >>> read_future(future, hist, 2, ["p"]).columns["p"].values.tolist()
    [8.0, 9.0]
    """
    columns = list(columns)
    if is_polars(df):
        df = from_polars(df)
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"future must be a long DataFrame with columns {id_col!r}, {time_col!r} and the future "
                         f"covariates {columns}, got {type(df).__name__}")
    df = levels_as_columns(df, id_col, time_col)
    missing = [c for c in [id_col, time_col, *columns] if c not in df.columns]
    if missing:
        raise ValueError(f"the future frame lacks column(s) {missing}; it has {list(df.columns)}")
    n = len(axis)
    k = np.tile(np.arange(1, steps + 1), n)
    owner = np.repeat(np.arange(n), steps)
    expected = series_stamps(axis, k, owner)
    ds = df[time_col]
    try:
        if axis.time_kind == "datetime":
            if not pd.api.types.is_datetime64_any_dtype(ds):
                raise TypeError(f"dtype {ds.dtype}")
            got = pd.DatetimeIndex(ds)
            if (got.tz is None) != (axis.last.tz is None):
                raise TypeError("time zone: " + ("naive" if got.tz is None else str(got.tz)) + " stamps for a "
                                + ("naive" if axis.last.tz is None else str(axis.last.tz)) + " history")
            ticks = got.as_unit(axis.last.unit).asi8
        elif axis.time_kind == "period":
            ticks = (pd.PeriodIndex(ds, freq=axis.last.freq) if isinstance(ds.dtype, pd.PeriodDtype) else
                     pd.DatetimeIndex(ds).to_period(axis.last.freq)).asi8
        else:
            if not pd.api.types.is_integer_dtype(ds):
                raise TypeError(f"dtype {ds.dtype}")
            ticks = ds.to_numpy(np.int64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {time_col!r} of the future frame does not match the history's "
                         f"{axis.time_kind} time stamps ({exc})") from None
    index = pd.Index(axis.ids)
    code = index.get_indexer(df[id_col])
    want = pd.MultiIndex.from_arrays([owner, _axis_ticks(axis, expected)])
    pos = want.get_indexer(pd.MultiIndex.from_arrays([code, ticks]))
    src = np.flatnonzero(pos >= 0)
    count = np.bincount(pos[src], minlength=n * steps)
    problems = _Problems(axis.ids)
    if (count > 1).any():
        dup = np.flatnonzero(count > 1)
        problems.add(owner[dup], lambda i: f"has duplicate rows in the future frame (first: "
                                           f"{expected[dup[np.searchsorted(owner[dup], i)]]})")
    if (count == 0).any():
        gone = np.flatnonzero(count == 0)
        present = np.bincount(owner, weights=count, minlength=n) > 0

        def describe(i):
            first = expected[gone[np.searchsorted(owner[gone], i)]]
            if not present[i]:
                return (f"has no rows in the future frame (it needs the {steps} time stamps after the series' "
                        f"end, {expected[i * steps]} to {expected[i * steps + steps - 1]})")
            return (f"lacks future covariate values for {first} (the future frame must cover the {steps} "
                    f"time stamps after the series' end)")
        problems.add(owner[gone], describe)
    problems.raise_any()
    order = np.empty(n * steps, np.int64)
    order[pos[src]] = src
    offsets = np.arange(n + 1, dtype=np.int64) * steps
    read = {name: _long_column(df[name], name, order, offsets, None, problems, axis.ids) for name in columns}
    problems.raise_any()
    last = shift_stamps(axis, axis.last, np.full(n, steps))
    return Panel(axis.ids, last, axis.step, axis.kind, axis.time_kind, axis.name, axis.index_names,
                 np.full(n * steps, np.nan), offsets, read)


def future_rows(future, axis: Axis, steps: int, columns, id_col: str = "unique_id", time_col: str = "ds") -> Panel:
    """The future covariate values at the ``steps`` points after each series of ``axis``, from a long
    frame (``read_future``) or from a :class:`Panel` of at least that many rows per series in the axis'
    order (a backtest's rows after its cutoff), cut to ``steps``."""
    if not isinstance(future, Panel):
        return read_future(future, axis, steps, columns, id_col, time_col)
    if len(future) != len(axis) or (future.lengths < steps).any():
        raise ValueError(f"the future covariates must cover the {steps} steps after each series' end")
    return future if (future.lengths == steps).all() else future.subset(np.arange(len(future)), future.lengths - steps)


def row_stamps(panel: Panel):
    """The time stamp of every row of the panel (series after series)."""
    lengths = panel.lengths
    k = np.arange(len(panel.data)) - np.repeat(panel.offsets[1:] - 1, lengths)
    return series_stamps(panel, k, np.repeat(np.arange(len(panel)), lengths))


# Calendar features: (phase in [0, 1) of each stamp), each given to the network as sin and cos of 2 pi phase.
CALENDAR = ("minute", "hour", "dayofweek", "dayofmonth", "dayofyear", "weekofyear", "month", "quarter")


def _step_length(axis: Axis) -> pd.Timedelta:
    if axis.time_kind == "period":
        start = pd.Period("2001-01-01", freq=axis.last.freq)
        return (start + 1).start_time - start.start_time
    start = pd.Timestamp("2001-01-01")
    return (start + axis.step) - start


def _frequency_name(axis: Axis) -> str:
    """A datetime or period axis' frequency, as pandas writes it ("MS", "h", "W-SUN")."""
    return axis.last.freqstr if axis.time_kind == "period" else axis.step.freqstr


def check_same_frequency(fitted: Axis, new: Axis) -> None:
    """New series given to a fitted model (``predict(y=...)``) must advance by about its series' step:
    its networks learnt the dynamics of one frequency (a daily model reading hourly series would
    forecast nonsense without a word). Steps within a factor of 1.5 count as the same frequency (month
    starts and month ends, days and business days); integer time steps carry no frequency to compare."""
    if "integer" in (fitted.time_kind, new.time_kind):
        return
    ratio = _step_length(new) / _step_length(fitted)
    if not 2 / 3 <= ratio <= 1.5:
        raise ValueError(f"the series of y advance by {_frequency_name(new)!r} steps, but the model was fit on series "
                         f"advancing by {_frequency_name(fitted)!r}: its networks learnt that frequency's dynamics, "
                         "not these; fit a model on series of this frequency")


def default_calendar(axis: Axis) -> tuple:
    """The calendar features ``calendar=True`` derives for the panel's frequency: sub-hourly: minute, hour,
    day of week; hourly: hour, day of week, day of year; daily (and business days): day of week, day of
    year; weekly: week of year; monthly: month; quarterly: quarter."""
    check_calendar_axis(axis)
    step = _step_length(axis)
    for limit, features in ((pd.Timedelta(hours=1), ("minute", "hour", "dayofweek")),
                            (pd.Timedelta(days=1), ("hour", "dayofweek", "dayofyear")),
                            (pd.Timedelta(days=7), ("dayofweek", "dayofyear")),
                            (pd.Timedelta(days=28), ("weekofyear",)),
                            (pd.Timedelta(days=32), ("month",)),
                            (pd.Timedelta(days=93), ("quarter",))):
        if step < limit:
            return features
    raise ValueError(f"calendar=True has no calendar feature for a step of {_frequency_name(axis)} "
                     "(yearly or longer): there is no within-year position to encode; drop calendar")


def check_calendar_axis(axis: Axis) -> None:
    if axis.time_kind == "integer":
        raise ValueError("calendar features need datetime or period time stamps; these series have integer time "
                         "steps (pass ds as datetimes, or drop calendar)")


def calendar_features(stamps, features) -> np.ndarray:
    """(len(stamps), 2 * len(features)) float32: sin and cos of each feature's phase.

    >>> calendar_features(pd.DatetimeIndex(["2024-01-01 06:00"]), ["hour"]).round(3).tolist()
    [[1.0, 0.0]]
    """
    t = stamps.to_timestamp() if isinstance(stamps, pd.PeriodIndex) else pd.DatetimeIndex(stamps)
    out = np.empty((len(t), 2 * len(features)), np.float32)
    for j, name in enumerate(features):
        if name == "minute":
            phase = t.minute.to_numpy() / 60.0
        elif name == "hour":
            phase = (t.hour.to_numpy() + t.minute.to_numpy() / 60.0) / 24.0
        elif name == "dayofweek":
            phase = t.day_of_week.to_numpy() / 7.0
        elif name == "dayofmonth":
            phase = (t.day.to_numpy() - 1) / t.days_in_month.to_numpy()
        elif name == "dayofyear":
            phase = (t.day_of_year.to_numpy() - 1) / np.where(t.is_leap_year, 366.0, 365.0)
        elif name == "weekofyear":
            phase = (t.isocalendar().week.to_numpy(np.float64) - 1) / 52.1775
        elif name == "month":
            phase = (t.month.to_numpy() - 1) / 12.0
        elif name == "quarter":
            phase = (t.quarter.to_numpy() - 1) / 4.0
        else:
            raise ValueError(f"unknown calendar feature {name!r}; choose from {list(CALENDAR)}")
        out[:, 2 * j] = np.sin(2 * np.pi * phase)
        out[:, 2 * j + 1] = np.cos(2 * np.pi * phase)
    return out


# ------------------------------------------------------------------------------------------------------
def is_polars(frame) -> bool:
    """A polars DataFrame (told without importing polars, which stays optional)."""
    return type(frame).__name__ == "DataFrame" and type(frame).__module__.split(".")[0] == "polars"


def from_polars(frame) -> pd.DataFrame:
    """A polars DataFrame as a pandas one, column by column through NumPy (no pyarrow needed)."""
    return pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns})


def to_polars(frame: pd.DataFrame):
    """A pandas long frame as a polars one (ids as strings or integers, stamps as polars datetimes)."""
    import polars as pl

    return pl.DataFrame({c: (frame[c].tolist() if frame[c].dtype == object else frame[c].to_numpy())
                         for c in frame.columns})


def to_output(panel: Axis, forecasts: np.ndarray, extra: dict | None = None, value_name: str = "yhat",
              id_col: str = "unique_id", time_col: str = "ds"):
    """Forecasts ``(n_series, h)`` (plus optional extra columns of the same shape) in the caller's form:
    Series for a Series/array, long DataFrame (``id_col, time_col, yhat, ...``: the caller's names, so
    that the forecasts merge back onto the caller's frame) otherwise (a polars frame for a polars
    input); a wide input gets a wide frame when there are no extra columns. A Series' or wide frame's
    index names are kept. Built with whole-array operations.

    >>> panel = to_panel(pd.DataFrame({"store": ["a", "a"], "t": [1, 2], "sales": [1.0, 2.0]}), "store", "t", "sales")
    >>> list(to_output(panel, np.zeros((1, 2)), id_col="store", time_col="t").columns)
    ['store', 't', 'yhat']
    """
    extra = extra or {}
    forecasts = np.asarray(forecasts, dtype=np.float64)
    n, h = forecasts.shape
    steps = np.tile(np.arange(1, h + 1), n)
    if panel.kind in ("series", "array", "wide"):
        time_name, series_name = panel.index_names
        idx = _as_index(series_stamps(panel, np.arange(1, h + 1), np.zeros(h, np.int64)),
                        panel.step if panel.time_kind == "datetime" else None).rename(time_name)
        if panel.kind == "wide" and not extra:
            wide = pd.DataFrame({uid: f for uid, f in zip(panel.ids, forecasts)}, index=idx)
            return wide.rename_axis(columns=series_name)
        if panel.kind != "wide":
            if not extra:
                return pd.Series(forecasts[0], index=idx, name=panel.name if panel.kind == "series" else value_name)
            frame = pd.DataFrame({value_name: forecasts[0]}, index=idx)
            for col, vals in extra.items():
                frame[col] = np.asarray(vals)[0]
            return frame
    rows = {id_col: np.repeat(id_values(panel.ids), h),
            time_col: series_stamps(panel, steps, np.repeat(np.arange(n), h)),
            value_name: forecasts.ravel()}
    for col, vals in extra.items():
        rows[col] = np.asarray(vals, dtype=np.float64).ravel()
    return to_polars(pd.DataFrame(rows)) if panel.kind == "polars" else pd.DataFrame(rows)


def id_values(ids: np.ndarray) -> np.ndarray:
    """The series ids (an object array) as an output column takes them: integer ids as integers, time
    stamps as datetimes, so that forecasts merge back onto the caller's frame on the same dtype; ids of
    mixed kinds stay objects.

    >>> id_values(np.array([3, 7], dtype=object)).dtype
    dtype('int64')
    """
    return pd.Series(ids, dtype=object).infer_objects().to_numpy()


def _as_index(stamps, step=None):
    """One series' future stamps as an index, with the frequency set on a DatetimeIndex."""
    if not isinstance(stamps, pd.Index):
        return pd.Index(stamps, dtype=np.int64)
    if isinstance(stamps, pd.DatetimeIndex) and step is not None and stamps.freq is None:
        try:
            return pd.DatetimeIndex(stamps, freq=step)
        except ValueError:                      # not regular for pandas' check (cannot happen on a grid)
            return stamps
    return stamps
