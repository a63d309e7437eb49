"""tsrnn on a Dask cluster: fit, predict and backtest on the user's ``dask.distributed`` client
(``pip install tsrnn[dask]``; see ``docs/dask.md``).

* **Data.** A dask DataFrame in long format (``dd.read_parquet`` of a partitioned dataset, say) or a
  pandas frame (split into one partition per worker, series kept whole). A series split over several
  partitions is brought together by one shuffle on the id column; otherwise every partition is read
  where it lies.
* **Fit** (``fit``). Each worker reads and checks its partitions; the client sees only the ids and
  lengths, settles the window, horizon and scaler from them as a local fit does, and the workers then
  prepare their partitions (scaling, seasonal adjustment: the series store of ``tsrnn/store.py``) and
  keep them. From the lengths the client lays out every training window exactly as a local fit does, draws each ensemble
  member's epochs from the member's own random stream (``Forecaster._member_rng``), and asks the
  workers for the samples of the drawn windows (a bounded set: at most ``max_epochs *
  samples_per_epoch`` per member), and for the held-out samples. The members then train at once, each
  in a task on some worker, on the same batches in the same order as locally. Afterwards the client
  collects the last ``window_`` prepared points of each series (what forecasting needs), not the
  histories. No gradient is averaged across workers: a network trains within one task.
* **Predict** (``predict``). With the fitted series: their kept tails, as locally. With new histories
  (a dask DataFrame): the fitted model is broadcast to the workers once and every partition is
  forecast where it lies; the result is a dask DataFrame (``compute=True``: pandas).
* **Backtest** (``backtest``). The series are scattered to the cluster once; every (window, model)
  pair, the statsmodels baselines included, is one task (with ``refit=False``, every model one task).
* **Identical results.** The same seed gives the same forecasts and metrics as a local run, whatever
  the number of workers or partitions: the windows, draws and batches are the local ones, and the
  networks use the threads a local fit gives a member, from the client's ``n_threads`` (set it to the
  cores of one worker for speed; the local run must then use the same value). A worker lost mid-run
  is replaced by Dask and its tasks rerun: they are pure, so the result does not change.
* **Covariates.** The workers read the covariate columns with the series; the client settles the
  encoding a local fit would from each column's kind, the distinct values of the categorical ones (in
  their own dtype: the categories come out in the local order) and each series' static values
  (``_encoding``); forecasts are then identical to a local fit's, as above.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .blend import store_curves
from .covariates import Encoding, calendar_names, check_kinds, check_names
from .data import Axis, factorize, levels_as_columns
from .store import SeriesStore
from .training import PoolBatches, Samples, epoch_orders, gather_samples, statistical_forecasts

__all__ = ["connect", "fit", "predict", "forecast", "backtest", "to_partitions"]


def _require_dask():
    try:
        import dask.dataframe as dd  # noqa: F401
        from distributed import Client  # noqa: F401
    except ImportError:
        raise ImportError("running on a Dask cluster needs dask and distributed: pip install 'tsrnn[dask]'") from None


def connect(client=None, scheduler: str | None = None, workers: int | None = None):
    """The client to run on: ``client`` itself, a client of the scheduler at ``scheduler`` (e.g.
    ``"tcp://host:8786"``), a new ``LocalCluster`` of ``workers`` processes, or the current default
    client. Returns (client, close) where ``close()`` shuts down what this call started.

    >>> client, close = connect(workers=1)          # doctest: +SKIP
    """
    _require_dask()
    from distributed import Client, LocalCluster, get_client

    if client is not None:
        return client, lambda: None
    if scheduler is not None:
        c = Client(scheduler)
        return c, c.close
    if workers is not None:
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None)
        c = Client(cluster)

        def close():
            c.close()
            cluster.close()
        return c, close
    try:
        return get_client(), lambda: None
    except ValueError:
        raise ValueError("no Dask client: pass client=, scheduler= or workers= (or start a Client first)") from None


def to_partitions(data, client, id_col: str = "unique_id", time_col: str = "ds") -> list:
    """``data`` as pandas partitions on the workers (futures), each holding whole series: a pandas frame
    is cut by series into one partition per worker and handed over inside the tasks that read them (so
    Dask can rerun a lost one); a dask frame is shuffled on ``id_col`` only when a series spans
    partitions (checked from each partition's ids), then computed where it lies.

    Example
    -------
    >>> import pandas as pd
    >>> from tsrnn import cluster
    >>> client = cluster.connect(workers=2)                       # doctest: +SKIP
    >>> df = pd.DataFrame({"unique_id": list("aabb"), "ds": [1, 2, 1, 2], "y": [1.0, 2, 3, 4]})
    >>> len(cluster.to_partitions(df, client))                    # doctest: +SKIP
    2
    """
    if isinstance(data, pd.DataFrame):
        data = levels_as_columns(data, id_col, time_col)
        if id_col not in data.columns:
            raise ValueError(f"the long DataFrame lacks the id column {id_col!r}")
        codes, _ = pd.factorize(data[id_col], sort=True)
        parts = max(1, min(len(client.scheduler_info()["workers"]) or 1, codes.max() + 1))
        bounds = np.linspace(0, codes.max() + 1, parts + 1).astype(int)
        return [client.submit(_identity, data[(codes >= a) & (codes < b)], pure=False)
                for a, b in zip(bounds[:-1], bounds[1:])]
    if not hasattr(data, "map_partitions"):
        raise ValueError(f"data must be a pandas or dask DataFrame in long format, got {type(data).__name__}")
    if id_col not in data.columns:
        raise ValueError(f"the long DataFrame lacks the id column {id_col!r}")
    uniques = data[id_col].map_partitions(lambda s: s.drop_duplicates(), meta=data[id_col]._meta).to_delayed()
    seen = [set(part) for part in client.gather(client.compute(uniques))]   # ids only, never the values
    if sum(len(s) for s in seen) != len(set().union(*seen)):
        data = data.shuffle(on=id_col)
    return client.compute(data.to_delayed())


# ------------------------------------------------------------------------------------------------------
# work done on the workers (module-level functions: they are pickled by reference)
def _identity(x):
    return x


def _read(frame: pd.DataFrame, model, columns: tuple = (), static: tuple = ()):
    """One partition's checked series (with the covariate ``columns``) and the values of its categorical
    covariates (in their own dtype, so that the client orders the categories as a local fit does), or the
    error its data raises (reported by the client). An empty partition (a shuffle leaves some) has none."""
    if not len(frame):
        return {"panel": None}
    try:
        panel = model._read(frame, columns, static)
    except ValueError as exc:
        return {"error": str(exc)}
    categorical = [name for name, col in panel.columns.items() if col.kind == "category"]
    return {"panel": panel, "values": {name: frame[name].drop_duplicates() for name in categorical}}


def _meta(read, calendar) -> dict:
    """What the client settles the fit from: the partition's ids and lengths, its covariates' kinds and
    categorical values, and its calendar features."""
    if "error" in read:
        return {"error": read["error"]}
    panel = read["panel"]
    if panel is None:
        return {"ids": np.empty(0, object), "lengths": np.empty(0, np.int64)}
    try:
        names = calendar_names(calendar, panel)
    except ValueError as exc:
        return {"error": str(exc)}
    kinds = {name: col.kind for name, col in panel.columns.items()}
    return {"ids": panel.ids, "lengths": panel.lengths, "kinds": kinds, "values": read["values"], "calendar": names}


def _static_raw(read, encoding: Encoding) -> np.ndarray:
    return encoding.static_raw(read["panel"])


def _prepare(read, model):
    """One partition's series store and axis, with the scaling and covariate encoding the model settled
    on all the partitions. A copy (``owned=False``): the read partition must stay intact should Dask
    run this task again."""
    panel = read["panel"]
    return {"store": model._prepare(panel, owned=False, encoding=model.covariates_), "axis": panel.axis()}


def _encoding(metas: list, past: tuple, future: tuple, static: tuple) -> Encoding:
    """The covariate encoding a local fit on all the partitions' series settles (``Encoding.fit``), but
    for the static scaling (``Encoding.scaling_statics``, over every series): each column's kind (one
    across the partitions), its categories ordered as the whole column's, the calendar features."""
    kinds, categories = {}, {}
    for name in check_kinds(past, future, static):
        found = sorted({m["kinds"][name] for m in metas})
        if len(found) > 1:
            raise ValueError(f"covariate {name!r} is {found[0]} in some partitions and {found[1]} in others; give "
                             "the column one dtype in every partition")
        kinds[name] = found[0]
        if kinds[name] == "category":
            _, uniques = factorize(pd.concat([m["values"][name] for m in metas], ignore_index=True))
            categories[name] = tuple(uniques)              # in the order a local read gives them
    calendars = {m["calendar"] for m in metas}
    if len(calendars) > 1:
        raise ValueError(f"the partitions' series have different calendar features {sorted(calendars)} (different "
                         "frequencies?); pass freq=")
    return Encoding.of(past, future, static, calendars.pop(), kinds, categories)


# The partners' fits (``blend``, ``_statistical``, ``_curves``) run on the threads a local fit gives them,
# the client's ``n_threads``: their results do not depend on the count. The ETS curves of the 100,000
# monthly series of benchmarks/dask_scaling.py take 4.9 s on one thread, 2.7 s on two; on one thread
# everywhere, that Dask fit took 33.1-33.9 s on one worker, and 30.3-31.5 s with these threads (2 cores).
def _gather(prepared, series: np.ndarray, ends: np.ndarray, layout, blend: str | None = None,
            stats: bool = False, threads: int = 1) -> Samples:
    return gather_samples(prepared["store"], series, ends, layout, blend=blend, stats=stats, threads=threads)


def _statistical(prepared, series: np.ndarray, cuts: np.ndarray, level: np.ndarray, horizon: int,
                 kind: str, threads: int) -> np.ndarray:
    return statistical_forecasts(prepared["store"], series, cuts, level, horizon, kind, threads)


def _curves(prepared, kind: str, threads: int) -> np.ndarray:
    store = prepared["store"]
    return store_curves(store.z, store.offsets, kind, threads)


def _tail(prepared, window: int):
    return prepared["store"].tail(window), prepared["axis"]


def _train_member(model, net, shards: list, rows: list, keys: np.ndarray, orders: list, validation,
                  epochs: int | None = None):
    """Train one ensemble member on its pre-gathered samples (``PoolBatches``), as a local fit would
    (silently: no progress bar on a worker); ``epochs``: its ``retrain``, that many epochs."""
    pool = _assemble(shards, rows, len(keys))
    batches = PoolBatches(pool, keys, orders, model.batch_size)
    history, best = model._train(net, batches, validation, epochs=epochs)
    return net, history, best


def _assemble(shards: list, rows: list, n: int) -> Samples:
    """Samples from per-partition shards: shard j holds the samples of positions rows[j]."""
    first = next(s for s in shards if len(s))
    x = np.empty((first.x.shape[0], n, first.x.shape[2]), np.float32)
    y = np.empty((n, first.y.shape[1]), np.float32)
    level, series = np.empty(n), np.empty(n, np.int64)
    xf = None if first.xf is None else np.empty((first.xf.shape[0], n, first.xf.shape[2]), np.float32)
    statistical = None if first.statistical is None else np.empty((n, first.statistical.shape[1]))
    spread = None if first.spread is None else np.empty(n)
    steps = None if first.steps is None else np.empty((n, first.steps.shape[1]))
    recent = None if first.recent is None else np.empty((n, first.recent.shape[1]))
    history = None if first.history is None else np.empty(n, np.int64)
    phase = None if first.phase is None else np.empty((n, first.phase.shape[1]))
    for shard, where in zip(shards, rows):
        if not len(where):
            continue
        x[:, where], y[where], level[where], series[where] = shard.x, shard.y, shard.level, shard.series
        if xf is not None:
            xf[:, where] = shard.xf
        if statistical is not None:
            statistical[where] = shard.statistical
        if spread is not None:
            spread[where], steps[where] = shard.spread, shard.steps
            recent[where], history[where], phase[where] = shard.recent, shard.history, shard.phase
    return Samples(x, y, level, xf, series, statistical, spread, steps, recent, history, phase)


# ------------------------------------------------------------------------------------------------------
def fit(model, data, client=None, scheduler: str | None = None, workers: int | None = None):
    """Fit the Forecaster ``model`` on ``data`` (dask or pandas long frame) on a Dask cluster; returns
    the fitted model, identical to ``model.fit(data.compute())`` with the same seed.

    Example
    -------
    >>> import tsrnn, pandas as pd                                    # doctest: +SKIP
    >>> from distributed import Client   # doctest: +SKIP
    >>> client = Client(n_workers=2)   # doctest: +SKIP
    >>> model = tsrnn.cluster.fit(tsrnn.Forecaster(season_length=12), pd.read_csv("sales.csv"), client)   # doctest: +SKIP
    >>> model.predict(12)   # doctest: +SKIP
    """
    client, close = connect(client, scheduler, workers)
    try:
        model._check_params()
        model._forget()
        past, future, static = (check_names(name, getattr(model, name)) for name in
                                ("past_covariates", "future_covariates", "static_covariates"))
        partitions = to_partitions(data, client, model.id_col, model.time_col)
        reads = [client.submit(_read, part, model, (*past, *future, *static), static, pure=False)
                 for part in partitions]
        metas = client.gather([client.submit(_meta, r, model.calendar) for r in reads])
        bad = [m["error"] for m in metas if "error" in m]
        errors = list(dict.fromkeys(bad))              # a problem of the whole frame (a missing column) once
        if errors:
            raise ValueError(errors[0] if len(errors) == 1 else f"{len(bad)} partitions have bad data: "
                             + " | ".join(errors[:3]))
        keep = [i for i, m in enumerate(metas) if len(m["ids"])]
        if not keep:
            raise ValueError("the DataFrame is empty")
        reads, metas = [reads[i] for i in keep], [metas[i] for i in keep]
        all_ids = np.concatenate([m["ids"] for m in metas])
        codes, uniques = pd.factorize(pd.Series(all_ids, dtype=object), sort=True)
        part_of = np.repeat(np.arange(len(metas)), [len(m["ids"]) for m in metas])
        local_of = np.concatenate([np.arange(len(m["ids"])) for m in metas])
        order = np.empty(len(all_ids), np.int64)
        order[codes] = np.arange(len(all_ids))          # global (sorted) series g -> position in all_ids
        lengths = np.concatenate([m["lengths"] for m in metas])[order]
        ids = np.empty(len(uniques), dtype=object)
        ids[:] = list(uniques)
        encoding = _encoding(metas, past, future, static)
        if static:                                      # scaled across all the series, in the global order
            raw = client.gather([client.submit(_static_raw, r, encoding) for r in reads])
            encoding = encoding.scaling_statics(np.concatenate(raw)[order])
        model.covariates_ = encoding
        needed = model._settle(lengths, ids)            # the window, horizon, scaler and history limit
        prepared = [client.submit(_prepare, r, model, pure=False) for r in reads]
        del reads                                       # each read panel is freed once its store exists
        layout = model._layout()
        windows, retrain = model._held_out_windows(lengths)
        held_out = windows.total_held_out > 0
        model.device_ = model._device()

        def samples(series: np.ndarray, ends: np.ndarray, blend: str | None = None, stats: bool = False):
            """Futures of the samples of global (series, end) pairs, per partition, and their positions
            (``blend``: with that statistical forecast of their targets; ``stats``: with the
            interval statistics of the points before them)."""
            where = order[series]
            parts, rows = [], []
            for p in range(len(prepared)):
                mine = np.flatnonzero(part_of[where] == p)
                rows.append(mine)
                parts.append(client.submit(_gather, prepared[p], local_of[where[mine]], ends[mine], layout, blend,
                                           stats, model._threads()))
            return parts, rows

        tails = client.gather([client.submit(_tail, p, model.window_) for p in prepared])
        state, axis = _merge_tails(tails, order, ids)
        series, ends = model._calibration_pairs(windows, held_out, state.constant)
        shards, rows = samples(series, ends, stats=True)
        calibration = _assemble(client.gather(shards), rows, len(series))
        calibration.series = series                     # the global series of each sample
        where = order[series]                           # each candidate statistical forecast of their targets,
        futures = {kind: [client.submit(_statistical, prepared[p], local_of[where[mine]], calibration.history[mine],
                                        calibration.level[mine], layout.horizon, kind, model._threads())
                          for p, mine in enumerate(rows)]
                   for kind in model._partners()}      # every kind submitted before any is gathered
        partners = {}
        for kind, parts in client.gather(futures).items():
            partners[kind] = np.empty((len(series), layout.horizon))
            for mine, part in zip(rows, parts):
                partners[kind][mine] = part
        recent_series, recent_ends = model._recent_pairs(windows)

        def recent(blend):
            """Each series' last training windows (its in-sample error), gathered once the blend's share is
            known (``Forecaster._fitted``)."""
            shards, rows = samples(recent_series, recent_ends, blend)
            out = _assemble(client.gather(shards), rows, len(recent_series))
            out.series = recent_series                  # the global series of each sample
            return [out]
        def train(windows, validation, epochs=None) -> list:
            """The members trained on workers, each on the samples its epochs draw (``epochs``: member k
            retrained for ``epochs[k]`` of them, as ``Forecaster._train_members`` does)."""
            futures = []
            for k in range(model.ensemble_size):
                rng = model._member_rng(k, retrain=epochs is not None)
                net = model._network(layout, rng)
                orders = epoch_orders(windows, rng, model.samples_per_epoch,
                                      model.max_epochs if epochs is None else epochs[k])
                keys = np.unique(np.concatenate(orders))
                shards, rows = samples(*windows.train_pairs(keys))
                futures.append(client.submit(_train_member, model, net, shards, rows, keys, orders, validation,
                                             None if epochs is None else epochs[k], pure=False))
            return client.gather(futures)
        members = train(windows, model._stopping_set(calibration) if held_out else None)

        def curves(kind):
            """Each series' curve of the chosen statistical forecast, fitted on its whole history."""
            parts = client.gather([client.submit(_curves, p, kind, model._threads()) for p in prepared])
            return np.concatenate(parts)[order]
        model._fitted(members, calibration, partners, state, axis,
                      model._fallbacks(ids, lengths, needed, state.constant), curves,
                      recent if held_out and len(recent_series) else None, retrain)
        if model.retrained_:
            model._use_networks([net for net, _, _ in train(model._windows(lengths, holdout=False), None,
                                                            model.best_epoch_)])
        return model
    except BaseException:
        model._forget()
        raise
    finally:
        close()


def _merge_tails(tails: list, order: np.ndarray, ids: np.ndarray) -> tuple[SeriesStore, Axis]:
    """The partitions' tail stores and axes as one store and axis in the global series order."""
    stores = [t[0] for t in tails]
    axes = [t[1] for t in tails]
    steps = {str(a.step) for a in axes}
    if len(steps) > 1:
        raise ValueError(f"the partitions' series have different frequencies {sorted(steps)}; pass freq=")
    lengths = np.concatenate([s.lengths for s in stores])
    starts = np.concatenate([s.offsets[:-1] + base for s, base in
                             zip(stores, np.cumsum([0] + [len(s.z) for s in stores[:-1]]))])
    z = np.concatenate([s.z for s in stores])
    new_lengths = lengths[order]
    offsets = np.zeros(len(order) + 1, np.int64)
    np.cumsum(new_lengths, out=offsets[1:])
    rows = np.repeat(starts[order] - offsets[:-1], new_lengths) + np.arange(offsets[-1])

    def cat(name):
        return np.concatenate([getattr(s, name) for s in stores])[order]
    x = np.concatenate([s.x for s in stores])
    state = SeriesStore(z[rows], offsets, cat("log"), cat("shift"), cat("scale"), cat("seasonal"), cat("n_obs"),
                        x[rows], cat("x_center"), cat("x_scale"), cat("static"), spread=cat("spread"),
                        step_error=cat("step_error"), curves=cat("curves"), recent_spread=cat("recent_spread"),
                        phase_ratio=cat("phase_ratio"), round_error=cat("round_error"), zero_share=cat("zero_share"))
    lasts = [a.last for a in axes]
    last = (lasts[0].append(lasts[1:]) if isinstance(lasts[0], pd.Index) else np.concatenate(lasts))
    last = last.take(order) if isinstance(last, pd.Index) else last[order]
    first = axes[0]
    return state, Axis(ids, last, first.step, first.kind, first.time_kind, first.name, first.index_names)


def predict(model, h: int, data=None, client=None, scheduler: str | None = None, workers: int | None = None,
            level=None, compute: bool = False, future=None):
    """Forecast ``h`` steps. Without ``data``: the fitted series (a pandas frame, as ``model.predict``).
    With ``data`` (new histories, dask or pandas long frame): every partition is forecast on the
    workers with the model broadcast once; returns a dask DataFrame (``compute=True``: pandas).
    ``future``: the future covariates' values (a pandas frame, as for ``model.predict``), sent to every
    worker, where each partition reads its own series' rows.

    Example
    -------
    >>> from tsrnn import Forecaster, cluster
    >>> from tsrnn.datasets import load_m4
    >>> train = load_m4("Quarterly").train
    >>> model = cluster.fit(Forecaster(season_length=4, horizon=8), train, workers=2)    # doctest: +SKIP
    >>> cluster.predict(model, 8, train, workers=2, compute=True).shape                 # doctest: +SKIP
    (1600, 3)
    """
    if data is None:
        return model.predict(h, level=level, future=future)
    client, close = connect(client, scheduler, workers)
    try:
        import dask.dataframe as dd

        shared = client.scatter(model, broadcast=True)
        shared_future = None if future is None else client.scatter(future, broadcast=True)
        parts = [client.submit(_predict_part, shared, part, h, level, shared_future)
                 for part in to_partitions(data, client, model.id_col, model.time_col)]
        meta = _predict_part(model, _tiny(model, h)[0].iloc[:0], h, level)
        out = dd.from_delayed(parts, meta=meta, verify_meta=False)
        return out.compute() if compute else out.persist()
    finally:
        if compute:
            close()


def _predict_part(model, frame: pd.DataFrame, h: int, level, future=None):
    if not len(frame):                      # the output's columns and dtypes, from a forecast of a stand-in
        tiny, tiny_future = _tiny(model, h)
        return model.predict(h, y=tiny, level=level, future=tiny_future).iloc[:0]
    return model.predict(h, y=frame, level=level, future=future)


def _tiny(model, h: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A one-series frame shaped like the fitted data, covariate columns included, and its future frame
    for ``h`` steps (None without future covariates): a stand-in to forecast for the output's layout."""
    from .data import series_stamps

    axis, enc = model.panel_, model.covariates_

    def value(name):                        # any value of the column's kind
        kind = enc.kinds[name]
        if kind == "category":
            return enc.categories[name][0]
        return False if kind == "bool" else 0.0

    n = max(model.window_, 2)
    ds = series_stamps(axis, np.arange(-n + 1, 1), np.zeros(n, np.int64))
    frame = pd.DataFrame({model.id_col: axis.ids[0], model.time_col: ds, model.target_col: np.arange(1.0, n + 1),
                          **{name: value(name) for name in enc.columns}})
    if not enc.future:
        return frame, None
    ds = series_stamps(axis, np.arange(1, h + 1), np.zeros(h, np.int64))
    return frame, pd.DataFrame({model.id_col: axis.ids[0], model.time_col: ds,
                                **{name: value(name) for name in enc.future}})


def forecast(model, data, h: int, client=None, scheduler: str | None = None, workers: int | None = None,
             level=None, future=None) -> pd.DataFrame:
    """Fit ``model`` on ``data`` and forecast ``h`` steps on a cluster (what ``tsrnn forecast --workers``
    runs): a Forecaster by ``fit``; a per-series baseline partition by partition, one task each. The
    frame equals ``model.fit(data).predict(h)``'s.

    Example
    -------
    >>> from tsrnn import Forecaster, cluster
    >>> from tsrnn.datasets import load_m4
    >>> train = load_m4("Quarterly").train
    >>> fc = cluster.forecast(Forecaster(season_length=4, horizon=8), train, 8, workers=2)   # doctest: +SKIP
    >>> list(fc.columns)                                                                     # doctest: +SKIP
    ['unique_id', 'ds', 'yhat']
    """
    from .forecaster import Forecaster

    client, close = connect(client, scheduler, workers)
    try:
        if isinstance(model, Forecaster):
            return fit(model, data, client).predict(h, level=level, future=future)
        columns = getattr(model, "id_col", "unique_id"), getattr(model, "time_col", "ds")
        shared_future = None if future is None else client.scatter(future, broadcast=True)
        parts = client.gather([client.submit(_fit_predict, model, part, h, level, shared_future, pure=False)
                               for part in to_partitions(data, client, *columns)])
        out = pd.concat([p for p in parts if len(p)], ignore_index=True)
        return out.sort_values(columns[0], kind="stable").reset_index(drop=True)
    finally:
        close()


def _fit_predict(model, frame: pd.DataFrame, h: int, level, future=None):
    from .backtesting import _fresh

    if not len(frame):
        return pd.DataFrame()
    return _fresh(model).fit(frame).predict(h, level=level, future=future)


# ------------------------------------------------------------------------------------------------------
def backtest(model=None, data=None, horizon: int | None = None, n_windows: int = 3, step: int | None = None,
             refit: bool | int = True, season_length: int | None = None, *, client=None, scheduler: str | None = None,
             workers: int | None = None, **kwargs):
    """``tsrnn.backtest`` on a Dask cluster: the data scattered once, one task per (window, model)
    (``refit=False``: per model; ``refit=n``: per model and fit, a fit and the windows it forecasts).
    Same arguments and result as ``tsrnn.backtest``, identical metrics.

    Example
    -------
    >>> from tsrnn import cluster
    >>> from tsrnn.datasets import load_m4
    >>> m4 = load_m4("Quarterly")
    >>> result = cluster.backtest(["lstm", "theta", "naive2"], m4.train, horizon=8, season_length=4,
    ...                           workers=2)                                               # doctest: +SKIP
    >>> list(result.metrics.model)                                                         # doctest: +SKIP
    ['lstm', 'theta', 'naive2']
    """
    from .backtesting import backtest as local_backtest

    client, close = connect(client, scheduler, workers)
    try:
        if hasattr(data, "map_partitions"):
            data = data.compute()
        return local_backtest(model, data, horizon, n_windows, step, refit, season_length, executor=client, **kwargs)
    finally:
        close()
