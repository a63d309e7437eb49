"""tsrnn in sktime: ``TsrnnForecaster``, an sktime forecaster wrapping ``tsrnn.Forecaster``
(``pip install 'tsrnn[sktime]'``).

What sktime's interface maps to:

- ``fh`` (relative or absolute, out of sample): the network's ``horizon`` is the farthest step of the
  ``fh`` given to ``fit`` (without one, ``season_length``); ``predict`` forecasts up to the farthest
  step it is asked for (beyond the horizon recursively, as ``Forecaster.predict`` does) and picks
  the asked steps. Any index type sktime has (integer, range, period, datetime) comes back as given,
  because the wrapped model sees the series on a step count only (``calendar=True`` needs a datetime
  or period index and passes its time stamps).
- Several columns of ``y`` are several series of one global model (sktime's multivariate ``y``).
- ``fill`` (``"ffill"``, ``"interpolate"``, ``"zero"``): NaN in ``y`` are filled as the Forecaster
  fills them, and the estimator then declares ``capability:missing_values``; without it a NaN is an
  error naming the column.
- ``X`` (exogenous data): its columns are future covariates of every series (``Forecaster``'s
  ``future_covariates``): ``fit`` takes them with ``y``, ``predict`` needs their values at the steps
  after the cutoff that the network reads (1..max(fh), rounded up to whole horizons with the
  direct head). Numeric, boolean and categorical columns.
- ``predict_interval`` / ``predict_quantiles``: the Forecaster's split-conformal intervals; the
  quantile ``a`` is the lower end of the central ``100 * (1 - 2a)`` % interval for ``a < 0.5``, the
  upper end of the ``100 * (2a - 1)`` % one for ``a > 0.5`` and the point forecast at 0.5.

Tests sktime's own conformance suite runs (``check_estimator``), and which it skips, are listed in
``docs/sktime.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

from .forecaster import Forecaster

__all__ = ["TsrnnForecaster"]


class TsrnnForecaster(BaseForecaster):
    """tsrnn's recurrent-network ``Forecaster`` as an sktime forecaster.

    Parameters are ``tsrnn.Forecaster``'s (see its docstring); ``horizon`` comes from ``fh`` and
    ``future_covariates`` from the columns of ``X``. ``progress`` is off by default here.

    Example
    -------
    >>> from sktime.datasets import load_airline
    >>> from tsrnn.sktime import TsrnnForecaster
    >>> y = load_airline()
    >>> model = TsrnnForecaster(hidden_size=8, season_length=12, max_epochs=3, random_state=0)
    >>> y_pred = model.fit(y, fh=[1, 2, 3]).predict()
    >>> y_pred.index.astype(str).tolist()
    ['1961-01', '1961-02', '1961-03']
    >>> model.predict_interval(coverage=0.9).shape
    (3, 2)
    """

    _tags = {
        "authors": ["tsrnn developers"],
        "maintainers": ["tsrnn developers"],
        "python_dependencies": ["tsrnn"],
        "y_inner_mtype": "pd.DataFrame",
        "X_inner_mtype": "pd.DataFrame",
        "capability:multivariate": True,       # columns of y: series of one global model
        "capability:exogenous": True,
        "capability:categorical_in_X": True,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:missing_values": False,
        "capability:non_contiguous_X": False,   # X must cover every step up to max(fh)
        "capability:random_state": True,
        "capability:update": True,             # new data: refit, or forecast from it without training
        "property:randomness": "derandomized",
        "requires-fh-in-fit": False,            # fh in fit sets the horizon; later ones may differ
        "X-y-must-have-same-index": True,
        "fit_is_empty": False,
    }

    # the model keeps the history it forecasts from itself (y_, X_), so sktime's copy is not needed
    _config = {"remember_data": False}

    def __init__(self, cell: str = "lstm", hidden_size: int = 32, num_layers: int = 1, head: str = "direct",
                 ensemble_size: int = 2, window: int | None = None, season_length: int = 1,
                 scaler: str | None = "auto", deseasonalize: bool = True, blend: str | None = "auto",
                 loss: str = "mae", nonnegative: bool = False, fill: str | None = None,
                 max_epochs: int = 100, samples_per_epoch: int = 4096, batch_size: int = 128,
                 learning_rate: float = 3e-3, early_stopping: int | None = 10, retrain: bool | str = False,
                 history_limit: float | str | None = "auto", calendar: bool | list = False,
                 random_state: int | None = None, device: str = "cpu", n_threads: int | None = None,
                 progress: bool = False):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.head = head
        self.ensemble_size = ensemble_size
        self.window = window
        self.season_length = season_length
        self.scaler = scaler
        self.deseasonalize = deseasonalize
        self.blend = blend
        self.loss = loss
        self.nonnegative = nonnegative
        self.fill = fill
        self.max_epochs = max_epochs
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.retrain = retrain
        self.history_limit = history_limit
        self.calendar = calendar
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress
        super().__init__()
        if fill is not None:                      # the wrapped model fills NaN in y: sktime may pass them
            self.set_tags(**{"capability:missing_values": True})
        self._y = self._X = None      # sktime's data pool, kept only when remember_data is set to True

    # ----------------------------------------------------------------------------------------------
    def _stamps(self, index: pd.Index):
        """What the wrapped model sees as ``ds``: time stamps with ``calendar``, else positions."""
        if not self.calendar:
            return None
        if isinstance(index, pd.PeriodIndex):
            return index.to_timestamp()
        if isinstance(index, pd.DatetimeIndex):
            return index
        raise ValueError(f"calendar features need a datetime or period index; y has a {type(index).__name__}")

    def _long(self, k: int, index: pd.Index, start: int, values: np.ndarray | None, X: pd.DataFrame | None):
        """k series (0..k-1) over ``index`` (steps ``start``.. when there is no calendar) with their
        ``values`` (n, k) and X's columns, as the long frame ``tsrnn.Forecaster`` reads."""
        n = len(index)
        stamps = self._stamps(index)
        ds = np.arange(start, start + n) if stamps is None else stamps.to_numpy()
        frame = {"unique_id": np.repeat(np.arange(k), n), "ds": np.tile(ds, k)}
        if values is not None:
            frame["y"] = np.asarray(values, dtype=np.float64).T.ravel()
        for c in ([] if X is None else X.columns):
            frame[f"x_{c}"] = np.tile(X[c].to_numpy(), k)
        return pd.DataFrame(frame)

    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None, fh: ForecastingHorizon | None = None):
        non_numeric = [c for c in y.columns if not pd.api.types.is_numeric_dtype(y[c])]
        if non_numeric:
            raise TypeError(f"y must be numeric; columns {non_numeric} are not")
        horizon = None if fh is None else int(fh.to_relative(self.cutoff).to_numpy().max())
        covariates = None if X is None or not X.shape[1] else [f"x_{c}" for c in X.columns]
        freq = None
        if self.calendar:
            stamps = self._stamps(y.index)
            freq = stamps.freq or pd.infer_freq(stamps)
        # every parameter of this adapter is a Forecaster parameter of the same name
        self.forecaster_ = Forecaster(**{name: getattr(self, name) for name in self.get_param_names()},
                                      horizon=horizon, future_covariates=covariates, freq=freq)
        self.forecaster_.fit(self._long(y.shape[1], y.index, 0, y.to_numpy(), X if covariates else None))
        self.columns_ = y.columns
        self.y_, self.X_ = y, (X if covariates else None)
        self.n_fitted_ = len(y)
        self.horizon_ = self.forecaster_.horizon_
        return self

    def _update(self, y: pd.DataFrame, X: pd.DataFrame | None = None, update_params: bool = True):
        """Append new observations (and X rows). ``update_params=True``: train again on the whole
        history; ``False``: keep the networks and forecast from the longer history, no training."""
        y_all = y.combine_first(self.y_)[list(self.columns_)]
        X_all = None if self.X_ is None else (self.X_ if X is None else X.combine_first(self.X_))
        if update_params:
            return self._fit(y_all, X_all, self._fh)
        self.y_, self.X_ = y_all, X_all
        return self

    def _future(self, X: pd.DataFrame | None, h: int, freq) -> pd.DataFrame | None:
        """X's rows at the steps after the cutoff that an ``h``-step forecast reads, as the wrapped
        model's future frame (the direct head reads whole horizons, the seq2seq decoder ``h`` steps)."""
        names = self.forecaster_.future_covariates
        if not names:
            return None
        rows = h if self.head == "seq2seq" else -(-h // self.horizon_) * self.horizon_
        index = ForecastingHorizon(np.arange(1, rows + 1), is_relative=True, freq=freq).to_absolute_index(self.cutoff)
        if X is None:
            raise ValueError(f"this model was fitted with exogenous X (columns {[c[2:] for c in names]}): "
                             f"predict needs X at the {rows} steps after the cutoff")
        found = X.reindex(index)
        missing = index[found.isna().all(axis=1).to_numpy()]
        if len(missing):
            raise ValueError(f"X has no rows for {len(missing)} of the {rows} steps after the cutoff that the "
                             f"forecast reads (first: {missing[0]})")
        return self._long(len(self.columns_), index, len(self.y_), None, found)

    def _forecast(self, fh: ForecastingHorizon, X, levels, quantiles=()) -> tuple[pd.Index, dict]:
        """(absolute index of fh, {column of the wrapped model's output: (len(fh), k) values})."""
        steps = fh.to_relative(self.cutoff).to_numpy().astype(np.int64)
        if (steps < 1).any():
            raise NotImplementedError(f"{type(self).__name__} can not perform in-sample prediction (fh {list(steps)})")
        h = int(steps.max())
        history = None if len(self.y_) == self.n_fitted_ else \
            self._long(len(self.columns_), self.y_.index, 0, self.y_.to_numpy(), self.X_)
        out = self.forecaster_.predict(h, y=history, level=levels or None, future=self._future(X, h, fh.freq),
                                       quantiles=list(quantiles) or None)
        if isinstance(out, pd.Series):
            out = out.to_frame("yhat")
        k = len(self.columns_)
        values = {c: out[c].to_numpy(np.float64).reshape(k, h)[:, steps - 1].T
                  for c in out.columns if c.startswith("yhat")}
        return fh.to_absolute_index(self.cutoff), values

    def _predict(self, fh: ForecastingHorizon, X: pd.DataFrame | None = None) -> pd.DataFrame:
        index, values = self._forecast(fh, X, [])
        return pd.DataFrame(values["yhat"], index=index, columns=self.columns_)

    def _predict_quantiles(self, fh: ForecastingHorizon, X: pd.DataFrame | None, alpha: list[float]) -> pd.DataFrame:
        index, values = self._forecast(fh, X, [], alpha)
        columns = pd.MultiIndex.from_product([self.columns_, alpha])
        out = pd.DataFrame(index=index, columns=columns, dtype=float)
        for j, name in enumerate(self.columns_):
            for a in alpha:
                out[(name, a)] = values[f"yhat_q{a:g}"][:, j]
        return out

    def _predict_interval(self, fh: ForecastingHorizon, X: pd.DataFrame | None, coverage: list[float]):
        index, values = self._forecast(fh, X, sorted({100 * c for c in coverage}))
        columns = pd.MultiIndex.from_product([self.columns_, coverage, ["lower", "upper"]])
        out = pd.DataFrame(index=index, columns=columns, dtype=float)
        for j, name in enumerate(self.columns_):
            for c in coverage:
                out[(name, c, "lower")] = values[f"yhat_lo_{100 * c:g}"][:, j]
                out[(name, c, "upper")] = values[f"yhat_hi_{100 * c:g}"][:, j]
        return out

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Tiny settings for sktime's conformance suite (two networks, a few epochs each)."""
        tiny = {"hidden_size": 4, "ensemble_size": 1, "max_epochs": 2, "samples_per_epoch": 64, "batch_size": 32,
                "random_state": 0, "n_threads": 1}
        return [tiny, {**tiny, "cell": "gru", "head": "seq2seq", "scaler": "standard", "fill": "interpolate"}]
