"""Classical baselines with the Forecaster's API: ``Model(...).fit(y).predict(h)``, the same input and
output forms (Series, array, long or wide DataFrame), fitted per series.

* ``Naive``, ``SeasonalNaive``, ``Naive2`` (M4's benchmark: naive on classically deseasonalised data when
  M4's seasonality test passes), ``SES`` (M4's: on the same deseasonalised data) — NumPy/statsmodels;
* ``ARIMA(order, seasonal_order)``, ``AutoARIMA`` (stepwise order search by AICc, Hyndman-Khandakar
  style), ``ETS`` (automatic choice of error/trend/seasonal form by AICc), ``Theta`` — statsmodels;
* ``ARIMAX``: AutoARIMA with exogenous regressors (regression with ARIMA errors), the future covariates
  and calendar features the Forecaster takes, encoded the same way (``tsrnn/covariates.py``).

Prediction intervals (``predict(h, level=[80, 95])``): every model gives them, the statsmodels ones
from their own state-space forecast distributions (ARIMA, AutoARIMA, ARIMAX: ``get_forecast``; ETS:
``get_prediction``, simulated for multiplicative forms; Theta: ``prediction_intervals``), the simple
ones from the normal law of their in-sample one-step errors (Naive: sigma sqrt(k); SeasonalNaive: sigma
sqrt(floor((k - 1) / m) + 1); Naive2 the same on the deseasonalised series; SES: sigma sqrt(1 + (k - 1)
alpha^2)), reseasonalised where the point forecast is.

A series whose model fails (statsmodels raises, or returns non-finite values) is forecast by the
recorded fallback (Naive2, with its intervals) instead; ``fallbacks_`` maps each such series to the reason, and a single
``UserWarning`` says how many there were. The run never crashes because of one series, and never
hides a failure.

``nonnegative=True`` (every model, as the Forecaster's): the data cannot be negative, so forecasts and
interval ends below 0 are set to 0, and a value below 0 in the data is an error naming its series.
"""
from __future__ import annotations

import itertools
import numbers
import warnings
from statistics import NormalDist

import numpy as np

from ._base import BaseEstimator
from ._validation import check_output_names, check_positive_int
from .data import CONSTANT_RULE, FILLS, check_nonnegative, to_output, to_panel
from .intervals import check_levels
from .preprocessing import multiplicative_figures, naive2_forecasts, seasonality_test

__all__ = ["Naive", "SeasonalNaive", "Naive2", "SES", "ARIMA", "AutoARIMA", "ARIMAX", "ETS", "Theta", "BASELINES"]


# ------------------------------------------------------------------------------------------------------
# shared machinery
class _Baseline(BaseEstimator):
    """Per-series local model. Subclasses implement ``_forecast(y, h, *exog, levels=()) -> (1 + 2L, h)``:
    the point forecast, then the lower and upper ends of the interval at each of the L levels."""

    def __init__(self, season_length: int = 1, freq: str | None = None, fill: str | None = None,
                 id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y", nonnegative: bool = False):
        self.season_length = season_length
        self.freq = freq
        self.fill = fill
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.nonnegative = nonnegative

    def _check(self) -> None:
        check_positive_int("season_length", self.season_length)
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {self.fill!r}")
        if not isinstance(self.nonnegative, (bool, np.bool_)):
            raise ValueError(f"nonnegative must be True or False, got {self.nonnegative!r}")
        check_output_names(self.id_col, self.time_col)

    def _read(self, y, known_freq=None):
        """The series of ``y`` with the model's covariate columns; with ``nonnegative`` none may be below 0;
        ``known_freq``: the frequency of series too short to show it (``data.to_panel``)."""
        panel = to_panel(y, self.id_col, self.time_col, self.target_col, self.freq, self.fill, self._columns(),
                         known_freq=known_freq)
        if self.nonnegative:
            check_nonnegative(panel)
        return panel

    def fit(self, y):
        """Store the series (local models are fitted per series when forecasting)."""
        self._check()
        self.panel_ = self._read(y)
        return self

    def _columns(self) -> tuple:
        """Covariate columns the model reads (none: univariate models)."""
        return ()

    def predict(self, h: int, y=None, level=None, future=None):
        """Forecast h steps after every series (``y``: forecast these series instead of the fitted ones;
        ``level``: coverage levels in (0, 100), adding ``yhat_lo_<l>``/``yhat_hi_<l>``; ``future``: the
        future covariates' values, for the models that read them)."""
        self._check_is_fitted("panel_")
        h = check_positive_int("h", h)
        levels = check_levels(level)
        if future is not None and not self._columns():
            raise ValueError(f"{type(self).__name__} reads no future covariates (future= was given)")
        panel = self.panel_ if y is None else self._read(y, self.panel_.freq)
        self.fallbacks_ = {}
        from threadpoolctl import threadpool_limits

        # statsmodels works on tiny matrices: a multi-threaded BLAS only adds hand-over (and, with several
        # processes, threads spinning against each other)
        with threadpool_limits(limits=1, user_api="blas"):
            rows = self._forecast_panel(panel, h, future, tuple(levels))
        if self.fallbacks_:
            first = next(iter(self.fallbacks_.items()))
            warnings.warn(f"{type(self).__name__}: {len(self.fallbacks_)} of {len(panel)} series fell back to "
                          f"Naive2 (first: {first[0]!r}: {first[1]}); see .fallbacks_", UserWarning, stacklevel=2)
        if self.nonnegative:                             # the data cannot be negative: nor can a forecast
            rows = np.maximum(rows, 0.0)
        extra = {}
        for k, lv in enumerate(levels):
            extra[f"yhat_lo_{lv:g}"] = np.minimum(rows[:, 1 + 2 * k], rows[:, 0])
            extra[f"yhat_hi_{lv:g}"] = np.maximum(rows[:, 2 + 2 * k], rows[:, 0])
        return to_output(panel, rows[:, 0], extra, id_col=self.id_col, time_col=self.time_col)

    def _forecast_panel(self, panel, h: int, future=None, levels: tuple = ()) -> np.ndarray:
        """(n_series, 1 + 2L, h): one model per series (models without per-series fitting override it)."""
        return np.stack([self._safe_forecast(uid, values, h, levels=levels)
                         for uid, values in zip(panel.ids, panel.values)])

    def _safe_forecast(self, uid, values: np.ndarray, h: int, *exog, levels: tuple = ()) -> np.ndarray:
        # statsmodels adds "always" filters for its warnings when first imported; import it before
        # silencing, or those filters would land in front of ours
        import statsmodels.tools.sm_exceptions  # noqa: F401

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")      # statsmodels' convergence chatter
                out = np.asarray(self._forecast(values, h, *exog, levels=levels), dtype=np.float64)
            if out.shape != (1 + 2 * len(levels), h) or not np.isfinite(out).all():
                raise ValueError("non-finite or misshaped forecast")
            return out
        except Exception as exc:  # noqa: BLE001 - any model failure is recorded, never fatal
            # a flat history fails most forms (ETS: none fits); say so, in the Forecaster's words
            flat = len(values) > 1 and np.ptp(values) == 0
            self.fallbacks_[uid] = CONSTANT_RULE if flat else f"{type(exc).__name__}: {exc}"
            return _naive2_rows(values, h, self.season_length, levels)


def seasonal_indices_multiplicative(y: np.ndarray, m: int) -> np.ndarray | None:
    """Classical multiplicative decomposition (R's ``decompose``) seasonal figure (m,), normalised to mean
    1, indexed by position t mod m from the first observation; None when M4's seasonality test fails
    (or the series is not strictly positive). One series of ``preprocessing.multiplicative_figures``."""
    if m <= 1:
        return None
    figure, seasonal = np.ones((1, m)), np.zeros(1, np.bool_)
    multiplicative_figures(np.asarray(y, dtype=np.float64), np.array([0, len(y)], np.int64), m, figure, seasonal)
    return figure[0] if seasonal[0] else None


def _deseasonalise(y: np.ndarray, h: int, m: int):
    """(deseasonalised y, seasonal factors for the next h steps)."""
    figure = seasonal_indices_multiplicative(y, m)
    if figure is None:
        return y, np.ones(h)
    n = len(y)
    return y / figure[np.arange(n) % m], figure[(n + np.arange(h)) % m]


def naive2_forecast(y: np.ndarray, h: int, m: int) -> np.ndarray:
    """M4's Naive2 of one series: the last deseasonalised value, reseasonalised."""
    return naive2_forecasts(np.asarray(y, dtype=np.float64), np.array([0, len(y)], np.int64), h, m)[0]


def _rms(e: np.ndarray) -> float:
    """Root mean square of in-sample errors (0 for none: a one-point series gets a zero-width interval)."""
    e = np.asarray(e, dtype=np.float64)
    return float(np.sqrt(np.mean(e ** 2))) if len(e) else 0.0


def _normal_rows(point: np.ndarray, spread: np.ndarray, levels: tuple, factor=None) -> np.ndarray:
    """(1 + 2L, h): the point forecast, then the ends of the normal interval with standard deviation
    ``spread`` (h,) at each level; ``factor`` (h,) reseasonalises every row."""
    rows = [point] + [point + side * NormalDist().inv_cdf(0.5 + lv / 200.0) * spread
                      for lv in levels for side in (-1.0, 1.0)]
    out = np.vstack(rows)
    return out if factor is None else out * factor


def _naive2_rows(y: np.ndarray, h: int, m: int, levels: tuple) -> np.ndarray:
    """Naive2's forecast and intervals: naive on the deseasonalised series, sigma sqrt(k), reseasonalised."""
    point = naive2_forecast(y, h, m)
    if not levels:
        return point[None]
    des, future = _deseasonalise(y, h, m)
    spread = _rms(np.diff(des)) * np.sqrt(np.arange(1, h + 1))
    return _normal_rows(point / future, spread, levels, future)


def _statsmodels_rows(point: np.ndarray, bounds, levels: tuple) -> np.ndarray:
    """(1 + 2L, h) from a point forecast and ``bounds(alpha) -> (lower, upper)`` of a statsmodels result."""
    rows = [np.asarray(point, dtype=np.float64)]
    for lv in levels:
        lower, upper = bounds(1.0 - lv / 100.0)
        rows += [np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)]
    return np.vstack(rows)


# ------------------------------------------------------------------------------------------------------
# simple benchmarks
class Naive(_Baseline):
    """Last value repeated.

    >>> import numpy as np
    >>> Naive().fit(np.array([1.0, 2.0, 3.0])).predict(2).tolist()
    [3.0, 3.0]
    """

    def _forecast(self, y, h, levels=()):
        spread = _rms(np.diff(y)) * np.sqrt(np.arange(1, h + 1))
        return _normal_rows(np.full(h, y[-1]), spread, levels)

    def _forecast_panel(self, panel, h: int, future=None, levels: tuple = ()) -> np.ndarray:
        if levels:
            return super()._forecast_panel(panel, h, future, levels)
        return np.repeat(panel.data[panel.offsets[1:] - 1][:, None], h, axis=1)[:, None]


class SeasonalNaive(_Baseline):
    """The last season repeated (Naive when season_length is 1).

    Example
    -------
    >>> import numpy as np
    >>> SeasonalNaive(season_length=3).fit(np.array([1.0, 2, 3, 4, 5, 6])).predict(4).tolist()
    [4.0, 5.0, 6.0, 4.0]
    """

    def _forecast(self, y, h, levels=()):
        m = min(self.season_length, len(y))
        spread = _rms(y[m:] - y[:-m]) * np.sqrt((np.arange(h) // m) + 1)
        return _normal_rows(y[-m:][np.arange(h) % m], spread, levels)


class Naive2(_Baseline):
    """M4's Naive2: naive on multiplicatively deseasonalised data when the series is seasonal.

    >>> import numpy as np
    >>> Naive2(season_length=1).fit(np.array([5.0, 6.0])).predict(2).tolist()
    [6.0, 6.0]
    """

    def _forecast(self, y, h, levels=()):
        return _naive2_rows(y, h, self.season_length, levels)

    def _forecast_panel(self, panel, h: int, future=None, levels: tuple = ()) -> np.ndarray:
        if levels:
            return super()._forecast_panel(panel, h, future, levels)
        return naive2_forecasts(panel.data, panel.offsets, h, self.season_length)[:, None]


class SES(_Baseline):
    """M4's SES benchmark: simple exponential smoothing (statsmodels, alpha and level estimated) on the
    deseasonalised data, reseasonalised.

    Example
    -------
    >>> from tsrnn.datasets import load_air_passengers
    >>> forecast = SES(season_length=12).fit(load_air_passengers()).predict(12)
    >>> len(forecast), str(forecast.index[0].date())
    (12, '1961-01-01')
    """

    def _forecast(self, y, h, levels=()):
        from statsmodels.tsa.holtwinters import SimpleExpSmoothing

        des, future = _deseasonalise(y, h, self.season_length)
        fit = SimpleExpSmoothing(des, initialization_method="estimated").fit()
        alpha = float(fit.params["smoothing_level"])
        spread = _rms(des - fit.fittedvalues) * np.sqrt(1.0 + np.arange(h) * alpha ** 2)
        return _normal_rows(np.asarray(fit.forecast(h)), spread, levels, future)


# ------------------------------------------------------------------------------------------------------
# statsmodels models
class ARIMA(_Baseline):
    """ARIMA(p, d, q)(P, D, Q)_m from statsmodels (``statsmodels.tsa.arima.model.ARIMA``), with a constant
    when the total differencing order is 0.

    >>> import numpy as np
    >>> y = np.cumsum(np.random.default_rng(0).normal(size=60))
    >>> ARIMA(order=(1, 1, 0)).fit(y).predict(3).shape
    (3,)
    """

    def __init__(self, order=(1, 0, 0), seasonal_order=(0, 0, 0), season_length: int = 1, freq=None, fill=None,
                 id_col="unique_id", time_col="ds", target_col="y", nonnegative: bool = False):
        super().__init__(season_length, freq, fill, id_col, time_col, target_col, nonnegative)
        self.order = order
        self.seasonal_order = seasonal_order

    def _check(self):
        super()._check()
        for name in ("order", "seasonal_order"):
            v = getattr(self, name)
            if len(tuple(v)) != 3 or not all(isinstance(k, numbers.Integral) and k >= 0 for k in v):
                raise ValueError(f"{name} must be three non-negative integers, got {v!r}")

    def _forecast(self, y, h, levels=()):
        return _arima_rows(_arima_fit(y, tuple(self.order), tuple(self.seasonal_order), self.season_length), h,
                           levels)


def _arima_fit(y, order, seasonal_order, m, exog=None):
    """Fit a statsmodels ARIMA (with regressors ``exog`` (n, k) when given); raise on a degenerate fit
    (see ``_degenerate``), so that AutoARIMA skips that order and a fixed-order ARIMA falls back to
    Naive2 (recorded in ``fallbacks_``)."""
    from statsmodels.tsa.arima.model import ARIMA as _SMARIMA

    seasonal = tuple(seasonal_order) + (m,) if m > 1 and any(seasonal_order) else (0, 0, 0, 0)
    trend = "c" if order[1] + seasonal[1] == 0 else "n"
    res = _SMARIMA(y, exog=exog, order=order, seasonal_order=seasonal, trend=trend).fit(cov_type="none")  # no Hessian: 3x faster
    x = np.asarray(y, float)
    for _ in range(seasonal[1]):
        x = x[m:] - x[:-m]
    x = np.diff(x, n=order[1])
    if _degenerate(res, x):
        raise RuntimeError(f"degenerate ARIMA{order}{seasonal} fit (log-likelihood {res.llf:.4g})")
    return res


def _arima_rows(res, h: int, levels: tuple, exog_future=None) -> np.ndarray:
    """(1 + 2L, h) from a fitted statsmodels ARIMA: its forecast and its Gaussian forecast intervals."""
    if not levels:
        return np.asarray(res.forecast(h, exog=exog_future))[None]
    fc = res.get_forecast(h, exog=exog_future)
    return _statsmodels_rows(fc.predicted_mean, lambda a: np.asarray(fc.conf_int(alpha=a)).T, levels)


def _degenerate(res, x) -> bool:
    """True for a fit whose likelihood broke down: statsmodels sometimes stops on the stationarity
    boundary with a log-likelihood of exactly 0 (an AIC of 2k, which wins any AICc search) and forecasts
    off by orders of magnitude (M4 Q20383: AR coefficients -1 and +1, one-step residual RMS 1e5 where a
    sane fit leaves 8). Its residuals are then far larger than the differenced series ``x`` itself,
    which is what a white-noise model on it would leave; 10x that is the bound."""
    resid = np.asarray(res.resid)[res.loglikelihood_burn:]
    return (not np.isfinite(res.llf) or res.llf == 0.0
            or np.sqrt(np.mean(resid ** 2)) > 10 * np.sqrt(np.mean(x ** 2)))


def _aicc(res, n) -> float:
    k = len(res.params)
    return res.aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)


class AutoARIMA(_Baseline):
    """ARIMA with orders chosen per series: d by repeated KPSS tests (<= 2), D = 1 when M4's seasonality
    test passes, then a stepwise search over p, q <= max_p/max_q and P, Q <= 1 by AICc from the
    starting models of Hyndman & Khandakar (2008), at most ``max_models`` fits.

    Seasonal periods above 12 (hourly data: 24, 168) make every seasonal state-space fit take seconds;
    there the series is seasonally adjusted first (M4's classical multiplicative decomposition, as for
    Naive2/SES/Theta), a non-seasonal ARIMA is searched on the adjusted series and the seasonal factors
    are put back.

    Example
    -------
    >>> from tsrnn.datasets import load_air_passengers
    >>> forecast = AutoARIMA(season_length=12).fit(load_air_passengers()).predict(12)
    >>> bool(forecast.iloc[6] > forecast.iloc[10])            # summer above autumn
    True
    """

    def __init__(self, season_length: int = 1, max_p: int = 3, max_q: int = 3, max_models: int = 12, freq=None,
                 fill=None, id_col="unique_id", time_col="ds", target_col="y", nonnegative: bool = False):
        super().__init__(season_length, freq, fill, id_col, time_col, target_col, nonnegative)
        self.max_p = max_p
        self.max_q = max_q
        self.max_models = max_models

    def _forecast(self, y, h, exog=None, exog_future=None, levels=()):
        if self.season_length > 12:
            des, future = _deseasonalise(y, h, self.season_length)
            return _arima_rows(self._search(des, 1, exog), h, levels, exog_future) * future
        return _arima_rows(self._search(y, self.season_length, exog), h, levels, exog_future)

    def _search(self, y, m, exog=None):
        """The fitted statsmodels result of the order the search chose for ``y``."""
        from statsmodels.tsa.stattools import kpss

        D = 1 if m > 1 and len(y) >= 3 * m and seasonality_test(y, m) else 0
        x = y[m:] - y[:-m] if D else y
        d = 0
        while d < 2 and len(x) > 10 and np.ptp(x) > 0:     # constant: stationary (and KPSS would divide by 0)
            stat, pvalue, *_ = kpss(x, regression="c", nlags="auto")
            if pvalue >= 0.05:
                break
            x, d = np.diff(x), d + 1
        seasonal_ok = m > 1 and len(y) > 2 * m + 3
        tried: dict = {}

        def score(p, q, P, Q):
            key = (p, q, P, Q)
            if key not in tried:
                if len(tried) >= self.max_models:
                    return np.inf
                try:
                    res = _arima_fit(y, (p, d, q), (P, D, Q), m, exog)
                    converged = (getattr(res, "mle_retvals", None) or {}).get("converged", True)
                    score_ = _aicc(res, len(y)) if converged else np.inf   # a failed optimisation is no model
                    tried[key] = (score_ if np.isfinite(score_) else np.inf, res)
                except Exception:  # noqa: BLE001 - an order that cannot be fitted is skipped
                    tried[key] = (np.inf, None)
            return tried[key][0]

        starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        for p, q, P, Q in starts:
            score(min(p, self.max_p), min(q, self.max_q), P if seasonal_ok else 0, Q if seasonal_ok else 0)
        best = min(tried, key=lambda k: tried[k][0])
        improved = True
        while improved and len(tried) < self.max_models:
            improved = False
            p, q, P, Q = best
            for dp, dq, dP, dQ in itertools.product((-1, 0, 1), repeat=4):
                if (dp, dq, dP, dQ) == (0, 0, 0, 0) or sum(map(abs, (dp, dq, dP, dQ))) > 2:
                    continue
                cand = (p + dp, q + dq, P + dP, Q + dQ)
                if not (0 <= cand[0] <= self.max_p and 0 <= cand[1] <= self.max_q):
                    continue
                if not (0 <= cand[2] <= (1 if seasonal_ok else 0) and 0 <= cand[3] <= (1 if seasonal_ok else 0)):
                    continue
                if score(*cand) < tried[best][0]:
                    best, improved = cand, True
                    break
        res = tried[best][1]
        if res is None or not np.isfinite(tried[best][0]):
            raise RuntimeError("no ARIMA order could be fitted (all optimisations failed)")
        self.last_order_ = ((best[0], d, best[1]), (best[2], D, best[3], m))
        return res


class ARIMAX(AutoARIMA):
    """AutoARIMA with exogenous regressors: regression with ARIMA errors on the ``future_covariates``
    columns and ``calendar`` features, known for the forecast steps (``predict(h, future=df)``, as for
    the Forecaster). Categorical columns are one-hot encoded as the Forecaster does; regressors are
    standardised on each series' history, and those collinear with the others or constant there are
    dropped for that series. ``max_history`` keeps only the last points of each series (state-space
    fits grow linearly with the length; hourly histories of years take minutes per model).

    >>> import numpy as np, pandas as pd
    >>> t = np.arange(80)
    >>> x = np.sin(t / 3.0)
    >>> y = 5 + 2 * x + np.random.default_rng(0).normal(scale=0.1, size=80)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": t, "y": y, "x": x})
    >>> fc = ARIMAX(future_covariates=["x"]).fit(df[:70]).predict(10, future=df[70:])
    >>> bool(np.abs(fc.yhat.to_numpy() - df.y[70:].to_numpy()).mean() < 0.2)
    True
    """

    def __init__(self, future_covariates=None, calendar=False, season_length: int = 1, max_p: int = 3,
                 max_q: int = 3, max_models: int = 12, max_history: int | None = None, freq=None, fill=None,
                 id_col="unique_id", time_col="ds", target_col="y", nonnegative: bool = False):
        super().__init__(season_length, max_p, max_q, max_models, freq, fill, id_col, time_col, target_col, nonnegative)
        self.future_covariates = future_covariates
        self.calendar = calendar
        self.max_history = max_history

    def _columns(self) -> tuple:
        from .covariates import check_names

        return check_names("future_covariates", self.future_covariates)

    def fit(self, y):
        """Store the series and their regressors (the models are fitted per series when forecasting)."""
        from .covariates import Encoding, check_calendar

        self._check()
        check_calendar(self.calendar)
        if self.max_history is not None:
            check_positive_int("max_history", self.max_history)
        self.panel_ = self._read(y)
        self.encoding_ = Encoding.fit(self.panel_, (), self._columns(), (), self.calendar)
        if not self.encoding_.n_future:
            raise ValueError("ARIMAX needs future_covariates or calendar features (else use AutoARIMA)")
        return self

    def _forecast_panel(self, panel, h: int, future=None, levels: tuple = ()) -> np.ndarray:
        """Per series: AutoARIMA on its history with the encoded regressors, forecast with their future
        values (``future``: a long frame or the rows after each series' end)."""
        from .data import future_rows

        enc = self.encoding_
        if enc.future and future is None:
            raise ValueError(f"ARIMAX reads the future covariates {list(enc.future)}: predict needs future=")
        given = future_rows(future, panel, h, enc.future, self.id_col, self.time_col) if enc.future else None
        history = enc.time_channels(panel).astype(np.float64)
        ahead = enc.future_channels(panel, h, given).astype(np.float64).reshape(len(panel), h, -1)
        rows = []
        for i, (uid, values) in enumerate(zip(panel.ids, panel.values)):
            x = history[panel.offsets[i]:panel.offsets[i + 1]]
            if self.max_history is not None:
                values, x = values[-self.max_history:], x[-self.max_history:]
            rows.append(self._safe_forecast(uid, values, h, *_regressors(x, ahead[i]), levels=levels))
        return np.stack(rows)


def _regressors(x: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """History and future regressors standardised on the history, without the columns that are constant
    there or collinear with the earlier ones (a pivoted QR with a constant column in front)."""
    center, spread = x.mean(axis=0), x.std(axis=0)
    keep = spread > 1e-9 * np.maximum(np.abs(center), 1.0)
    x, future, center, spread = x[:, keep], future[:, keep], center[keep], spread[keep]
    x, future = (x - center) / spread, (future - center) / spread
    if x.shape[1]:
        from scipy.linalg import qr

        _, r, piv = qr(np.column_stack([np.ones(len(x)), x]), mode="economic", pivoting=True)
        rank = int((np.abs(np.diag(r)) > 1e-8 * np.abs(r[0, 0])).sum())
        cols = np.sort(piv[:rank][piv[:rank] > 0] - 1)
        x, future = x[:, cols], future[:, cols]
    return x, future


class ETS(_Baseline):
    """Exponential smoothing state-space model (statsmodels ``ETSModel``) with the form chosen per series
    by AICc among additive/multiplicative errors, no/additive/damped trend and no/seasonal component
    (multiplicative forms only for positive series, seasonal only with two full seasons).

    Example
    -------
    >>> from tsrnn.datasets import load_air_passengers
    >>> forecast = ETS(season_length=12).fit(load_air_passengers()).predict(12)
    >>> bool(forecast.iloc[6] > forecast.iloc[10])
    True
    """

    def _forecast(self, y, h, levels=()):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        m = self.season_length
        positive = bool((y > 0).all())
        errors = ("add", "mul") if positive else ("add",)
        trends = ((None, False), ("add", False), ("add", True)) if len(y) >= 10 else ((None, False),)
        seasonals = [None]
        if m > 1 and len(y) >= 2 * m + 2:
            seasonals.append("mul" if positive else "add")
        best, best_res = np.inf, None
        import pandas as pd   # statsmodels' simulated intervals (multiplicative forms) need an indexed series

        for error, (trend, damped), seasonal in itertools.product(errors, trends, seasonals):
            try:
                res = ETSModel(pd.Series(y), error=error, trend=trend, damped_trend=damped, seasonal=seasonal,
                               seasonal_periods=m if seasonal else None).fit(disp=False)
            except Exception:  # noqa: BLE001 - a form that cannot be fitted is skipped
                continue
            score = res.aicc if np.isfinite(res.aicc) else np.inf
            if score < best:
                best, best_res = score, res
        if best_res is None:
            raise RuntimeError("no ETS form could be fitted")
        point = np.asarray(best_res.forecast(h))
        if not levels:
            return point[None]
        n = len(y)
        # multiplicative forms have no closed-form intervals: statsmodels simulates them (seeded here)
        pred = best_res.get_prediction(start=n, end=n + h - 1, rng=np.random.default_rng(0))
        return _statsmodels_rows(point, lambda a: np.asarray(pred.pred_int(alpha=a)).T, levels)


class Theta(_Baseline):
    """The Theta method (Assimakopoulos & Nikolopoulos 2000) as in statsmodels ``ThetaModel``:
    multiplicative deseasonalisation when the seasonality test passes, SES plus half the linear trend.

    Example
    -------
    >>> from tsrnn.datasets import load_air_passengers
    >>> forecast = Theta(season_length=12).fit(load_air_passengers()).predict(12)
    >>> bool(forecast.iloc[6] > forecast.iloc[10])
    True
    """

    def _forecast(self, y, h, levels=()):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = self.season_length
        deseason = m > 1 and len(y) >= 2 * m and bool((y > 0).all())
        res = ThetaModel(y, period=m, deseasonalize=deseason).fit()
        point = np.asarray(res.forecast(h))
        if not levels:
            return point[None]
        return _statsmodels_rows(point, lambda a: np.asarray(res.prediction_intervals(h, alpha=a)).T, levels)


BASELINES = {"naive": Naive, "snaive": SeasonalNaive, "naive2": Naive2, "ses": SES, "arima": AutoARIMA,
             "arimax": ARIMAX, "ets": ETS, "theta": Theta}
