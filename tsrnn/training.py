"""Training one network on windows drawn from a series store: Adam on batches gathered on the fly,
early stopping on a fixed held-out sample, the best weights restored.

An epoch draws ``samples_per_epoch`` distinct training windows uniformly from all of them (every
window, shuffled, when there are fewer), cuts them into batches of ``batch_size`` (each batch sorted,
for memory locality) and gathers each batch straight into the network's input buffer. Its cost does not
depend on the number of series: neither the draw (``Generator.choice`` without replacement is
O(samples) for a large population) nor the held-out sample (fixed size) grows with the data.

The draws come from the member's own random stream and from nothing else, so all of a member's epochs
can be drawn before it trains (``epoch_orders``): ``StoreBatches`` gathers the batches from the series
store as training goes (a local fit); ``PoolBatches`` cuts the same batches out of samples gathered
beforehand where the series live (a fit on a Dask cluster, ``tsrnn/cluster.py``). Both give the network
the same inputs in the same order, so a member trains to the same weights wherever it runs.
"""
from __future__ import annotations

import numpy as np

from .intervals import SPAN, recent_spans, window_stats
from .optim import Adam
from .store import Layout, SeriesStore, Windows, gather
from .blend import curve_forecasts, fit_curves

__all__ = ["Samples", "gather_samples", "statistical_forecasts", "train_network", "StoreBatches", "PoolBatches",
           "epoch_orders", "Stopped"]


class Stopped(Exception):
    """Training was stopped from outside (``train_network``'s ``stop``): another ensemble member
    failed or the fit was interrupted."""


class Samples:
    """A fixed set of gathered samples: network inputs x (T, N, I) float32, targets y (N, H) float32
    (both centred on the sample's level, ``level``), the decoder's future inputs ``xf`` (H, N, F) or
    None, which series each sample comes from, ``statistical`` (N, H) the statistical forecast of its
    targets from the series' points before them, in the same centred units (``tsrnn/blend.py``), and
    ``spread`` (N,), ``steps`` (N, H), ``recent`` (N, R), ``phase`` (N, H) the interval statistics of
    those points (``intervals.window_stats``) and ``history`` (N,) their number, or None when not asked for."""

    def __init__(self, x: np.ndarray, y: np.ndarray, level: np.ndarray, xf: np.ndarray | None, series: np.ndarray,
                 statistical: np.ndarray | None = None, spread: np.ndarray | None = None, steps: np.ndarray | None = None,
                 recent: np.ndarray | None = None, history: np.ndarray | None = None, phase: np.ndarray | None = None):
        self.x, self.y, self.level, self.xf, self.series = x, y, level, xf, series
        self.statistical = statistical
        self.spread, self.steps, self.recent, self.history, self.phase = spread, steps, recent, history, phase

    def __len__(self) -> int:
        return len(self.series)

    def take(self, rows: np.ndarray) -> "Samples":
        """The samples ``rows`` (a copy)."""
        def pick(a, axis=0):
            return None if a is None else np.ascontiguousarray(np.take(a, rows, axis=axis))
        return Samples(pick(self.x, 1), pick(self.y), pick(self.level), pick(self.xf, 1), pick(self.series),
                       pick(self.statistical), pick(self.spread), pick(self.steps), pick(self.recent), pick(self.history),
                       pick(self.phase))


def gather_samples(store: SeriesStore, series: np.ndarray, ends: np.ndarray, layout: Layout,
                   out: tuple | None = None, targets: bool = True, blend: str | None = None,
                   stats: bool = False, threads: int = 1) -> Samples:
    """Samples (series, end) of ``store`` (see ``tsrnn.store``); ``out`` reuses (x, y, level, xf)
    buffers (``Layout.buffers``); ``targets=False`` gathers the inputs only (forecasting); ``blend``:
    also that statistical forecast (``tsrnn/blend.py``) of each sample's targets, fitted on the series
    up to its inputs' end (on up to ``threads`` threads);
    ``stats``: also the interval statistics of the series up to its inputs' end (never its targets)."""
    x, y, level, xf = out if out is not None else layout.buffers(len(series), targets)
    gather(store.z, store.x, store.static, store.offsets, series, ends, layout.window, layout.horizon, layout.span,
           layout.n_past, x, y, level, xf)
    series64 = np.ascontiguousarray(series, dtype=np.int64)
    cuts = np.ascontiguousarray(ends - layout.horizon, dtype=np.int64)
    forecast = spread = steps = recent = history = phase = None
    if blend:
        forecast = statistical_forecasts(store, series64, cuts, level, layout.horizon, blend, threads)
    if stats:
        m = store.seasonal.shape[1]
        spans = recent_spans(m)
        spread, steps, recent = np.empty(len(series)), np.empty((len(series), layout.horizon)), np.empty((len(series), len(spans)))
        phase = np.empty((len(series), layout.horizon))
        window_stats(store.z, store.offsets, series64, cuts, SPAN, spans, m, spread, steps, recent, phase,
                     np.empty((len(series), 0)))
        history = cuts
    return Samples(x, y, level, xf if layout.n_future else None, series, forecast, spread, steps, recent, history, phase)


def statistical_forecasts(store: SeriesStore, series: np.ndarray, cuts: np.ndarray, level: np.ndarray, horizon: int,
                          blend: str, threads: int = 1) -> np.ndarray:
    """(B, horizon) the statistical forecast ``blend`` (``tsrnn/blend.py``) of the ``horizon`` points
    after the first ``cuts`` points of each of the store's ``series``, fitted on those points, less
    ``level``: in the units of the samples whose targets they are (fitted on up to ``threads`` threads)."""
    series, cuts = np.ascontiguousarray(series, dtype=np.int64), np.ascontiguousarray(cuts, dtype=np.int64)
    curves = fit_curves(store.z, store.offsets, series, cuts, blend, threads)
    return curve_forecasts(curves, 1, horizon) - level[:, None]


def epoch_orders(windows: Windows, rng: np.random.Generator, samples_per_epoch: int, epochs: int) -> list:
    """The global training windows of each epoch, in the order drawn (what ``StoreBatches`` draws)."""
    per_epoch = min(windows.total, samples_per_epoch)
    return [windows.sample(rng, per_epoch) for _ in range(epochs)]


class StoreBatches:
    """An epoch's batches gathered from the series store as training goes."""

    def __init__(self, store: SeriesStore, windows: Windows, layout: Layout, rng: np.random.Generator,
                 samples_per_epoch: int, batch_size: int):
        self.store, self.windows, self.layout, self.rng = store, windows, layout, rng
        self.per_epoch, self.batch_size = min(windows.total, samples_per_epoch), batch_size
        self._buffers: dict[int, tuple] = {}

    def epoch(self):
        order = self.windows.sample(self.rng, self.per_epoch)
        for start in range(0, self.per_epoch, self.batch_size):
            series, ends = self.windows.train_pairs(np.sort(order[start:start + self.batch_size]))
            B = len(series)
            if B not in self._buffers:
                self._buffers[B] = self.layout.buffers(B)
            yield gather_samples(self.store, series, ends, self.layout, self._buffers[B])


class PoolBatches:
    """The same batches cut from samples gathered beforehand: ``pool`` holds the samples of the global
    windows ``keys`` (sorted), ``orders`` each epoch's draws (``epoch_orders``)."""

    def __init__(self, pool: Samples, keys: np.ndarray, orders: list, batch_size: int):
        self.pool, self.keys, self.orders, self.batch_size = pool, keys, orders, batch_size
        self._epoch = 0

    def epoch(self):
        order = self.orders[self._epoch]
        self._epoch += 1
        for start in range(0, len(order), self.batch_size):
            rows = np.searchsorted(self.keys, np.sort(order[start:start + self.batch_size]))
            xf = None if self.pool.xf is None else np.ascontiguousarray(self.pool.xf[:, rows])
            yield Samples(np.ascontiguousarray(self.pool.x[:, rows]), self.pool.y[rows], self.pool.level[rows], xf,
                          self.pool.series[rows])


def train_network(net, batches, *, max_epochs: int, learning_rate: float, loss: str, clip_norm: float | None,
                  patience: int, validation: Samples | None, bar=None, stop=None) -> tuple[dict, int]:
    """Train ``net`` in place on the epochs of ``batches`` (``StoreBatches`` or ``PoolBatches``; its best
    weights are kept); returns the loss history ``{"train": [...], "validation": [...]}`` and the epoch
    whose weights were kept. ``bar``: a progress bar (``update(epoch, **values)``, ``close()``; None: silent);
    ``stop``: a ``threading.Event`` checked before every batch (set: ``Stopped`` is raised)."""
    opt = Adam(lr=float(learning_rate))
    best, best_params, best_epoch, waited = np.inf, None, 0, 0
    history = {"train": [], "validation": []}
    try:
        for epoch in range(1, max_epochs + 1):
            losses = []
            for batch in batches.epoch():
                if stop is not None and stop.is_set():
                    raise Stopped("training stopped: another ensemble member failed or the fit was interrupted")
                losses.append(net.train_step(batch.x, batch.y, opt, loss, clip_norm, x_future=batch.xf))
            train_loss = float(np.mean(losses))
            history["train"].append(train_loss)
            if not np.isfinite(train_loss):
                if best_params is None:
                    raise RuntimeError(f"training diverged: the loss became {train_loss} at epoch {epoch} "
                                       "before any usable weights; lower learning_rate or set clip_norm")
                break                                 # keep the best weights found so far
            score = train_loss
            if validation is not None and patience:
                score, _ = net.loss(net.predict(validation.x, x_future=validation.xf), validation.y, loss)
                history["validation"].append(score)
            if score < best:
                best, best_params, waited, best_epoch = score, net.params.copy(), 0, epoch
            else:
                waited += 1
            if bar is not None:
                bar.update(epoch, loss=train_loss, **({"val": score} if validation is not None and patience else {}))
            if patience and waited >= patience:
                break
    finally:
        if bar is not None:
            bar.close()
    net.params = best_params
    return history, best_epoch
