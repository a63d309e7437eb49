"""Covariates: which columns a model reads, and how each becomes network input channels.

Three kinds of covariate column, named by the Forecaster's parameters, and calendar features:

* **past** (``past_covariates``): observed up to each series' end only. The network reads them over the
  input window; they are not needed, and not used, to forecast.
* **future** (``future_covariates``): known in advance (prices, promotions, holidays, weather
  forecasts). The network reads them over the input window and over the forecast horizon, so a
  forecast needs their values for the steps it forecasts (``predict(h, future=df)``).
* **static** (``static_covariates``): one value per series (store, category), given at every step.
* **calendar** (``calendar=True`` or a list of ``tsrnn.data.CALENDAR`` names): derived from the time
  stamps, for history and horizon alike; future channels that need no frame.

Encoding, per column type:

* numeric: past and future columns are standardised per series (mean and standard deviation of the
  series' history given to ``fit``, or to ``predict(y=...)`` for new series: nothing after the end of a
  series enters its scaling); static numeric columns are standardised across the series;
* boolean: 0/1 as they are;
* categorical (strings, objects, ``category`` dtype): one-hot over the categories seen in ``fit``, at
  most ``MAX_CATEGORIES`` of them; a category ``fit`` did not see is an error naming it;
* calendar: the sine and cosine of each feature's phase (hour / 24, day of week / 7, ...).

Channel order within a time step: past channels, then future channels (the future columns, then the
calendar features), then static channels. ``tsrnn/store.py`` lays them out next to the target.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .data import (CALENDAR, Axis, Panel, calendar_features, check_calendar_axis, default_calendar, row_stamps,
                   series_stamps)

__all__ = ["Encoding", "MAX_CATEGORIES", "calendar_names", "check_names", "check_kinds", "check_calendar"]

MAX_CATEGORIES = 64     # one-hot width limit: a column with more categories is an error (see docs/forecaster.md)


def check_names(param: str, value) -> tuple:
    """A covariate parameter as a tuple of column names (None or a single string allowed)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise ValueError(f"{param} must be a list of column names, got {value!r}") from None
    if len(set(names)) != len(names):
        raise ValueError(f"{param} names a column twice: {list(names)}")
    return names


def check_kinds(past: tuple, future: tuple, static: tuple) -> tuple:
    """Every covariate column named, each as one kind only.

    >>> check_kinds(("temp",), ("price", "promo"), ("store",))
    ('temp', 'price', 'promo', 'store')
    """
    named = (*past, *future, *static)
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise ValueError(f"column(s) {twice} are named as two kinds of covariate; each is past, future or static")
    return named


@dataclass
class Encoding:
    """The fitted encoding of a model's covariates (see the module docstring)."""
    past: tuple = ()
    future: tuple = ()
    static: tuple = ()
    calendar: tuple = ()
    kinds: dict = field(default_factory=dict)          # column -> "numeric" | "bool" | "category"
    categories: dict = field(default_factory=dict)     # categorical column -> tuple of categories
    static_center: np.ndarray = field(default_factory=lambda: np.zeros(0))   # per static channel
    static_scale: np.ndarray = field(default_factory=lambda: np.ones(0))

    # ----------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, panel: Panel, past: tuple, future: tuple, static: tuple, calendar) -> "Encoding":
        """Kinds and categories of the named columns of ``panel``, the calendar features, and the
        cross-series scaling of numeric static columns."""
        named = check_kinds(past, future, static)
        kinds = {name: panel.columns[name].kind for name in named}
        categories = {}
        for name in named:
            if kinds[name] == "category":
                col = panel.columns[name]
                categories[name] = tuple(col.categories[i] for i in np.unique(col.values))   # the used ones
        enc = cls.of(past, future, static, calendar_names(calendar, panel), kinds, categories)
        return enc.scaling_statics(enc.static_raw(panel))

    @classmethod
    def of(cls, past: tuple, future: tuple, static: tuple, calendar: tuple, kinds: dict,
           categories: dict) -> "Encoding":
        """The encoding of columns of these kinds and categories (in their order), static ones unscaled
        (``scaling_statics``). What ``fit`` settles from one panel, or a cluster fit from its partitions'."""
        for name, cats in categories.items():
            if len(cats) > MAX_CATEGORIES:
                raise ValueError(f"categorical covariate {name!r} has {len(cats)} categories; one-hot "
                                 f"encoding takes at most {MAX_CATEGORIES} (group rare ones, or pass codes "
                                 "as a numeric column)")
        return cls(tuple(past), tuple(future), tuple(static), tuple(calendar), dict(kinds), dict(categories))

    def scaling_statics(self, raw: np.ndarray) -> "Encoding":
        """This encoding with its numeric static channels standardised across the series whose raw static
        channels are ``raw`` (n, n_static; ``static_raw``)."""
        numeric = self._numeric_mask(self.static)
        center, scale = np.zeros(raw.shape[1]), np.ones(raw.shape[1])
        if len(raw) and numeric.any():
            center[numeric] = raw[:, numeric].mean(axis=0)
            spread = raw[:, numeric].std(axis=0)
            scale[numeric] = np.where(spread > 1e-12 * np.maximum(np.abs(center[numeric]), 1.0), spread, 1.0)
        return replace(self, static_center=center, static_scale=scale)

    @property
    def any(self) -> bool:
        return bool(self.past or self.future or self.static or self.calendar)

    @property
    def columns(self) -> tuple:
        """Every column the model reads from a frame."""
        return (*self.past, *self.future, *self.static)

    def width(self, name: str) -> int:
        return len(self.categories[name]) if self.kinds[name] == "category" else 1

    @property
    def n_past(self) -> int:
        return sum(self.width(c) for c in self.past)

    @property
    def n_future(self) -> int:
        return sum(self.width(c) for c in self.future) + 2 * len(self.calendar)

    @property
    def n_static(self) -> int:
        return sum(self.width(c) for c in self.static)

    def scaled_channels(self) -> np.ndarray:
        """(n_past + n_future,) bool: the time-varying channels standardised per series (numeric columns)."""
        return np.concatenate([self._numeric_mask(self.past), self._numeric_mask(self.future),
                               np.zeros(2 * len(self.calendar), bool)])

    def _numeric_mask(self, names) -> np.ndarray:
        return np.array([self.kinds[c] == "numeric" for c in names for _ in range(self.width(c))], bool)

    # ----------------------------------------------------------------------------------------------
    def time_channels(self, panel: Panel) -> np.ndarray:
        """(rows, n_past + n_future) float32, unscaled: the past, future and calendar channels of every
        row of ``panel``."""
        names = (*self.past, *self.future)
        out = np.empty((len(panel.data), self.n_past + self.n_future), np.float32)
        j = 0
        for name in names:                              # column by column into one array: no stacked copies
            w = self.width(name)
            out[:, j:j + w] = self._encode(panel, name)
            j += w
        if self.calendar:
            out[:, j:] = calendar_features(row_stamps(panel), self.calendar)
        return out

    def future_channels(self, axis: Axis, steps: int, future: Panel | None) -> np.ndarray:
        """(n * steps, n_future) float32, unscaled: the future channels of the ``steps`` points after
        each series of ``axis``: the future columns from ``future`` (k <= steps rows per series, in the
        axis' order; rows past k are 0: only the causal seq2seq decoder is given fewer) and the
        calendar features of every step."""
        n = len(axis)
        parts = []
        if self.future:
            k = int(future.lengths[0]) if len(future) else 0
            cols = np.concatenate([self._encode(future, name) for name in self.future], axis=1)
            full = np.zeros((n, steps, cols.shape[1]), np.float32)
            full[:, :k] = cols.reshape(n, k, cols.shape[1])
            parts.append(full.reshape(n * steps, cols.shape[1]))
        if self.calendar:
            stamps = series_stamps(axis, np.tile(np.arange(1, steps + 1), n), np.repeat(np.arange(n), steps))
            parts.append(calendar_features(stamps, self.calendar))
        return _stack(parts, n * steps)

    def static_channels(self, panel: Panel) -> np.ndarray:
        """(n, n_static) float32: each series' static channels, numeric ones scaled across series."""
        return ((self.static_raw(panel) - self.static_center) / self.static_scale).astype(np.float32)

    def static_raw(self, panel: Panel) -> np.ndarray:
        """(n, n_static) float64: each series' static channels before the cross-series scaling."""
        first = panel.offsets[:-1]
        parts = [self._encode(panel, name, first) for name in self.static]
        return _stack(parts, len(panel)).astype(np.float64)

    def _encode(self, panel: Panel, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """One column as (rows, width) float32: numeric and boolean values as they are, categories one-hot."""
        col = panel.columns[name]
        col = col if rows is None else col.take(rows)
        if col.kind != self.kinds[name] and not {col.kind, self.kinds[name]} <= {"numeric", "bool"}:
            raise ValueError(f"covariate {name!r} was {self.kinds[name]} in fit and is {col.kind} now")
        if self.kinds[name] != "category":
            return col.values.astype(np.float32)[:, None]
        known = {c: j for j, c in enumerate(self.categories[name])}
        lookup = np.array([known.get(c, -1) for c in col.categories], np.int64)
        codes = lookup[col.values] if len(lookup) else np.full(len(col.values), -1)
        unseen = np.flatnonzero(codes < 0)
        if len(unseen):
            row = unseen[0]
            series = np.searchsorted(panel.offsets, row if rows is None else rows[row], side="right") - 1
            new = sorted({col.categories[col.values[r]] for r in unseen[:1000]}, key=str)
            raise ValueError(f"categorical covariate {name!r} has categories fit never saw: {new[:10]} (first in "
                             f"series {panel.ids[series]!r}); known: {list(self.categories[name])[:20]}")
        out = np.zeros((len(codes), len(known)), np.float32)
        out[np.arange(len(codes)), codes] = 1.0
        return out

    # ----------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        from .persistence import _json_id

        return {"past": list(self.past), "future": list(self.future), "static": list(self.static),
                "calendar": list(self.calendar), "kinds": self.kinds,
                "categories": {k: [_json_id(c) for c in v] for k, v in self.categories.items()},
                "static_center": self.static_center.tolist(), "static_scale": self.static_scale.tolist()}

    @classmethod
    def from_json(cls, meta: dict) -> "Encoding":
        from .persistence import _id_from

        keys = {"past", "future", "static", "calendar", "kinds", "categories", "static_center", "static_scale"}
        if not isinstance(meta, dict) or set(meta) != keys:
            raise ValueError(f"'covariates' must have exactly the keys {sorted(keys)}")
        enc = cls(tuple(meta["past"]), tuple(meta["future"]), tuple(meta["static"]), tuple(meta["calendar"]),
                  dict(meta["kinds"]), {k: tuple(_id_from(c) for c in v) for k, v in meta["categories"].items()},
                  np.asarray(meta["static_center"], np.float64), np.asarray(meta["static_scale"], np.float64))
        if set(enc.kinds) != set(enc.columns) or set(enc.categories) != {c for c, k in enc.kinds.items()
                                                                         if k == "category"}:
            raise ValueError("the covariate kinds and categories do not match the covariates")
        if any(name not in CALENDAR for name in enc.calendar):
            raise ValueError(f"unknown calendar features {list(enc.calendar)}")
        if len(enc.static_center) != enc.n_static or len(enc.static_scale) != enc.n_static:
            raise ValueError("the static covariate scaling does not match the static covariates")
        return enc


def calendar_names(calendar, axis: Axis) -> tuple:
    """``calendar`` (False/None, True, or a list of feature names) as the features to derive.

    >>> import pandas as pd
    >>> from tsrnn.data import to_panel
    >>> monthly = to_panel(pd.Series(1.0, index=pd.date_range("2020-01-01", periods=24, freq="MS")))
    >>> calendar_names(True, monthly), calendar_names(["month"], monthly), calendar_names(False, monthly)
    (('month',), ('month',), ())
    """
    if calendar is None or calendar is False:
        return ()
    if calendar is True:
        return default_calendar(axis)
    names = (calendar,) if isinstance(calendar, str) else tuple(calendar)
    unknown = [c for c in names if c not in CALENDAR]
    if unknown:
        raise ValueError(f"unknown calendar feature(s) {unknown}; choose from {list(CALENDAR)}")
    if names:
        check_calendar_axis(axis)
    return names


def check_calendar(value) -> None:
    """The ``calendar`` parameter's type (its features are checked against the data in ``fit``)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return
    names = (value,) if isinstance(value, str) else value
    try:
        unknown = [c for c in names if c not in CALENDAR]
    except TypeError:
        raise ValueError(f"calendar must be True, False or a list of {list(CALENDAR)}, got {value!r}") from None
    if unknown:
        raise ValueError(f"unknown calendar feature(s) {unknown}; choose from {list(CALENDAR)}")


def _stack(parts: list, rows: int) -> np.ndarray:
    return np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0), np.float32)
