"""Plots of forecasts, training curves and backtests (matplotlib: ``pip install 'tsrnn[plot]'``).

Each function returns the matplotlib Figure (save it with ``fig.savefig("f.png")``) and draws on
``ax`` when given one. Choices made so that the pictures read at a glance: only the recent history is
in view (``history_length``, default five horizons), the interval fans go from the widest level
(lightest) to the narrowest, the legend sits outside the data, above the axes, and series beyond
``max_series`` are left out rather than squeezed in.

- ``forecast(history, forecast)``: history, forecast and its interval fan, one panel per series.
- ``training_curves(model)``: train and validation loss per epoch for each ensemble member, the epoch
  whose weights were kept marked.
- ``backtest(result)``: metric bars per model, then actuals against every model's forecasts (with
  intervals when the backtest was asked for levels) for a few series.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["forecast", "training_curves", "backtest"]

_INTERVAL = re.compile(r"^yhat_lo_(.+)$")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'tsrnn[plot]'") from None
    return plt


def _long(frame, value: str, id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y") -> pd.DataFrame:
    """A Series, a wide frame (one column per series) or a long frame as long (unique_id, ds, value, ...):
    a long frame's ``id_col``, ``time_col`` and ``target_col`` (actual values) become the plots' own
    ``unique_id``, ``ds`` and ``y``."""
    if isinstance(frame, pd.Series):
        return pd.DataFrame({"unique_id": frame.name if frame.name is not None else "series", "ds": frame.index,
                             value: frame.to_numpy()})
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas Series or DataFrame, got {type(frame).__name__}")
    if id_col in frame.columns or time_col in frame.columns:
        frame = frame.rename(columns={id_col: "unique_id", time_col: "ds", target_col: "y"})
    if "unique_id" in frame.columns:
        return frame
    if value in frame.columns or "ds" in frame.columns:        # one series, stamps as index or "ds" column
        out = frame.reset_index() if "ds" not in frame.columns else frame.copy()
        out = out.rename(columns={out.columns[0]: "ds"}) if "ds" not in out.columns else out
        out.insert(0, "unique_id", "series")
        return out
    return frame.rename_axis("ds").reset_index().melt(id_vars="ds", var_name="unique_id", value_name=value)


def _levels(columns) -> list[str]:
    """Interval levels in a forecast frame's columns, widest first (drawn first, lightest)."""
    found = [m.group(1) for c in columns if (m := _INTERVAL.match(str(c)))]
    return sorted(found, key=float, reverse=True)


def _legend(ax, max_columns: int = 6) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, ncol=min(len(labels), max_columns), frameon=False,
                  loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2)


def _grid(n: int, ax, height: float = 2.6):
    plt = _pyplot()
    if ax is not None:
        axes = np.atleast_1d(ax).ravel()
        if len(axes) < n:
            raise ValueError(f"{n} series to draw but {len(axes)} axes given")
        return axes[0].figure, axes
    fig, axes = plt.subplots(n, 1, figsize=(10, height * n + 0.4), squeeze=False)
    return fig, axes[:, 0]


def forecast(history, forecast, *, series=None, max_series: int = 4, history_length: int | None = None,
             ax=None, title: str | None = None, id_col: str = "unique_id", time_col: str = "ds",
             target_col: str = "y"):
    """Draw the recent history, the forecast and its interval fan, one panel per series.

    history : the data the forecast continues (a Series, a long ``unique_id, ds, y`` frame or a wide frame).
    forecast : what ``Forecaster.predict`` returned (with ``level=`` its ``yhat_lo_<l>``/``yhat_hi_<l>``
        columns become the fan), or any frame of that layout.
    series : ids to draw (default: the first ``max_series`` of the forecast).
    history_length : points of history in view per series (default: five times the forecast's length,
        at least 24); ``0`` hides it, ``None`` picks the default.
    id_col, time_col, target_col : the long frames' id, time and value columns (as given to the model,
        whose forecasts keep its ``id_col`` and ``time_col``).

    Example
    -------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import plot
    >>> y = pd.Series(np.sin(np.arange(48) / 3), index=pd.date_range("2020-01", periods=48, freq="MS"))
    >>> fc = pd.DataFrame({"yhat": np.zeros(6), "yhat_lo_80": -np.ones(6), "yhat_hi_80": np.ones(6)},
    ...                   index=pd.date_range("2024-01", periods=6, freq="MS"))
    >>> fig = plot.forecast(y, fc)
    >>> len(fig.axes)
    1
    """
    hist = _long(history, "y", id_col, time_col, target_col)
    fc = _long(forecast, "yhat", id_col, time_col, target_col)
    if hist.unique_id.nunique() == 1 and fc.unique_id.nunique() == 1 and not (
            isinstance(forecast, pd.DataFrame) and id_col in forecast.columns):
        fc = fc.assign(unique_id=hist.unique_id.iloc[0])    # one series given without ids: the same one
    if "yhat" not in fc.columns:
        raise ValueError(f"the forecast has no 'yhat' column (columns: {list(fc.columns)})")
    ids = list(dict.fromkeys(fc.unique_id)) if series is None else list(series)
    if not ids:
        raise ValueError("nothing to draw: the forecast is empty")
    ids = ids[:max_series]
    fig, axes = _grid(len(ids), ax)
    levels = _levels(fc.columns)
    value = "y" if "y" in hist.columns else hist.columns[-1]
    for a, uid in zip(axes, ids):
        f = fc[fc.unique_id == uid]
        if not len(f):
            raise ValueError(f"series {uid!r} is not in the forecast")
        h = hist[hist.unique_id == uid]
        n_hist = max(5 * len(f), 24) if history_length is None else history_length
        if n_hist and len(h):
            h = h.iloc[-n_hist:]
            a.plot(h.ds, h[value], color="black", lw=1.2, label="history")
        for k, lv in enumerate(levels):
            if f[f"yhat_lo_{lv}"].isna().all():          # this series has no interval at this level
                continue
            shade = 0.18 + 0.22 * k / max(len(levels) - 1, 1)
            a.fill_between(f.ds, f[f"yhat_lo_{lv}"], f[f"yhat_hi_{lv}"], color="C0", alpha=shade, lw=0,
                           label=f"{lv} % interval")
        a.plot(f.ds, f.yhat, color="C0", lw=1.6, label="forecast")
        if "y" in f.columns:                        # a backtest's actual values
            a.plot(f.ds, f.y, color="black", lw=1.2, ls="--", label="actual")
        a.set_title(str(uid) if title is None else f"{title}: {uid}", fontsize=10, loc="right")
        a.grid(alpha=0.3)
        _legend(a)
    fig.tight_layout()
    return fig


def training_curves(model, *, ax=None, log_scale: bool = True):
    """Train and validation loss per epoch for each ensemble member (member k in colour Ck: train
    dashed, validation solid), the epoch whose weights were kept marked with a dot.

    model : a fitted ``Forecaster`` (reads ``loss_history_`` and ``best_epoch_``), or a list of
        ``{"train": [...], "validation": [...]}`` histories.

    Example
    -------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from tsrnn import plot
    >>> history = [{"train": [1.0, 0.6, 0.5], "validation": [0.9, 0.7, 0.72]}]
    >>> fig = plot.training_curves(history)
    >>> fig.axes[0].get_xlabel()
    'epoch'
    """
    plt = _pyplot()
    histories = getattr(model, "loss_history_", model)
    best = getattr(model, "best_epoch_", None)
    if not isinstance(histories, (list, tuple)) or not histories:
        raise ValueError("training_curves needs a fitted Forecaster or a non-empty list of loss histories")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.2))
    fig = ax.figure
    for k, hist in enumerate(histories):
        train, val = np.asarray(hist.get("train", [])), np.asarray(hist.get("validation", []))
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, color=f"C{k}", ls="--", lw=1.1, label=f"member {k}: train")
        if len(val):
            ax.plot(np.arange(1, len(val) + 1), val, color=f"C{k}", lw=1.6, label=f"member {k}: validation")
        kept = best[k] if best is not None else (int(np.argmin(val)) + 1 if len(val) else None)
        curve = val if len(val) else train
        if kept is not None and 1 <= kept <= len(curve):
            ax.plot([kept], [curve[kept - 1]], "o", color=f"C{k}", ms=6,
                    label="kept epoch" if k == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (normalised units)")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    _legend(ax, max_columns=3)
    fig.tight_layout()
    return fig


def backtest(result, *, history=None, series=None, max_series: int = 3, metrics=None,
             history_length: int | None = None, interval_model: str | None = None):
    """The backtest report: one bar chart per metric (models ranked as in ``result.metrics``; by default
    the ranking's metric, OWA, sMAPE and MASE, and with levels the widest level's coverage, its nominal
    value marked, and MSIS), then, for a few series, the actual values against every model's forecasts at
    every cutoff, with the widest interval of ``interval_model`` (default: the best-ranked model) shaded.

    result : a ``BacktestResult``; history : the backtested data (long frame, with the result's
    ``id_col``, ``time_col`` and ``target_col``), to show the history before the windows; series : ids
    to draw (default the first ``max_series``).

    Example
    -------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, tsrnn
    >>> y = 10 + np.sin(np.arange(60) / 2)
    >>> result = tsrnn.backtest(["naive", "naive2"], y, horizon=6, n_windows=2, progress=False)
    >>> fig = tsrnn.plot.backtest(result)
    >>> len(fig.axes)
    4
    """
    plt = _pyplot()
    table = result.metrics
    names = result.id_col, result.time_col, result.target_col
    fc = _long(result.forecasts, "yhat", *names)
    levels = _levels(fc.columns)
    if metrics is None:
        metrics = list(dict.fromkeys([result.rank_by, "owa", "smape", "mase"] +
                                     ([f"coverage_{levels[0]}", f"msis_{levels[0]}"] if levels else [])))
    shown = [m for m in metrics if m in table.columns]
    ids = list(dict.fromkeys(fc.unique_id)) if series is None else list(series)
    ids = ids[:max_series]
    models = list(table.model)
    colours = {m: f"C{k}" for k, m in enumerate(models)}
    fig = plt.figure(figsize=(11, 3.0 + 2.7 * len(ids)))
    grid = fig.add_gridspec(1 + len(ids), max(len(shown), 1), height_ratios=[1.1] + [1.0] * len(ids))
    for k, metric in enumerate(shown):
        a = fig.add_subplot(grid[0, k])
        vals = table[metric].to_numpy(dtype=float)
        finite = vals[np.isfinite(vals)]
        right = finite.max() * 1.25 if len(finite) and finite.max() > 0 else 1.0
        a.barh(np.arange(len(models)), np.where(np.isinf(vals), right, vals), color=[colours[m] for m in models])
        a.set_yticks(np.arange(len(models)), models if k == 0 else [""] * len(models), fontsize=8)
        a.invert_yaxis()
        a.set_title(metric.upper().replace("_", " ") + (" %" if metric.startswith("coverage") else ""), fontsize=10)
        a.tick_params(axis="x", labelsize=8)
        for i, v in enumerate(vals):
            if np.isfinite(v):
                a.text(v, i, f" {v:.3f}", va="center", fontsize=7)
            elif np.isinf(v):                       # a bar to the edge, labelled (an axis cannot end at inf)
                a.text(right, i, "inf ", va="center", ha="right", fontsize=7, color="white")
        a.set_xlim(0, right)
        if metric == "owa":
            a.axvline(1.0, color="0.4", lw=0.8, ls=":")
        if metric.startswith("coverage_"):
            a.axvline(float(metric.split("_", 1)[1]) / 100, color="0.4", lw=0.8, ls=":")
            a.set_xlim(0, 1.15)
    hist = None if history is None else _long(history, "y", *names)
    shaded = interval_model if interval_model is not None else (models[0] if models else None)
    for row, uid in enumerate(ids, start=1):
        a = fig.add_subplot(grid[row, :])
        part = fc[fc.unique_id == uid]
        if hist is not None:
            h = hist[hist.unique_id == uid]
            first = part.ds.min()
            before = h[h.ds < first]
            n_hist = max(3 * result.horizon, 24) if history_length is None else history_length
            if n_hist and len(before):
                before = before.iloc[-n_hist:]
                a.plot(before.ds, before.y, color="0.45", lw=1.0, label="history")
        actual = part.drop_duplicates("ds").sort_values("ds")
        a.plot(actual.ds, actual.y, color="black", lw=1.4, label="actual")
        for model, g in part.groupby("model", sort=False):
            for j, (_, w) in enumerate(g.groupby("cutoff", sort=True)):
                if levels and model == shaded and w[f"yhat_lo_{levels[0]}"].notna().any():
                    a.fill_between(w.ds, w[f"yhat_lo_{levels[0]}"], w[f"yhat_hi_{levels[0]}"],
                                   color=colours.get(model, "C9"), alpha=0.15, lw=0,
                                   label=f"{model}: {levels[0]} % interval" if j == 0 else None)
                a.plot(w.ds, w.yhat, color=colours.get(model, "C9"), lw=1.2, label=model if j == 0 else None)
        for c in part.cutoff.unique():
            a.axvline(c, color="0.7", lw=0.6, ls=":")
        a.set_title(str(uid), fontsize=10, loc="right")
        a.grid(alpha=0.3)
        _legend(a)
    fig.tight_layout()
    return fig
