"""Rolling-origin backtesting of several models on identical windows, scored with the M4 metrics.

For every series of length n, window w = 0..n_windows-1 has the cutoff

    cutoff_w = n - horizon - step * (n_windows - 1 - w)          (step defaults to horizon)

the model is fitted on the points before the cutoff (``refit=True``: a fresh copy per window;
``refit=False``: fitted once on the first window, then asked to forecast the later windows from their
longer history without retraining; ``refit=n``: fitted afresh on windows 1, n + 1, 2n + 1, ..., each fit
forecasting its own window and the n - 1 after it from their longer histories) and forecasts the next
``horizon`` points, which are compared with the actual values. Nothing at or after a cutoff is ever
seen by the model for that window.

A series too short for a window (fewer than ``max(2, season_length + 1)`` points before its cutoff) is
left out of that window, not fatal to the run: ``BacktestResult.skipped`` lists each (series, window),
and ``BacktestResult.fallbacks`` the series that a model forecast by a fallback rule. The windows are
cut from the series store with whole-array operations; tsrnn's own models receive them as they are, any
other model as a long DataFrame.

Covariates: the data may carry the covariate columns the models read (``past_covariates``,
``future_covariates``, ``static_covariates`` of a Forecaster, ``future_covariates`` of ARIMAX); the
named models get the ones given to ``backtest``. Past covariates are cut at each cutoff with the target.
Future covariates of the test window come from the data: they are taken as future values known in
advance (the convention of Darts, NeuralForecast and statsforecast); when they are forecasts in real use
(weather), the backtest is optimistic by the forecasts' error.

Metrics per series and window: MAE, RMSE, sMAPE, MASE (scale from the training part, period
``season_length``) and MAPE where defined; per model: the means over all series and windows, and OWA
against M4's Naive2 forecast of the same windows (computed internally when "naive2" is not one of the
models).
"""
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import metrics
from ._progress import Progress
from .baselines import BASELINES
from .covariates import check_names
from .preprocessing import naive2_forecasts
from ._validation import check_positive_int
from .data import Panel, id_values, row_stamps, series_stamps, to_panel
from .intervals import check_levels
from .kernels.spec import SPECS

__all__ = ["backtest", "BacktestResult", "make_model", "MODEL_NAMES"]

NEURAL = tuple(SPECS)                    # every cell of the registry: lstm, gru, rnn
MODEL_NAMES = NEURAL + tuple(BASELINES)
COVARIATES = ("past_covariates", "future_covariates", "static_covariates", "calendar")


# the parameters every model shares with the Forecaster: how to read the data, and what it cannot be
_SHARED = ("id_col", "time_col", "target_col", "freq", "fill", "nonnegative")


def make_model(name: str, horizon: int, season_length: int = 1, progress: bool = False, strict: bool = False,
               **kwargs):
    """A model from its name: lstm, gru, rnn (Forecaster) or naive, snaive, naive2, ses, arima, arimax,
    ets, theta. ``kwargs`` go to a neural model; of them, a baseline takes how to read the data
    (``id_col``, ``time_col``, ``target_col``, ``freq``, ``fill``), ``nonnegative`` and the covariates
    it can use (ARIMAX: ``future_covariates`` and ``calendar``; the univariate ones none:
    ``baseline_params``). A keyword that is no Forecaster parameter is a TypeError; with ``strict``
    (one model asked for by name), so is one the baseline does not read.

    Example
    -------
    >>> make_model("gru", horizon=8, season_length=4, hidden_size=16).get_params()["cell"]
    'gru'
    >>> type(make_model("theta", horizon=8, season_length=4)).__name__
    'Theta'
    """
    key = str(name).lower()
    if key in NEURAL:
        from .forecaster import Forecaster

        return Forecaster(cell=key, horizon=horizon, season_length=season_length, progress=progress, **kwargs)
    if key in BASELINES:
        reads = baseline_params(key)
        unread = sorted(set(kwargs) - set(reads))
        if strict and unread:
            raise TypeError(f"model {name!r} takes none of {unread}; of the keyword arguments it reads only "
                            f"{list(reads)}")
        check_neural_kwargs(kwargs, "make_model")
        return BASELINES[key](season_length=season_length, **{k: v for k, v in kwargs.items() if k in reads})
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")


def baseline_params(name: str) -> tuple:
    """The keyword arguments of ``make_model`` that the baseline ``name`` reads: how to read the data
    and the covariates it can use.

    >>> baseline_params("arimax")
    ('future_covariates', 'calendar', 'id_col', 'time_col', 'target_col', 'freq', 'fill', 'nonnegative')
    """
    accepted = BASELINES[name]._param_names()
    return tuple(k for k in (*COVARIATES, *_SHARED) if k in accepted)


def check_neural_kwargs(kwargs: dict, caller: str) -> None:
    """The extra keyword arguments of ``caller`` are a neural model's (``Forecaster``'s) parameters: a
    typo (``windows=`` for ``n_windows=``) is an error, never dropped because no neural model reads it.

    >>> check_neural_kwargs({"windows": 2}, "backtest")
    Traceback (most recent call last):
    TypeError: backtest got unexpected keyword argument(s) ['windows']: neither its own nor a Forecaster's
    """
    from .forecaster import Forecaster

    unknown = sorted(set(kwargs) - set(Forecaster._param_names()))
    if unknown:
        raise TypeError(f"{caller} got unexpected keyword argument(s) {unknown}: neither its own nor a Forecaster's")


def covariates_of(estimator) -> tuple[tuple, tuple, tuple]:
    """(past, future, static) covariate columns an estimator reads, from its parameters."""
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    return tuple(check_names(k, params.get(k)) for k in COVARIATES[:3])


# what the result's frames name their own columns (the data's id, time and target columns keep theirs)
_OWN_COLUMNS = {"cutoff", "yhat", "model", "window", "n_obs", "reason", "scale", "mae", "rmse", "smape", "mase",
                "rmsse", "mape", "smape_naive2", "mase_naive2", "spl"}
# the metrics a backtest may rank its models by (lower is better), besides spl and each level's msis_<l>
RANKINGS = ("owa", "mase", "rmsse", "smape", "mae", "rmse", "mape")
# the rankings whose best forecast of mostly-zero test values is 0 (sMAPE: 200 % for any other; MAE and
# MASE: the median), which the notes point away from
_ZERO_FAVOURING = ("owa", "mase", "smape", "mae", "mape")
_OWN_PREFIXES = ("yhat_", "coverage_", "msis_")
# the share of zero test values from which the notes warn that sMAPE (and OWA) mislead: 200 % for any
# forecast of a 0 but an exact one, whatever its size (intermittent sales)
_ZERO_SHARE_NOTED = 0.05


@dataclass
class BacktestResult:
    """``forecasts``: long frame (``id_col, time_col, cutoff, target_col, yhat, model``: the data's own
    column names, ``unique_id, ds, cutoff, y, ...`` by default); ``metrics``: one row per model with the
    aggregated scores, ranked by ``rank_by`` (OWA by default); ``series_metrics``: per model, series
    (``id_col``) and cutoff, with the MASE scale of the training part (``scale``; 0 for a flat one, left
    out of the scaled means).

    Example
    -------
    >>> import numpy as np, tsrnn
    >>> result = tsrnn.backtest(["naive", "naive2"], 10 + np.sin(np.arange(60) / 2), horizon=6, n_windows=2,
    ...                         progress=False)
    >>> list(result.forecasts.columns)
    ['unique_id', 'ds', 'cutoff', 'y', 'yhat', 'model']
    >>> result.metrics.windows.tolist()
    [2, 2]
    """
    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    series_metrics: pd.DataFrame
    horizon: int
    season_length: int
    skipped: pd.DataFrame       # <id_col>, window, n_obs: series too short for a window, left out of it
    fallbacks: pd.DataFrame     # model, window, <id_col>, reason: series a model forecast by a fallback rule
    id_col: str = "unique_id"   # the data's column names, which the frames above keep
    time_col: str = "ds"
    target_col: str = "y"
    rank_by: str = "owa"        # the metric ``metrics`` is ranked by

    def notes(self) -> list[str]:
        """One line per kind of left-out or fallback series (what the CLI prints under its table)."""
        lines = []
        if len(self.skipped):
            ids = self.skipped[self.id_col]
            first = list(dict.fromkeys(ids))[:5]
            lines.append(f"{ids.nunique()} series too short for some windows were left out of "
                         f"them ({len(self.skipped)} series-windows; first: {first})")
        per, fc = self.series_metrics, self.forecasts          # one model's rows: every model has the same
        per = per[per.model == per.model.iloc[0]] if len(per) else per
        flat = per[~(per.scale > 0)]
        if 0 < len(flat) < len(per):
            first = list(dict.fromkeys(flat[self.id_col]))[:5]
            lines.append(f"{len(flat)} of {len(per)} series-windows have a flat training history (a MASE "
                         f"scale of 0; first: {first}): MASE, OWA, MSIS and SPL average the other "
                         f"{len(per) - len(flat)}")
        actual = fc.loc[fc.model == fc.model.iloc[0], self.target_col] if len(fc) else fc[self.target_col]
        zeros = float((actual == 0).mean()) if len(actual) else 0.0
        if zeros >= _ZERO_SHARE_NOTED and self.rank_by in _ZERO_FAVOURING:
            lines.append(f"{zeros:.0%} of the test values are 0: sMAPE scores every forecast of them but an exact 0 "
                         "200 %, and the best forecast by MAE or MASE is the median (0 for a product that sells on "
                         f"fewer than half the days), so the ranking by {self.rank_by.upper()} favours forecasts of 0; "
                         "rank by RMSSE, M5's metric (rank_by=\"rmsse\", --rank-by rmsse)")
        for model, g in self.fallbacks.groupby("model", sort=False):
            first = list(dict.fromkeys(g[self.id_col]))[:5]
            lines.append(f"{model}: {g[self.id_col].nunique()} series forecast by a fallback rule (first: {first}; "
                         f"{g.reason.iloc[0]})")
        return lines

    def plot(self, history: pd.DataFrame | None = None, series=None, max_series: int = 3):
        """The backtest report (``tsrnn.plot.backtest``, the ``plot`` extra): metric bars per model, then
        actuals against forecasts for ``max_series`` series (``history``: the backtested data, drawn
        before the windows). Returns the matplotlib Figure."""
        from .plot import backtest as report

        return report(self, history=history, series=series, max_series=max_series)


def _model_items(model) -> list:
    """The models given to ``backtest`` as (name, model) pairs (name None where not given: a list's)."""
    if isinstance(model, dict):
        return list(model.items())
    items = list(model) if isinstance(model, (list, tuple)) else [model]
    return [item if isinstance(item, tuple) else (None, item) for item in items]


def _resolve_models(model, horizon, season_length, **neural_kwargs) -> dict:
    out = {}
    for name, m in _model_items(model):
        if isinstance(m, str):
            name = name or m.lower()
            m = make_model(m, horizon, season_length, **neural_kwargs)
        elif not (hasattr(m, "fit") and hasattr(m, "predict")):
            raise ValueError(f"models must be names or objects with fit/predict, got {type(m).__name__}")
        name = name or type(m).__name__.lower()
        if name in out:
            raise ValueError(f"two models are named {name!r}; pass a dict to name them")
        out[name] = m
    if not out:
        raise ValueError("no models to backtest")
    return out


def backtest(model=None, data=None, horizon: int | None = None, n_windows: int = 3, step: int | None = None,
             refit: bool | int = True, season_length: int | None = None, *, models=None, id_col: str = "unique_id",
             time_col: str = "ds", target_col: str = "y", freq=None, fill: str | None = None, progress: bool = True,
             executor=None, level=None, rank_by: str = "owa", **neural_kwargs) -> BacktestResult:
    """Rolling-origin evaluation of one or several models on identical windows.

    model : a model name ("lstm", "arima", ...), an object with fit/predict, or a list/dict of them
        (``models=`` is an alias). Named neural models get ``neural_kwargs`` (e.g. ``random_state``).
    data : Series, 1-D array, long or wide DataFrame (as for ``Forecaster.fit``).
    horizon : steps per forecast; n_windows : number of cutoffs; step : distance between cutoffs.
    refit : True (default): fit afresh on every window; False: fit once, on the first window, and forecast
        the later windows from their longer histories; an int n: fit afresh on every n-th window (the
        1st, the (n + 1)-th, ...), each fit also forecasting the n - 1 windows after its own (mlforecast's
        and Darts' convention: a retrain schedule between the two, at 1/n of the training cost).
    season_length : period m, for MASE, Naive2 and the named models (default 1).
    freq : pandas frequency of datetime stamps when it cannot be inferred.
    fill : None, "ffill", "interpolate" or "zero": missing values and missing time stamps are filled
        (as ``Forecaster``'s ``fill``) before the windows are cut, so every model trains on the filled
        histories; a made-up value is never scored: it is NaN in ``forecasts.y`` and left out of the
        metrics. None: they are an error naming the series.
    executor : a ``dask.distributed.Client`` to run every (window, model) on (``tsrnn.cluster.backtest``
        connects one); the result is the same as without.
    level : optional list of interval levels in (0, 100), e.g. [80, 95]: every model forecasts its
        intervals too (``yhat_lo_<l>``/``yhat_hi_<l>`` in ``forecasts``), scored by ``coverage_<l>``
        (share of actual values inside), ``msis_<l>`` (M4's mean scaled interval score) and ``spl``
        (the pinball loss of the intervals' ends as quantiles, scaled as MASE; lower is better).
    rank_by : the metric that ranks the models in ``metrics`` (lower is better): "owa" (default, M4's),
        "mase", "rmsse" (M5's; the one to use on intermittent sales, where sMAPE and MASE favour
        forecasts of 0), "smape", "mae", "rmse", "mape", or with ``level``, "spl" or "msis_<l>".
    past_covariates, future_covariates, static_covariates, calendar : for the named models (see
        ``make_model``); objects read the ones they were given. The data then needs those columns.
    nonnegative : True: the data cannot be negative; every named model clips its forecasts and
        interval ends at 0, and a value below 0 is an error (``make_model``).

    Works as a pandas pipeline step: ``df.pipe(tsrnn.backtest, models=["lstm", "arima"], horizon=12)``.

    Example
    -------
    >>> import numpy as np, tsrnn
    >>> y = 10 + np.sin(np.arange(60) / 2)
    >>> result = tsrnn.backtest(["naive", "naive2"], y, horizon=6, n_windows=2, progress=False)
    >>> sorted(result.metrics.model)
    ['naive', 'naive2']
    """
    if isinstance(model, (pd.DataFrame, pd.Series, np.ndarray)) and not isinstance(data, (pd.DataFrame, pd.Series,
                                                                                        np.ndarray)):
        model, data = data, model                 # df.pipe(tsrnn.backtest, ...) passes the data first
    if models is not None:
        if model is not None:
            raise ValueError("give the models either as `model` or as `models`, not both")
        model = models
    if data is None:
        raise ValueError("backtest needs data")
    if model is None:
        raise ValueError("backtest needs at least one model")
    check_positive_int("horizon", horizon)
    check_positive_int("n_windows", n_windows)
    step = check_positive_int("step", horizon if step is None else step)
    m = check_positive_int("season_length", 1 if season_length is None else season_length)
    levels = tuple(check_levels(level))
    rankings = RANKINGS + (("spl", *(f"msis_{lv:g}" for lv in levels)) if levels else ())
    if rank_by not in rankings:
        raise ValueError(f"rank_by must be one of {list(rankings)}, got {rank_by!r}"
                         + ("" if levels else " (spl and msis_<l> need level=)"))
    every = refit_every(refit)
    taken = [c for c in (id_col, time_col, target_col) if c in _OWN_COLUMNS or str(c).startswith(_OWN_PREFIXES)]
    if taken:
        raise ValueError(f"the backtest's result frames have columns of their own named {taken}; rename the data's "
                         "column(s) and pass the new name(s) as id_col, time_col or target_col")

    check_neural_kwargs(neural_kwargs, "backtest")
    named = _resolve_models(model, horizon, m, **neural_kwargs)
    if neural_kwargs and not any(isinstance(est, str) for _, est in _model_items(model)):
        raise TypeError(f"backtest's keyword arguments {sorted(neural_kwargs)} go to named models (such as "
                        "\"lstm\"), and none is named: set them on the model objects")
    if levels:
        plain = [name for name, est in named.items() if "level" not in inspect.signature(est.predict).parameters]
        if plain:
            raise ValueError(f"level= needs models that forecast intervals (predict(h, level=...)); {plain} do not")
    read = [covariates_of(est) for est in named.values()]
    columns = list(dict.fromkeys(c for cols in read for part in cols for c in part))
    panel = to_panel(data, id_col, time_col, target_col, freq, fill, columns,
                     list(dict.fromkeys(c for cols in read for c in cols[2])))
    span = horizon + step * (n_windows - 1)
    min_train = max(2, m + 1)
    lengths = panel.lengths
    if not (lengths - span >= min_train).any():
        raise ValueError(f"every series has fewer than {span + min_train} points, the least for {n_windows} "
                         f"window(s) of horizon {horizon} (step {step}) plus a training part of {min_train}")
    skipped = []
    for w in range(n_windows):
        short = np.flatnonzero(lengths - (span - step * w) < min_train)
        skipped.append(pd.DataFrame({"unique_id": id_values(panel.ids[short]), "window": w + 1,
                                     "n_obs": lengths[short]}))
    bar = Progress(len(named) * n_windows, progress, desc="backtest")
    plan = (horizon, step, m, span, min_train, id_col, time_col, target_col, levels)
    try:
        if executor is None:
            done = _run(panel, named, range(n_windows), every, plan,
                        lambda k, name, w: bar.update(k, model=name, window=w))
        else:
            done = _run_on(executor, panel, named, n_windows, every, plan, bar)
    finally:
        bar.close()
    results = [done[(w, name)] for w in range(n_windows) for name in named]
    rows, scores, fallbacks = ([r[i] for r in results] for i in range(3))
    series_metrics = pd.concat(scores, ignore_index=True)
    metrics_table = _aggregate(series_metrics, rank_by)
    # the result's frames in the data's own column names (built as unique_id, ds, y)
    names = {"unique_id": id_col, "ds": time_col, "y": target_col}
    return BacktestResult(pd.concat(rows, ignore_index=True).rename(columns=names), metrics_table,
                          series_metrics.rename(columns=names), horizon, m,
                          pd.concat(skipped, ignore_index=True).rename(columns=names),
                          pd.concat(fallbacks, ignore_index=True).rename(columns=names), id_col, time_col, target_col,
                          rank_by)


def refit_every(refit) -> int:
    """``backtest``'s ``refit`` as the windows between fits: True 1, False 0 (the first window only), an
    int n >= 1 itself.

    >>> refit_every(True), refit_every(False), refit_every(3)
    (1, 0, 3)
    """
    if isinstance(refit, (bool, np.bool_)):
        return int(refit)
    if isinstance(refit, (int, np.integer)) and refit >= 1:
        return int(refit)
    raise ValueError(f"refit must be True, False or a positive int (fit afresh on every n-th window), got {refit!r}")


def _run(panel: Panel, named: dict, windows, every: int, plan: tuple, on_done=None) -> dict:
    """Fit, forecast and score the models ``named`` on the windows ``windows`` (0-based): each model is
    fitted afresh on the first of them and on every window w with ``w % every == 0`` (``every`` 0: on
    the first only), and forecasts the others from their longer histories with its latest fit:
    {(window, name): (forecasts, scores, fallbacks)}."""
    horizon, step, m, span, min_train, id_col, time_col, target_col, levels = plan
    lengths = panel.lengths
    out, latest = {}, {}                                # each model's latest fit
    for w in windows:
        offset = span - step * w                        # points after the cutoff, counting the test window
        window = _Window(panel, np.flatnonzero(lengths - offset >= min_train), offset, horizon, m)
        for name, estimator in named.items():
            future = window.future_for(estimator, id_col, time_col)
            if levels:
                future["level"] = list(levels)
            if name not in latest or (every and w % every == 0):
                fitted = _fresh(estimator).fit(window.train_for(estimator, id_col, time_col, target_col))
                latest[name] = fitted
                fc = fitted.predict(horizon, **future)
            else:
                fitted = latest[name]
                fc = fitted.predict(horizon, y=window.train_for(estimator, id_col, time_col, target_col), **future)
            # a model's forecasts name their ids as it was told to (tsrnn's own: their id_col; they read
            # the window itself), else as the frame it was given did
            frame, window_scores = window.collect(fc, name, levels, getattr(estimator, "id_col", id_col))
            out[(w, name)] = (frame, window_scores.assign(window=w + 1), _fallbacks(fitted, name, w + 1))
            if on_done is not None:
                on_done(len(out), name, w + 1)
    return out


def _run_on(client, panel: Panel, named: dict, n_windows: int, every: int, plan: tuple, bar) -> dict:
    """``_run`` as Dask tasks, the data scattered once: one task per (fit, model), a fit and the windows it
    forecasts (each window with ``every`` 1, all of them with 0), for global models; per-series models
    (the baselines) also per block of series, so that their many small fits spread over the workers.
    Models with ``n_threads=None`` get the client's core count, so that a task computes what the local
    run computes on any worker."""
    import os

    from distributed import as_completed

    from .baselines import _Baseline

    shared = client.scatter(panel, broadcast=True)      # every worker holds it: losing one loses no data
    workers = max(1, len(client.scheduler_info()["workers"]))
    edges = np.unique(np.linspace(0, len(panel), min(len(panel), 4 * workers) + 1).astype(int))
    blocks = client.scatter([panel.subset(np.arange(a, b)) for a, b in zip(edges[:-1], edges[1:])], broadcast=True)
    pinned = {}
    for name, est in named.items():
        if hasattr(est, "get_params") and "n_threads" in est.get_params() and est.get_params()["n_threads"] is None:
            est = _fresh(est).set_params(n_threads=os.cpu_count() or 1)
        pinned[name] = est
    size = every or n_windows                           # the windows of one fit: its own and those it forecasts after
    windows = [list(range(a, min(a + size, n_windows))) for a in range(0, n_windows, size)]
    jobs = []                                           # (name, windows, block or None, data)
    for name, est in pinned.items():
        for ws in windows:
            parts = list(enumerate(blocks)) if isinstance(est, _Baseline) and len(blocks) > 1 else [(None, shared)]
            jobs += [(name, ws, k, data) for k, data in parts]
    futures = {client.submit(_run, data, {name: pinned[name]}, ws, every, plan, pure=False): (name, ws, k)
               for name, ws, k, data in jobs}
    pieces: dict = {}
    for done, future in enumerate(as_completed(futures), 1):
        name, ws, k = futures[future]
        for key, value in future.result().items():
            pieces.setdefault(key, {})[k] = value
        bar.update(done * len(named) * n_windows // len(jobs))
    out = {}
    for key, parts in pieces.items():                   # blocks back together, in series order
        ordered = [parts[k] for k in sorted(parts, key=lambda k: -1 if k is None else k)]
        out[key] = tuple(pd.concat([p[i] for p in ordered], ignore_index=True) for i in range(3))
    return out


def _fresh(estimator):
    """An unfitted copy with the same parameters (sklearn's clone without importing sklearn)."""
    if hasattr(estimator, "get_params"):
        return type(estimator)(**estimator.get_params())
    return copy.deepcopy(estimator)


def _fallbacks(fitted, name: str, window: int) -> pd.DataFrame:
    """The series ``fitted`` forecast by a fallback rule (Forecaster: a DataFrame; baselines: a dict)."""
    found = getattr(fitted, "fallbacks_", None)
    if isinstance(found, pd.DataFrame):
        ids, reasons = found[fitted.id_col].to_numpy(), found.rule.to_numpy()
    elif isinstance(found, dict):
        ids, reasons = np.array(list(found), dtype=object), np.array(list(found.values()), dtype=object)
    else:
        ids = reasons = np.array([], dtype=object)
    return pd.DataFrame({"model": name, "window": window, "unique_id": id_values(ids), "reason": reasons})


class _Window:
    """One backtest window: the series in it, their training parts and test values, and the scoring."""

    def __init__(self, panel: Panel, keep: np.ndarray, offset: int, horizon: int, m: int):
        self.panel, self.keep, self.horizon, self.m = panel, keep, horizon, m
        train = panel.subset(keep, offset)
        self.train = Panel(train.ids, train.last, train.step, "long", train.time_kind, train.name, (None, None),
                           train.data, train.offsets, train.columns)
        # every point after the cutoff, for the future covariates (the models read only those columns)
        self.after = panel.rows_after(keep, offset, offset) if panel.columns else None
        starts = panel.offsets[keep] + panel.lengths[keep] - offset
        rows = starts[:, None] + np.arange(horizon)
        # the actual values; a point the fill made up was not observed: NaN, left out of the scores
        self.actual = panel.data[rows]
        if panel.filled is not None:
            self.actual = np.where(panel.filled[rows], np.nan, self.actual)
        n = len(keep)
        self.ds = series_stamps(self.train, np.tile(np.arange(1, horizon + 1), n), np.repeat(np.arange(n), horizon))
        self.cutoff = self.train.last

    def train_for(self, estimator, id_col, time_col, target_col):
        """The training part as tsrnn's own models take it (the store itself), else a long frame."""
        from .baselines import _Baseline
        from .forecaster import Forecaster

        if isinstance(estimator, (Forecaster, _Baseline)):
            return self.train                           # they copy it before transforming it
        t = self.train
        frame = {id_col: np.repeat(t.ids, t.lengths), target_col: t.data.copy(), time_col: row_stamps(t)}
        columns = [c for part in covariates_of(estimator) for c in part]
        frame.update({c: t.columns[c].decoded() for c in columns})
        return pd.DataFrame(frame)[[id_col, time_col, target_col, *columns]]

    def future_for(self, estimator, id_col, time_col) -> dict:
        """``{"future": ...}`` for ``predict`` when the estimator reads future covariates (tsrnn's own
        models: the rows after the cutoff; others: a long frame of only those columns), else ``{}``."""
        from .baselines import _Baseline
        from .forecaster import Forecaster

        future = covariates_of(estimator)[1]
        if not future:
            return {}
        if isinstance(estimator, (Forecaster, _Baseline)):
            return {"future": self.after}
        a = self.after
        frame = {id_col: np.repeat(a.ids, a.lengths), time_col: row_stamps(a)}
        frame.update({c: a.columns[c].decoded() for c in future})
        return {"future": pd.DataFrame(frame)}

    def forecast_values(self, fc, name: str, column: str = "yhat", id_col: str = "unique_id") -> np.ndarray:
        """(n_series, horizon) forecasts (or interval ends: ``column``) in this window's series order,
        from any output form (a long frame's ids in ``id_col``)."""
        ids, h = self.train.ids, self.horizon
        if column != "yhat" and column not in getattr(fc, "columns", []):
            raise ValueError(f"model {name!r} returned no {column!r} column for the levels asked for")
        if isinstance(fc, pd.Series):
            values = fc.to_numpy(np.float64)[None]
        elif id_col not in fc.columns and column in fc.columns:           # one series, stamps as index
            values = fc[column].to_numpy(np.float64)[None]
        elif column in getattr(fc, "columns", []):
            got = fc[id_col].to_numpy()
            if len(got) == len(ids) * h and (got == np.repeat(ids, h)).all():
                values = fc[column].to_numpy(np.float64).reshape(len(ids), h)
            else:
                groups = dict(tuple(fc.groupby(id_col, sort=False)[column]))
                values = [groups.get(uid, pd.Series(dtype=float)).to_numpy(np.float64) for uid in ids]
                bad = [uid for uid, v in zip(ids, values) if len(v) != h]
                if bad:
                    raise ValueError(f"model {name!r} returned the wrong number of values for series {bad[:10]}, "
                                     f"expected {h} each")
                values = np.stack(values)
        else:                                           # wide frame
            values = np.stack([fc[uid].to_numpy(np.float64) for uid in ids])
        if values.shape != (len(ids), h):
            raise ValueError(f"model {name!r} returned {values.shape[-1]} values per series, expected {h}")
        return values

    def collect(self, fc, name: str, levels: tuple = (), id_col: str = "unique_id"):
        """This window's forecasts in the long result layout and their metrics, one row per series
        (with ``levels``: the intervals, their coverage, MSIS and scaled pinball loss too; ``id_col``:
        the column of ``fc`` that holds the ids)."""
        f = self.forecast_values(fc, name, id_col=id_col)
        y, h = self.actual, self.horizon
        t = self.train
        ids = id_values(t.ids)
        frame = pd.DataFrame({"unique_id": np.repeat(ids, h), "ds": self.ds,
                              "cutoff": _repeat(self.cutoff, h), "y": y.ravel(), "yhat": f.ravel(), "model": name})
        naive2 = naive2_forecasts(t.data, t.offsets, h, self.m)
        scale = metrics.mase_scales(t.data, t.offsets, self.m)
        squared = metrics.rmsse_scales(t.data, t.offsets, self.m)      # 0 where scale is: a flat history
        with np.errstate(all="ignore"):             # a window of made-up values only: NaN, left out
            tol = metrics.ROUNDING * np.nanmean(np.abs(y), axis=1)   # a flat series' exact forecast, rounded

        def scaled(values):
            return metrics.scaled_error(values, scale, tol)
        mae, rmse = metrics.mae_rows(y, f), metrics.rmse_rows(y, f)
        scores = pd.DataFrame({"model": name, "unique_id": ids, "cutoff": self.cutoff, "scale": scale, "mae": mae,
                               "rmse": rmse, "smape": metrics.smape_rows(y, f), "mase": scaled(mae),
                               "rmsse": metrics.scaled_error(rmse, squared, tol), "mape": metrics.mape_rows(y, f),
                               "smape_naive2": metrics.smape_rows(y, naive2),
                               "mase_naive2": scaled(metrics.mae_rows(y, naive2))})
        pinball = []
        for lv in levels:
            lo = self.forecast_values(fc, name, f"yhat_lo_{lv:g}", id_col)
            hi = self.forecast_values(fc, name, f"yhat_hi_{lv:g}", id_col)
            frame[f"yhat_lo_{lv:g}"], frame[f"yhat_hi_{lv:g}"] = lo.ravel(), hi.ravel()
            scores[f"coverage_{lv:g}"] = metrics.coverage_rows(y, lo, hi)
            scores[f"msis_{lv:g}"] = scaled(metrics.interval_score_rows(y, lo, hi, lv))
            tau = (1.0 - lv / 100.0) / 2.0
            pinball += [metrics.pinball_rows(y, lo, tau), metrics.pinball_rows(y, hi, 1.0 - tau)]
        if levels:
            scores["spl"] = scaled(np.mean(pinball, axis=0))
        return frame, scores


def _repeat(stamps, h):
    return stamps.repeat(h) if isinstance(stamps, pd.Index) else np.repeat(stamps, h)


def _aggregate(per: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """The models' means over their series-windows, ranked by ``rank_by`` (ties keep the models' order).
    The scaled errors (MASE, RMSSE, MSIS, SPL; and OWA through MASE) average the series-windows with a
    positive scale only, where any has one: a
    flat training history's are 0 or inf (``metrics.scaled_error``), and one inf made a model's mean
    inf (a panel with never-sold products beside others)."""
    intervals = [c for c in per.columns if c.startswith(("coverage_", "msis_")) or c == "spl"]
    scaled = ["mase", "rmsse", "mase_naive2", *[c for c in intervals if not c.startswith("coverage_")]]
    flat = ~(per["scale"] > 0)
    if flat.any() and not flat.all():
        per = per.copy()
        per.loc[flat, scaled] = np.nan
    agg = per.groupby("model", sort=False).agg(
        series=("unique_id", "nunique"), windows=("window", "nunique"), mae=("mae", "mean"), rmse=("rmse", "mean"),
        mape=("mape", "mean"), smape=("smape", "mean"), mase=("mase", "mean"), rmsse=("rmsse", "mean"),
        smape_naive2=("smape_naive2", "mean"), mase_naive2=("mase_naive2", "mean"),
        **{c: (c, "mean") for c in intervals}).reset_index()
    agg["owa"] = [metrics.owa(r.smape, r.mase, r.smape_naive2, r.mase_naive2) for r in agg.itertuples()]
    agg = agg.drop(columns=["smape_naive2", "mase_naive2"]).sort_values(rank_by, kind="stable").reset_index(drop=True)
    agg.insert(0, "rank", np.arange(1, len(agg) + 1))
    agg = agg[[c for c in agg.columns if c not in intervals] + intervals]     # the interval scores last
    return agg
