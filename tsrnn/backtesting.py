"""Rolling-origin backtesting of several models on identical windows, scored with the M4 metrics.

For every series of length n, window w = 0..n_windows-1 has the cutoff

    cutoff_w = n - horizon - step * (n_windows - 1 - w)          (step defaults to horizon)

the model is fitted on the points before the cutoff (``refit=True``: a fresh copy per window;
``refit=False``: fitted once on the first window, then asked to forecast the later windows from their
longer history without retraining) and forecasts the next ``horizon`` points, which are compared with
the actual values. Nothing at or after a cutoff is ever seen by the model for that window.

Metrics per series and window: MAE, RMSE, sMAPE, MASE (scale from the training part, period
``season_length``) and MAPE where defined; per model: the means over all series and windows, and OWA
against M4's Naive2 forecast of the same windows (computed internally when "naive2" is not one of the
models).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import metrics
from ._progress import Progress
from .baselines import BASELINES, naive2_forecast
from ._validation import check_positive_int
from .data import to_panel

__all__ = ["backtest", "BacktestResult", "make_model", "MODEL_NAMES"]

NEURAL = ("lstm", "gru", "rnn")
MODEL_NAMES = NEURAL + tuple(BASELINES)


def make_model(name: str, horizon: int, season_length: int = 1, progress: bool = False, **kwargs):
    """A model from its name: lstm, gru, rnn (Forecaster) or naive, snaive, naive2, ses, arima, ets, theta."""
    key = str(name).lower()
    if key in NEURAL:
        from .forecaster import Forecaster

        return Forecaster(cell=key, horizon=horizon, season_length=season_length, progress=progress, **kwargs)
    if key in BASELINES:
        return BASELINES[key](season_length=season_length)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")


@dataclass
class BacktestResult:
    """``forecasts``: long frame (unique_id, ds, cutoff, y, yhat, model); ``metrics``: one row per
    model with the aggregated scores, ranked by OWA; ``series_metrics``: per model, series and cutoff."""
    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    series_metrics: pd.DataFrame
    horizon: int
    season_length: int

    def plot(self, series=None, max_series: int = 4, history: pd.DataFrame | None = None):
        """Actual values and every model's forecasts per cutoff, one panel per series (matplotlib, the
        ``plot`` extra). Returns the figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plotting needs matplotlib: pip install 'tsrnn[plot]'") from None
        ids = list(self.forecasts.unique_id.unique()) if series is None else list(series)
        ids = ids[:max_series]
        fig, axes = plt.subplots(len(ids), 1, figsize=(10, 2.8 * len(ids)), squeeze=False)
        for ax, uid in zip(axes[:, 0], ids):
            part = self.forecasts[self.forecasts.unique_id == uid]
            if history is not None:
                hist = history[history.unique_id == uid]
                ax.plot(hist.ds, hist.y, color="0.6", lw=1, label="history")
            actual = part.drop_duplicates("ds").sort_values("ds")
            ax.plot(actual.ds, actual.y, color="black", lw=1.5, label="actual")
            for k, (model, g) in enumerate(part.groupby("model", sort=False)):
                for j, (_, w) in enumerate(g.groupby("cutoff")):
                    ax.plot(w.ds, w.yhat, color=f"C{k}", lw=1.2, label=model if j == 0 else None)
            ax.set_title(str(uid))
            ax.legend(fontsize=7, ncol=4)
        fig.tight_layout()
        return fig


def _resolve_models(model, horizon, season_length, **neural_kwargs) -> dict:
    items = model if isinstance(model, (list, tuple)) else [model]
    if isinstance(model, dict):
        items = list(model.items())
    out = {}
    for item in items:
        name, m = item if isinstance(item, tuple) else (None, item)
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
             refit: bool = True, season_length: int | None = None, *, models=None, id_col: str = "unique_id",
             time_col: str = "ds", target_col: str = "y", freq=None, progress: bool = True,
             **neural_kwargs) -> BacktestResult:
    """Rolling-origin evaluation of one or several models on identical windows.

    model : a model name ("lstm", "arima", ...), an object with fit/predict, or a list/dict of them
        (``models=`` is an alias). Named neural models get ``neural_kwargs`` (e.g. ``random_state``).
    data : Series, 1-D array, long or wide DataFrame (as for ``Forecaster.fit``).
    horizon : steps per forecast; n_windows : number of cutoffs; step : distance between cutoffs.
    refit : refit every window (default) or fit once and forecast later windows from longer histories.
    season_length : period m, for MASE, Naive2 and the named models (default 1).

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

    panel = to_panel(data, id_col, time_col, target_col, freq)
    span = horizon + step * (n_windows - 1)
    needed = span + max(2, m + 1)
    short = [uid for uid, v in zip(panel.ids, panel.values) if len(v) < needed]
    if short:
        raise ValueError(f"{len(short)} series have fewer than {needed} points, the least for {n_windows} "
                         f"window(s) of horizon {horizon} (step {step}) plus a training part: "
                         f"{short[:10]}{' ...' if len(short) > 10 else ''}")
    named = _resolve_models(model, horizon, m, **neural_kwargs)
    times = [_time_axis(panel, i) for i in range(len(panel))]
    rows, scores, bar = [], [], Progress(len(named) * n_windows, progress, desc="backtest")
    done = 0
    try:
        for name, estimator in named.items():
            fitted = None
            for w in range(n_windows):
                offset = span - step * w                # points after the cutoff, counting the test window
                train = _long(panel, times, lambda v: v[: len(v) - offset], id_col, time_col, target_col)
                if refit or fitted is None:
                    fitted = _fresh(estimator).fit(train)
                    fc = fitted.predict(horizon)
                else:
                    fc = fitted.predict(horizon, y=train)
                frame, window_scores = _collect(fc, panel, times, offset, horizon, name, m)
                rows.append(frame)
                scores.extend({**row, "window": w + 1} for row in window_scores)
                done += 1
                bar.update(done, model=name, window=w + 1)
    finally:
        bar.close()
    forecasts = pd.concat(rows, ignore_index=True)
    series_metrics = pd.DataFrame(scores)
    return BacktestResult(forecasts, _aggregate(series_metrics), series_metrics, horizon, m)


def _fresh(estimator):
    """An unfitted copy with the same parameters (sklearn's clone without importing sklearn)."""
    if hasattr(estimator, "get_params"):
        return type(estimator)(**estimator.get_params())
    return copy.deepcopy(estimator)


def _time_axis(panel, i):
    """Time stamps of series i (its axis was checked to be regular when the panel was built)."""
    n, last, st = len(panel.values[i]), panel.last[i], panel.step
    if panel.time_kind == "datetime":
        return pd.date_range(end=last, periods=n, freq=st)
    if panel.time_kind == "period":
        return pd.period_range(end=last, periods=n, freq=last.freq)
    return last - st * np.arange(n - 1, -1, -1)


def _long(panel, times, cut, id_col, time_col, target_col) -> pd.DataFrame:
    parts = []
    for uid, values, t in zip(panel.ids, panel.values, times):
        v = cut(values)
        parts.append(pd.DataFrame({id_col: uid, time_col: t[: len(v)], target_col: v}))
    return pd.concat(parts, ignore_index=True)


def _collect(fc, panel, times, offset, horizon, name, m):
    """One window's forecasts in the long result layout (aligned with the actual values by position)
    and their metrics, one row per series."""
    if isinstance(fc, pd.Series):
        values = [fc.to_numpy(np.float64)]
    elif "yhat" in getattr(fc, "columns", []):
        groups = dict(tuple(fc.groupby("unique_id", sort=False)["yhat"]))
        values = [groups[uid].to_numpy(np.float64) for uid in panel.ids]
    else:                                           # wide frame
        values = [fc[uid].to_numpy(np.float64) for uid in panel.ids]
    parts, scores = [], []
    for uid, v, t, f in zip(panel.ids, panel.values, times, values):
        cut = len(v) - offset
        if len(f) != horizon:
            raise ValueError(f"model {name!r} returned {len(f)} values for series {uid!r}, expected {horizon}")
        train, y = v[:cut], v[cut: cut + horizon]
        parts.append(pd.DataFrame({"unique_id": uid, "ds": t[cut: cut + horizon], "cutoff": t[cut - 1],
                                   "y": y, "yhat": f, "model": name}))
        naive2 = naive2_forecast(train, horizon, m)
        scores.append({"model": name, "unique_id": uid, "cutoff": t[cut - 1], "mae": metrics.mae(y, f),
                       "rmse": metrics.rmse(y, f), "smape": metrics.smape(y, f), "mase": _mase(y, f, train, m),
                       "mape": metrics.mape(y, f) if np.all(y != 0) else np.nan,
                       "smape_naive2": metrics.smape(y, naive2), "mase_naive2": _mase(y, naive2, train, m)})
    return pd.concat(parts, ignore_index=True), scores


def _mase(y, f, train, m):
    """MASE with period m, or 1 when the training part is too short for a seasonal scale."""
    return metrics.mase(y, f, train, m if len(train) > m else 1)


def _aggregate(per: pd.DataFrame) -> pd.DataFrame:
    agg = per.groupby("model", sort=False).agg(
        series=("unique_id", "nunique"), windows=("window", "nunique"), mae=("mae", "mean"), rmse=("rmse", "mean"),
        mape=("mape", "mean"), smape=("smape", "mean"), mase=("mase", "mean"),
        smape_naive2=("smape_naive2", "mean"), mase_naive2=("mase_naive2", "mean")).reset_index()
    agg["owa"] = [metrics.owa(r.smape, r.mase, r.smape_naive2, r.mase_naive2) for r in agg.itertuples()]
    agg = agg.drop(columns=["smape_naive2", "mase_naive2"]).sort_values("owa", kind="stable").reset_index(drop=True)
    agg.insert(0, "rank", np.arange(1, len(agg) + 1))
    return agg
