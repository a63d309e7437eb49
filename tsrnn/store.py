"""The series store and its windows: every prepared series in one contiguous array plus offsets, and
training samples drawn from it on the fly.

``SeriesStore`` holds, for n series, the prepared values ``z`` (scaled and seasonally adjusted, see
``tsrnn/preprocessing.py``) series after series, the per-series scaling parameters and seasonal
indices, and each series' full length (the seasonal phase of its next point). After ``fit`` only the
last ``window`` prepared points of each series are kept (``tail``): that, each series' statistical
forecast curve (``curves``, four numbers fitted on the whole history) and its interval statistics
(``spread``, ``step_error``, ``insample_error``; see ``tsrnn/intervals.py``), not the history, is what
forecasting needs.

``Windows`` describes every sample as a pair (series i, end e): inputs are z_i[e - H - W : e - H],
targets z_i[e - H : e] (W = window, H = horizon, positions counted from the series' start). An input
position before 0 is padding: it repeats the series' first value and the "padded" input channel is 1.
No (n_windows x window) matrix ever exists: a batch is gathered by ``gather`` straight into the
network's (T, B, I) float32 input buffer, each sample centred on its level (the mean of its last
``span`` inputs) when the "window" or "steps" scaler is used.

Covariates (``tsrnn/covariates.py``) live in the store beside the values: ``x`` (rows, C) float32 holds
the past channels then the future channels of every row, standardised per series, and ``static``
(n, S) each series' static channels. A sample's inputs at step t are, in this order (``Layout``):

    value - level | padded flag | past channels | future channels | static channels

and the future channels of the H target points go to the network's head as ``xf`` (H, B, F) (the
seq2seq decoder's inputs, or the direct head's projection; see ``tsrnn/network.py``). Padded positions
have all covariate channels 0.

Which windows exist, per series of prepared length n (``need`` = the least real inputs of a sample):

* held out (early stopping and interval calibration): up to H windows whose targets all lie in the
  last 2H - 1 points, ``n_val = min(H, n - 2H - need + 1)``; in a small panel more, so that at least
  ``min_held_out`` windows are held out in all when the series allow it, at most a fifth of a series'
  points each (3 series of 144 points, H = 1: 28 each instead of 1);
* training: the windows whose targets end at or before ``cut = n - (H + n_val - 1)``, stepping back
  from ``cut`` by ``stride``; a series shorter than W + H is padded so that each sample keeps ``need``
  real inputs. With a history ``limit``, only each series' last ``limit`` of them, or more where the
  panel would otherwise hold fewer than ``fill`` training windows in all (``recent_cap``).

Global window g (0 <= g < total) is window g - cum[i] of series i (cum = running count); drawing g
uniformly draws a training sample uniformly, whatever the number of series.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ._config import JIT
from .preprocessing import deseasonalize, fit_scalers, scale_into, standardize_channels, unscale, zero_shares
from .intervals import ROUNDS, SPAN, recent_spans, window_stats
from .blend import store_curves

__all__ = ["SeriesStore", "Windows", "Layout", "gather", "positive_spread", "recent_cap"]

_PERMUTE_LIMIT = 1 << 20


@dataclass
class SeriesStore:
    """Prepared series: ``z[offsets[i]:offsets[i + 1]]`` is series i, scaled and seasonally adjusted."""
    z: np.ndarray              # (total,) float64
    offsets: np.ndarray        # (n + 1,) int64
    log: np.ndarray            # (n,) bool: log-transformed
    shift: np.ndarray          # (n,) float64
    scale: np.ndarray          # (n,) float64
    seasonal: np.ndarray       # (n, m) float64 additive indices by position t mod m (zeros: none)
    n_obs: np.ndarray          # (n,) int64 full length of each series
    x: np.ndarray = None       # (rows, C) float32 covariate channels (past, then future), standardised
    x_center: np.ndarray = None    # (n, C) float64 per-series centre of each channel (0: not scaled)
    x_scale: np.ndarray = None     # (n, C) float64 per-series scale of each channel (1: not scaled)
    static: np.ndarray = None      # (n, S) float32 static channels
    spread: np.ndarray = None      # (n,) float64 mean |z_t - z_{t-1}| of each prepared series (0: constant)
    step_error: np.ndarray = None  # (n, H) float64 each series' k-step drift error d_jk (``intervals.window_stats``; (n, 0): none)
    insample_error: np.ndarray = None  # (n,) float64 the forecast's mean error on its last training windows, in spread units (NaN: none)
    curves: np.ndarray = None  # (n, 4) float64 each series' statistical forecast after its end, f_k = c0 + c1 k + c2 (1 - phi^k) (``tsrnn/blend.py``; 0: none)
    recent_spread: np.ndarray = None  # (n, R) float64 each series' mean |step| over its last ``intervals.recent_spans`` steps
    phase_ratio: np.ndarray = None  # (n, m) float64 each series' seasonal change at the phase of its k-th next point, k = 1 .. m, over every phase's (``intervals.window_stats``; (n, 0): none)
    round_error: np.ndarray = None  # (n, ROUNDS - 1) float64 each series' drift error d_jk at k = rH, r = 2 .. ROUNDS (``intervals.recursion_growth``; (n, 0): none)
    zero_share: np.ndarray = None  # (n,) float64 share of each series' points that are 0 in the data's units (``intervals.interval_groups``)

    def __post_init__(self):
        n = len(self.offsets) - 1
        if self.x is None:
            self.x = np.zeros((len(self.z), 0), np.float32)
        C = self.x.shape[1]
        if self.x_center is None:
            self.x_center, self.x_scale = np.zeros((n, C)), np.ones((n, C))
        if self.static is None:
            self.static = np.zeros((n, 0), np.float32)
        if self.spread is None or self.recent_spread is None:
            spread, _, _, recent, _ = series_stats(self.z, self.offsets, 0, self.seasonal.shape[1])
            self.spread = spread if self.spread is None else self.spread
            self.recent_spread = recent if self.recent_spread is None else self.recent_spread
        if self.step_error is None:
            self.step_error = np.zeros((n, 0))
        if self.round_error is None:
            self.round_error = np.zeros((n, 0))
        if self.phase_ratio is None:
            self.phase_ratio = np.ones((n, 0))
        if self.insample_error is None:
            self.insample_error = np.full(n, np.nan)
        if self.curves is None:
            self.curves = np.zeros((n, 4))
        if self.zero_share is None:
            self.zero_share = np.zeros(n)

    @classmethod
    def prepare(cls, y: np.ndarray, offsets: np.ndarray, scaler, season_length: int, deseasonalize_: bool,
                copy: bool = True, x: np.ndarray | None = None, scaled: np.ndarray | None = None,
                static: np.ndarray | None = None, blend: str | None = None, horizon: int = 0,
                threads: int = 1) -> "SeriesStore":
        """Fit each series' scaler and seasonal indices on ``y`` and transform it (in place when
        ``copy`` is False: ``y`` then becomes the store's ``z``). ``x`` (rows, C) float32: covariate
        channels, standardised in place per series where ``scaled``; ``static`` (n, S); ``blend``: fit
        each series' statistical forecast (``tsrnn/blend.py``) on its whole prepared history (what its
        forecasts blend with; on up to ``threads`` threads);
        ``horizon``: measure each series' spread and k-step drift errors, k = 1 .. horizon, on its whole
        prepared history (what its intervals scale with, with its recent spreads, measured always)."""
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        log, shift, scale = fit_scalers(y, offsets, scaler)
        zero_share = zero_shares(y, offsets)                # before y is scaled in place
        z = np.empty_like(y) if copy else y
        scale_into(y, offsets, log, shift, scale, z)
        m = max(int(season_length), 1)
        n = len(offsets) - 1
        seasonal = np.zeros((n, m))
        if deseasonalize_ and m > 1:
            deseasonalize(z, offsets, m, seasonal)
        center = spread = None
        if x is not None:
            center, spread = np.zeros((n, x.shape[1])), np.ones((n, x.shape[1]))
            standardize_channels(x, offsets, np.ascontiguousarray(scaled, dtype=np.bool_), center, spread)
        curves = store_curves(z, offsets, blend, threads) if blend else None
        spread_z, steps, rounds, recent, phase = series_stats(z, offsets, horizon, m)
        return cls(z, offsets, log, shift, scale, seasonal, np.diff(offsets), x, center, spread, static, spread_z,
                   steps, curves=curves, recent_spread=recent, phase_ratio=phase, round_error=rounds,
                   zero_share=zero_share)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def constant(self) -> np.ndarray:
        """(n,) bool: the series' prepared history does not vary."""
        return self.spread <= 0

    def interval_spread(self, reference: "SeriesStore | None" = None) -> np.ndarray:
        """(n,) each series' spread as the base of its intervals. A series without steps (constant, or a
        single point) has none of its own: it gets the median ``relative_spread`` of the ``reference``
        series (default: these) that have one, in its own prepared units (1 where none is known or its
        level is 0). The others' prepared spread as it is would not do: a series without steps is not
        prepared in their units (the "steps" scaler divides by the mean step it lacks), and a new series
        of one point, level 100, got a 90 % interval 842 million wide."""
        if (self.spread > 0).all():
            return self.spread
        change = (self if reference is None else reference).relative_spread()
        known = change[np.isfinite(change)]
        change = np.median(known) if len(known) else np.nan
        own = np.where(self.log, change, np.expm1(change) * self._level()) / self.scale
        return np.where(self.spread > 0, self.spread, np.where(np.isfinite(own) & (own > 0), own, 1.0))

    def relative_spread(self) -> np.ndarray:
        """(n,) each series' mean step as a change of its level in log units: its spread itself for a
        log-scaled series, else log(1 + step / level) (``_level``); NaN without steps or at a level of 0.
        In log units a step many times the level counts as its logarithm, not as many log units (a
        series that stepped 57 times its level lent a one-point log-scaled series an interval of e^57)."""
        level = self._level()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.spread * self.scale / level
            return np.where((self.spread > 0) & (level > 0), np.where(self.log, ratio, np.log1p(ratio)), np.nan)

    def _level(self) -> np.ndarray:
        """(n,) what a step is measured against: 1 for a log-scaled series, else the larger of |its last
        adjusted value| and the mean |adjusted value| of its points here (a last value near 0, in a
        series that crosses it, made its steps look many times its size)."""
        if not len(self.z):
            return np.ones(len(self))
        adjusted = np.abs(self.z * np.repeat(self.scale, self.lengths) + np.repeat(self.shift, self.lengths))
        adjusted = np.where(np.isfinite(adjusted), adjusted, 0.0)
        mean = np.add.reduceat(adjusted, self.offsets[:-1]) / self.lengths       # every series has a point here
        return np.where(self.log, 1.0, np.maximum(adjusted[self.offsets[1:] - 1], mean))

    def phase_ratios(self, h: int) -> np.ndarray:
        """(n, h) the phase ratio of each series' next h points: ``phase_ratio`` holds one per phase
        (the next m points), and the k-th point has the phase of the ((k - 1) mod m + 1)-th."""
        return self.phase_ratio[:, np.arange(h) % self.phase_ratio.shape[1]]

    def tail(self, window: int) -> "SeriesStore":
        """The same series keeping only their last ``window`` prepared points."""
        keep = np.minimum(self.lengths, window)
        offsets = np.zeros(len(self) + 1, np.int64)
        np.cumsum(keep, out=offsets[1:])
        rows = np.repeat(self.offsets[1:] - keep - offsets[:-1], keep) + np.arange(offsets[-1])
        return SeriesStore(self.z[rows], offsets, self.log, self.shift, self.scale, self.seasonal, self.n_obs,
                           self.x[rows], self.x_center, self.x_scale, self.static, self.spread, self.step_error,
                           self.insample_error, self.curves, self.recent_spread, self.phase_ratio, self.round_error,
                           self.zero_share)

    def extend(self, steps: int, n_past: int, future: np.ndarray | None = None) -> "SeriesStore":
        """The store with ``steps`` rows after the end of every series, to be forecast: values NaN,
        past channels 0, future channels from ``future`` (n * steps, C - n_past), unscaled, scaled here
        with each series' own centre and scale (the history's, so nothing after the end leaks in)."""
        n, C = len(self), self.x.shape[1]
        lengths = self.lengths + steps
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        old = np.repeat(offsets[:-1] - self.offsets[:-1], self.lengths) + np.arange(len(self.z))
        new = (offsets[:-1] + self.lengths)[:, None] + np.arange(steps)
        z = np.full(offsets[-1], np.nan)
        z[old] = self.z
        x = np.zeros((offsets[-1], C), np.float32)
        x[old] = self.x
        if C > n_past:
            scaled = (future.reshape(n, steps, C - n_past) - self.x_center[:, None, n_past:]) / self.x_scale[:, None, n_past:]
            x[new.ravel(), n_past:] = scaled.reshape(n * steps, C - n_past)
        return SeriesStore(z, offsets, self.log, self.shift, self.scale, self.seasonal, self.n_obs, x,
                           self.x_center, self.x_scale, self.static, self.spread, self.step_error,
                           self.insample_error, self.curves, self.recent_spread, self.phase_ratio, self.round_error,
                           self.zero_share)

    def to_original(self, z_adj: np.ndarray, series: np.ndarray | None = None) -> np.ndarray:
        """Forecasts (B, h) of the adjusted, scaled series ``series`` (default: all) back to the data's
        units: add the seasonal index of each future point, invert the scaling."""
        series = np.arange(len(self)) if series is None else series
        z = z_adj + self._seasonal_ahead(series, 0, z_adj.shape[1])
        return unscale(z, self.log[series], self.shift[series], self.scale[series])

    def zero_floor(self, series: np.ndarray, first: int, steps: int) -> np.ndarray:
        """(B, steps) the adjusted, scaled value that is 0 in the data's units at the ``steps`` points
        from ``first`` (0: the first point after the end) of each series ``series``: ``to_original``
        solved for 0, ``-shift / scale`` less the point's seasonal index; -inf for a log-scaled series
        (all of whose values are above 0)."""
        zero = (-self.shift[series] / self.scale[series])[:, None] - self._seasonal_ahead(series, first, steps)
        return np.where(self.log[series, None], -np.inf, zero)

    def _seasonal_ahead(self, series: np.ndarray, first: int, steps: int) -> np.ndarray:
        """(B, steps) the seasonal index of the ``steps`` points from ``first`` after each series' end."""
        phase = (self.n_obs[series, None] + first + np.arange(steps)) % self.seasonal.shape[1]
        return np.take_along_axis(self.seasonal[series], phase, axis=1)


def positive_spread(spread: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``spread`` with each 0 (a constant series or prefix) replaced by the median positive spread of
    ``reference`` (default: ``spread`` itself; 1 when it has none)."""
    ref = spread if reference is None else reference
    good = ref > 0
    return np.where(spread > 0, spread, np.median(ref[good]) if good.any() else 1.0)


def series_stats(z: np.ndarray, offsets: np.ndarray, horizon: int,
                 season_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each whole series' spread, its mean absolute step |z_t - z_{t-1}| (its in-sample naive error on
    the prepared scale; 0 for a constant series or one without steps), its k-step drift errors for
    k = 1 .. ``horizon`` ((n, 0) for 0) and at the recursion rounds' ends k = r ``horizon``, r = 2 ..
    ``ROUNDS`` ((n, 0) for 0), its recent spreads (n, R) (``intervals.recent_spans``) and the
    phase ratios of its next m points (n, m), m = max(``season_length``, 1), one per phase ((n, 0) for
    a ``horizon`` of 0): ``intervals.window_stats`` with every series' full length."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    spans = recent_spans(season_length)
    spread, steps, recent = np.empty(n), np.empty((n, int(horizon))), np.empty((n, len(spans)))
    phase = np.empty((n, max(int(season_length), 1) if horizon else 0))
    rounds = np.empty((n, ROUNDS - 1 if horizon else 0))
    window_stats(z, offsets, np.arange(n, dtype=np.int64), np.diff(offsets), SPAN, spans, int(season_length),
                 spread, steps, recent, phase, rounds)
    return spread, steps, rounds, recent, phase


class Windows:
    """Training and held-out samples of a store as (series, end) pairs (see the module docstring)."""

    def __init__(self, lengths: np.ndarray, window: int, horizon: int, need: int, stride: int = 1,
                 holdout: bool = True, min_held_out: int = 0, limit: int | None = None, fill: int = 0):
        W, H = window, horizon
        n = np.asarray(lengths, dtype=np.int64)
        share = -(-int(min_held_out) // max(len(n), 1))          # per series, for min_held_out in all
        target = np.maximum(H, np.minimum(share, n // 5))
        self.n_val = np.clip(n - 2 * H - need + 1, 0, target) if holdout else np.zeros_like(n)
        self.cut = np.where(self.n_val > 0, n - (H + self.n_val - 1), n)
        pad = np.where(self.cut < W + H, max(0, W - need), 0)
        room = self.cut + pad - W - H
        self.count = np.where(room >= 0, room // stride + 1, 0)
        if limit is not None:
            self.count = np.minimum(self.count, recent_cap(self.count, limit, fill))
        self.stride, self.horizon = stride, H
        self.cum = np.zeros(len(n) + 1, np.int64)
        np.cumsum(self.count, out=self.cum[1:])
        self.val_cum = np.zeros(len(n) + 1, np.int64)
        np.cumsum(self.n_val, out=self.val_cum[1:])

    @property
    def total(self) -> int:
        """Number of training samples."""
        return int(self.cum[-1])

    @property
    def total_held_out(self) -> int:
        return int(self.val_cum[-1])

    @property
    def topped_up(self) -> bool:
        """Whether a series holds out more than ``horizon`` windows: a small panel's, for ``min_held_out``."""
        return bool((self.n_val > self.horizon).any())

    def train_pairs(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(series, end) of global training windows g; window j of a series ends at
        cut - stride * (count - 1 - j) (the last one at ``cut``)."""
        series = np.searchsorted(self.cum, g, side="right") - 1
        j = g - self.cum[series]
        return series, self.cut[series] - self.stride * (self.count[series] - 1 - j)

    def held_out_pairs(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(series, end) of global held-out windows g: targets z[origin : origin + H] for
        origin = cut .. cut + n_val - 1, so end = cut + H + j."""
        series = np.searchsorted(self.val_cum, g, side="right") - 1
        j = g - self.val_cum[series]
        return series, self.cut[series] + self.horizon + j

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Up to ``size`` distinct global training windows drawn uniformly (all of them, shuffled, when there are
        fewer), in the order drawn. Up to 2^20 windows this is ``rng.permutation(total)[:size]``, the
        draw tsrnn has always made (the same seed gives the same forecasts as before the store); past
        that a permutation costs O(total) per epoch (0.3 s at the 15M windows of 100,000 monthly series,
        measured), so ``rng.choice`` without replacement draws the same law in O(size)."""
        if self.total <= _PERMUTE_LIMIT:
            return rng.permutation(self.total)[:size]
        return rng.choice(self.total, size=size, replace=False)


def recent_cap(count: np.ndarray, limit: int, fill: int) -> int:
    """The training windows kept per series under a history limit: ``limit``, or the least cap above it
    whose series' last min(count, cap) windows add up to ``fill`` (or to all of them, when there are
    fewer), so that a panel of a few series keeps an epoch's draw of distinct windows.

    >>> recent_cap(np.array([5, 100, 100]), 10, 0), recent_cap(np.array([5, 100, 100]), 10, 105)
    (10, 50)
    """
    need = min(int(count.sum()), int(fill))
    lo, hi = int(limit), max(int(limit), int(count.max(initial=0)))
    while lo < hi:                                    # the least cap whose windows reach ``need``
        mid = (lo + hi) // 2
        if np.minimum(count, mid).sum() >= need:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(frozen=True)
class Layout:
    """The shape of a sample (see the module docstring): W inputs, H targets, the level span and the
    covariate channels."""
    window: int
    horizon: int
    span: int
    n_past: int = 0
    n_future: int = 0
    n_static: int = 0

    @property
    def input_size(self) -> int:
        return 2 + self.n_past + self.n_future + self.n_static

    def buffers(self, batch: int, targets: bool = True) -> tuple:
        """Empty (x, y, level, xf) for ``batch`` samples (y without rows when ``targets`` is False)."""
        H = self.horizon
        return (np.empty((self.window, batch, self.input_size), np.float32),
                np.empty((batch if targets else 0, H), np.float32), np.empty(batch),
                np.empty((H if self.n_future else 0, batch, self.n_future), np.float32))


@njit(**JIT)
def gather(z, cov, static, offsets, series, ends, window, horizon, span, n_past, x, y, level, xf):
    """Samples (series[b], ends[b]) into x (W, B, I) float32 (the channels of ``Layout``), y (B, H)
    float32 (target - level; skipped when y has no rows), level (B,) float64 and xf (H, B, F) float32
    (the future channels of the target points; skipped when xf has no rows)."""
    W, H = window, horizon
    C, S = cov.shape[1], static.shape[1]
    for b in range(len(series)):
        i = series[b]
        a = offsets[i]
        first = ends[b] - H - W                         # position of input 0 (negative: padding)
        lv = 0.0
        for t in range(W - span, W):
            lv += z[a + max(first + t, 0)]
        lv = lv / span if span > 0 else 0.0
        level[b] = lv
        for t in range(W):
            p = first + t
            x[t, b, 0] = z[a + max(p, 0)] - lv
            x[t, b, 1] = 1.0 if p < 0 else 0.0
            for c in range(C):
                x[t, b, 2 + c] = cov[a + p, c] if p >= 0 else 0.0
            for s in range(S):
                x[t, b, 2 + C + s] = static[i, s]
        if y.shape[0] > 0:
            for k in range(H):
                y[b, k] = z[a + ends[b] - H + k] - lv
        for k in range(xf.shape[0]):
            for c in range(n_past, C):
                xf[k, b, c - n_past] = cov[a + ends[b] - H + k, c]
