"""The Forecaster: ``Forecaster().fit(series).predict(h)`` with an RNN/GRU/LSTM on tsrnn's kernels.

One global model is trained across all the series given to ``fit`` (one series is a panel of one).
What the default does, step by step (see ``docs/forecaster.md``):

1. the input is read into one array of all values plus offsets (``tsrnn/data.py``, whole-frame checks);
2. each series is log-transformed when strictly positive (else standardised), and, when
   ``season_length`` > 1 and the series is seasonal by M4's test, seasonally adjusted, all series in one
   compiled pass over the store (``tsrnn/preprocessing.py``, ``tsrnn/store.py``);
3. samples of ``window`` inputs and ``horizon`` targets are drawn on the fly from (series, origin) pairs,
   each centred on its own level (mean of its last season), left-padded (with a "padded" input channel)
   when the series is short; no matrix of all windows is ever built;
4. the end of every long-enough series is held out (up to ``horizon`` windows whose targets lie in its
   last 2 * horizon - 1 points); a fixed, seeded sample of at most ``validation_size`` of them
   calibrates the prediction intervals, and at most 1,024 of those, spread evenly over them, serve early
   stopping (the best weights are restored);
5. the network reads the window and emits all ``horizon`` steps at once (a direct multi-output head),
   trained on the mean absolute error of the normalised values with Adam and gradient clipping
   (``tsrnn/training.py``);
6. two such networks (an LSTM with 32 units each), seeded differently, are trained and their forecasts
   averaged.

Forecasts longer than ``horizon`` are made recursively, ``horizon`` steps at a time, in chunks of series
so that memory stays bounded. A series too short to train on gives no training sample and is forecast
from padded inputs; one too short even for that (fewer than ``min(window, max(2, season_length))``
points) is forecast by the naive rule (its last value), and so is a constant series (nothing to learn
from: its value). ``fallbacks_`` lists them all.
"""
from __future__ import annotations

import numbers
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np

from ._base import BaseEstimator, NotFittedError
from ._progress import MemberProgress
from ._validation import check_output_names, check_positive_int
from .blend import KINDS, curve_forecasts, store_curves
from .covariates import Encoding, check_calendar, check_names
from .data import (CONSTANT_RULE, FILLS, Panel, check_nonnegative, check_same_frequency, future_rows, id_values,
                   to_output, to_panel)
from .intervals import (calibrate, check_levels, check_quantiles, conformal_ends, cross_folds, interval_groups,
                        recursion_growth)
from .kernels.spec import SPECS
from .network import HEADS, LOSSES, Network
from .persistence import load_forecaster, save_forecaster
from .preprocessing import SCALERS
from .store import Layout, SeriesStore, Windows, positive_spread
from .training import StoreBatches, gather_samples, statistical_forecasts, train_network

__all__ = ["Forecaster", "NotFittedError"]

SHORT_SERIES = ("fallback", "error")
BLENDS = ("auto", *KINDS, None)
_AUTO_BLENDS = ("theta+damped", "ets")   # what blend="auto" chooses among, with the weight, per fit
_BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75)   # the statistical forecast's share, chosen per fit
_OVERFLOW = 1e300              # |forecast| at or past this is exp(~690): the inverse log transform saturated
_PREDICT_CHUNK = 8192          # series per recursive forecast round (the network predicts them 2,048 at a time)
_LONG_HISTORY = 5              # scaler="auto": "steps" when the median series holds 5 (window + horizon) points
_MIN_HELD_OUT = 200            # held-out windows a small panel keeps in all (for intervals up to 99.5 %)
_RETRAIN_HORIZONS = 80         # ... and when it is retrained, this many horizons of them (see _held_out_windows)
_CHUNK = 16384                 # windows per chunk when measuring the in-sample errors (bounded memory)
# Early stopping scores at most this many held-out windows per epoch, spread evenly over the calibration
# sample (series after series, origin after origin), which keeps them all for the intervals. Measured on
# the M4 dev sample (3 seeds): Hourly keeps the same best epochs and forecasts with 1,024 of its 2,400
# windows at 15-23 % less fit time, Monthly (3,600 windows) 35 % less at OWA 0.880-0.897 either way; an
# epoch's validation pass had cost a quarter of it.
_STOPPING_WINDOWS = 1024
# history_limit="auto": a series without a season (season_length 1) trains on its windows that end in
# its last _HISTORY_HORIZONS horizons (N-BEATS' history limit, L_H = 10 in its weekly, daily and hourly M4
# models), one with a season on all of them. Measured on the M4 dev sample (OWA, seeds 0-5): Weekly
# (m = 1, 80 to 2,283 weeks) 0.764 on average with every window, 0.748 with the last 10 horizons, better
# on every seed (seeds 0-2: 0.763 all, 0.749 with 10, 0.754 with 20, 0.766 with 40): a long series' old
# weeks teach old trends. Drawing each series' windows in proportion to min(its windows, 10 horizons),
# from its whole history, scored 0.773 (seeds 0-2): recency is what helps, not evening out the series.
# Hourly (m = 24, 700 to 960 hours) 0.535 with every window, 0.551 with the last 10 horizons, worse on 5
# seeds of 6: the daily shape is learnt phase by phase from every day seen. Backtests on the training
# histories (benchmarks/history_limit.py, seeds 0-2) agree: Weekly 0.024 better, Hourly 0.010 worse.
_HISTORY_HORIZONS = 10


class Forecaster(BaseEstimator):
    """Recurrent-network forecaster for one or many series.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}, default "lstm"
        The recurrent cell.
    hidden_size : int, default 32
        Units per layer.
    num_layers : int, default 1
        Stacked recurrent layers.
    bidirectional : bool, default False
        Read each window in both directions (direct head only).
    dropout : float, default 0.0
        Dropout between layers during training.
    head : {"direct", "seq2seq"}, default "direct"
        "direct": one linear map from the last hidden state to all ``horizon`` outputs. "seq2seq": an
        encoder-decoder, the decoder unrolled over the horizon (unidirectional encoders).
    ensemble_size : int, default 2
        Networks trained independently (own initial weights, sample order and early stopping) whose
        normalised forecasts are averaged; averaging removes most of the seed-to-seed variation.
    window : int or None
        Input length. None: from the data, ``max(2 * horizon, 3 * season_length)`` capped by what the
        shortest series allows (short series are padded).
    horizon : int or None
        Steps the network emits at once. None: ``season_length`` (1 without seasonality). Best set to
        the ``h`` you will ask for; longer forecasts are made recursively, ``horizon`` steps at a time.
    season_length : int, default 1
        Period of the seasonality (12 for monthly data, 24 hourly, 7 daily, 4 quarterly).
    scaler : {"auto", "window", "steps", "standard", "minmax", "robust", None}, default "auto"
        Per-series scaling. "window" = log (or standardise) + per-sample level normalisation; "steps" =
        the same in units of each series' mean absolute step; "auto" = "steps" when the median series
        holds at least ``5 (window + horizon)`` points (long histories: hourly, weekly, daily), else
        "window" (``scaler_``). Measured on the M4 dev sample (OWA, seeds 0 and 1): "steps" takes
        Hourly from 0.60 to 0.52-0.53 and Weekly from 0.92-0.96 to 0.81-0.82, but Quarterly from
        0.83-0.84 to 0.86-0.88 and Yearly from 0.83-0.84 to 0.85.
    deseasonalize : bool, default True
        Remove classical seasonal indices first (when season_length > 1 and the series is seasonal).
    blend : {"auto", "theta+damped", "theta", "ets", None}, default "auto"
        The forecast is the networks' blended with a statistical forecast of the same prepared series
        (on the log scale for positive series; ``tsrnn/blend.py``), ``blend_weight_`` of it, the weight
        among 0, 0.25, 0.5 and 0.75 whose blend has the smallest error on the held-out windows (0 keeps
        the networks alone). "theta+damped": the mean of the Theta method's forecast (SES plus half the
        linear trend) and a damped trend's (Holt's linear method, its trend damped); "theta": the Theta
        method's alone; "ets": exponential smoothing without a trend, with Holt's trend or with a
        damped one, whichever has the least AICc, its initial states fitted too. "auto": the partner
        ("theta+damped" or "ets") and its weight chosen together on the held-out windows (``blend_``).
        None: the networks alone. Measured on the M4 dev sample, see ``docs/forecaster.md``.
    loss : {"mae", "mse"}, default "mae"
        Training loss on the normalised scale.
    max_epochs : int, default 100
        Most epochs; an epoch visits at most ``samples_per_epoch`` samples, drawn at random.
    samples_per_epoch : int, default 4096
        Training windows drawn per epoch, so that an epoch costs the same for any number of series.
    batch_size : int, default 128
        Windows per Adam step.
    learning_rate : float, default 3e-3
        Adam's step size.
    clip_norm : float or None, default 1.0
        Gradients are rescaled to at most this global norm.
    early_stopping : int or None, default 10
        Patience in epochs on the held-out last horizon of each series; None or 0 disables it.
    retrain : {False, "auto", True}, default False
        Train the networks again on every window, the held-out ones included, for each member's kept
        epoch count, once the held-out fit has chosen those epochs, the blend and the interval
        calibration (which the retrained model keeps); about twice the fit time. "auto": only a small
        panel (fewer than ``200 / horizon`` series: one series, a few) whose training windows fill an
        epoch's draw (``samples_per_epoch``), which then holds out 80 horizons of windows in all (at
        most a fifth of each series) for better-calibrated intervals. Measured on one hourly series
        (bike rentals), "auto" against False: 95 % coverage 0.87-0.88 to 0.95 and 95 % MSIS 6.92-7.52
        to 4.69-5.47, but the day-ahead MAE with covariates 64.0 to 71.4 (seq2seq head): sharper,
        calibrated intervals at a cost in points, hence not the default; see ``docs/forecaster.md``.
        True retrains any fit with held-out windows (none without ``early_stopping``).
        ``retrained_`` says whether it ran.
    stride : int, default 1
        Distance between the ends of consecutive training windows of a series.
    history_limit : "auto", float or None, default "auto"
        Train on each series' windows that end in its last ``history_limit`` horizons only (the most
        recent, as N-BEATS does), or on more where the panel would otherwise hold fewer than
        ``samples_per_epoch`` training windows in all. None: every window. "auto": 10 horizons for
        series without a season (``season_length`` 1), every window otherwise. Measured on the M4 dev
        sample: Weekly 0.764 to 0.748 OWA (6 seeds), Hourly 0.551 limited against 0.535 (see the source).
    random_state : int or None, default None
        Seed for initial weights, sample order and dropout. The same seed gives bit-identical
        forecasts (with the same ``n_threads``).
    device : {"cpu", "cuda", "auto"}, default "cpu"
        "cuda" trains on an NVIDIA GPU (``pip install tsrnn[cuda]``) and raises a clear error when none
        is usable; "auto" takes the GPU when there is one, else the CPU, silently.
    validation_size : int, default 4096
        Most held-out windows kept (a fixed, seeded sample spread over the series): they calibrate the
        intervals, and at most 1,024 of them, spread evenly, are scored each epoch for early stopping,
        so an epoch costs the same for 1,000 or 100,000 series.
    short_series : {"fallback", "error"}, default "fallback"
        "fallback": a series too short to train on is left out of training and forecast from padded
        inputs, or by its last value when it is shorter still; ``fallbacks_`` lists them. "error":
        such a series is a ValueError naming it.
    n_threads : int or None, default None
        Threads for the kernels (None: all cores). On the CPU the ensemble members train at once, up
        to one per thread, each on ``n_threads // min(ensemble_size, n_threads)`` of them; forecasts
        use them all.
    progress : bool, default True
        A progress line on stderr while training, redrawn in place on a terminal or in a notebook;
        elsewhere (a log file, a CI job) whole lines, at most one every 30 s and the final state;
        ``False`` prints nothing at all.
    past_covariates : list of str or None, default None
        Columns of the long frame given to ``fit`` observed up to each series' end (numeric, boolean
        or categorical, one-hot encoded); see ``docs/forecaster.md``.
    future_covariates : list of str or None, default None
        Columns known in advance: ``predict(h, future=df)`` needs their values for the forecast steps.
    static_covariates : list of str or None, default None
        Columns constant within a series.
    calendar : bool or list of str, default False
        Calendar features derived from the time stamps (``True``: chosen by frequency, e.g. hour, day
        of week and day of year for hourly data), known for history and horizon alike.
    freq : str or None, default None
        pandas frequency for datetime inputs whose frequency cannot be inferred.
    fill : {None, "ffill", "interpolate", "zero"}, default None
        What to do with NaN in the data and with missing time stamps (None: an error naming the series).
        A missing stamp becomes a row, filled like a NaN (as ``asfreq`` and then the fill would); a
        numeric covariate is filled likewise, a boolean, categorical or static one carries its
        previous value. Gaps that outnumber a series' own points stay an error.
    nonnegative : bool, default False
        The data cannot be negative (counts, sales, rentals): forecasts, interval ends and quantiles
        below 0 are set to 0, and a value below 0 in the data given to ``fit`` or ``predict`` is an
        error naming its series. Never inferred from the data (a history above 0 does not make the
        future so: a temperature, a balance). Clipping cannot lose coverage of values at or above 0,
        and only narrows the intervals. A recursive forecast past ``horizon_`` reads the clipped
        values, as it would read data.
    id_col : str, default "unique_id"
        Series id column of a long DataFrame, and of the long frames the model returns (forecasts,
        ``fallbacks_``).
    time_col : str, default "ds"
        Time column of a long DataFrame, and of the forecasts' long frame.
    target_col : str, default "y"
        Value column of a long DataFrame.

    Attributes
    ----------
    networks_ : list of Network
        The trained networks, ``ensemble_size`` of them.
    horizon_, window_ : int
        Steps emitted at once and input length, as settled from the data.
    scaler_ : str or None
        The scaler used: ``scaler``, with "auto" resolved to "window" or "steps".
    history_limit_ : float or None
        The history limit used: ``history_limit``, with "auto" resolved to 10 (horizons; series without
        a season) or None (every window; seasonal series).
    state_ : SeriesStore
        The series store's tail: the last ``window_`` prepared points and the scaling of every series.
    panel_ : Axis
        Ids and time axis of the fitted series.
    loss_history_ : list of dict
        Per network: ``{"train": [...], "validation": [...]}``, the loss per epoch.
    best_epoch_ : list of int
        Per network: the epoch whose weights were kept (with ``retrained_``, the epochs it was trained
        again for on every window).
    retrained_ : bool
        Whether the networks were trained again on every window (``retrain``); ``loss_history_`` is
        the held-out fit's.
    residuals_ : ndarray
        (N, horizon_) the held-out windows' errors (target less forecast) over their cross-fitted interval
        unit and their step's factor (``intervals.step_scale``): the signed scores whose conformal
        quantiles set the intervals (``tsrnn/intervals.py``; of their sizes for steady series, of each
        side for intermittent ones).
    residual_groups_ : ndarray
        (N,) the calibration group of each held-out window's series (``interval_groups_``).
    interval_groups_ : ndarray
        (n,) the calibration group of each fitted series (``intervals.interval_groups``): 1 intermittent,
        2 misjudged (a steady series whose held-out errors are an order of magnitude beyond what its
        interval unit says: ``intervals.MISJUDGED``), 0 otherwise. A series' intervals take the conformal
        quantiles of its own group's scores (a steady or intermittent group's where they are enough, else
        the pool's without the misjudged series'). Series given to ``predict(h, y=...)`` are grouped by
        their zeros only.
    error_scale_ : ErrorScale
        The fitted interval unit of every series and step, from its spread, its k-step drift errors and
        its in-sample error (``tsrnn/intervals.py``).
    blend_ : str or None
        The statistical forecast the networks' is blended with (``blend``; one of "theta",
        "theta+damped", "ets"), chosen on the held-out windows; None when the networks forecast alone.
    blend_weight_ : float
        The statistical forecast's share of the forecast (``blend_``), chosen on the held-out windows.
    fallbacks_ : DataFrame
        ``<id_col>, n_obs, rule`` of the series forecast by a short-series or constant-series rule.
    covariates_ : Encoding
        The fitted covariate encoding: kinds, categories, calendar features.

    Example
    -------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import Forecaster
    >>> t = np.arange(120)
    >>> y = pd.Series(10 + np.sin(2 * np.pi * t / 12), index=pd.date_range("2015-01", periods=120, freq="MS"))
    >>> model = Forecaster(hidden_size=16, season_length=12, max_epochs=5, random_state=0, progress=False)
    >>> forecast = model.fit(y).predict(12)
    >>> forecast.index[0]
    Timestamp('2025-01-01 00:00:00')
    """

    def __init__(self, cell: str = "lstm", hidden_size: int = 32, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, head: str = "direct", ensemble_size: int = 2, window: int | None = None, horizon: int | None = None, season_length: int = 1,
                 scaler: str | None = "auto", deseasonalize: bool = True, blend: str | None = "auto",
                 loss: str = "mae",
                 max_epochs: int = 100, samples_per_epoch: int = 4096, batch_size: int = 128,
                 learning_rate: float = 3e-3, clip_norm: float | None = 1.0, early_stopping: int | None = 10,
                 retrain: bool | str = False, stride: int = 1, history_limit: float | str | None = "auto",
                 validation_size: int = 4096,
                 short_series: str = "fallback",
                 random_state: int | None = None, device: str = "cpu", n_threads: int | None = None,
                 progress: bool = True, past_covariates: list | None = None, future_covariates: list | None = None,
                 static_covariates: list | None = None, calendar: bool | list = False, freq: str | None = None,
                 fill: str | None = None, nonnegative: bool = False, id_col: str = "unique_id", time_col: str = "ds",
                 target_col: str = "y"):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.head = head
        self.ensemble_size = ensemble_size
        self.window = window
        self.horizon = horizon
        self.season_length = season_length
        self.scaler = scaler
        self.deseasonalize = deseasonalize
        self.blend = blend
        self.loss = loss
        self.max_epochs = max_epochs
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clip_norm = clip_norm
        self.early_stopping = early_stopping
        self.retrain = retrain
        self.stride = stride
        self.history_limit = history_limit
        self.validation_size = validation_size
        self.short_series = short_series
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.static_covariates = static_covariates
        self.calendar = calendar
        self.freq = freq
        self.fill = fill
        self.nonnegative = nonnegative
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # ----------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.cell not in SPECS:
            raise ValueError(f"cell must be one of {sorted(SPECS)}, got {self.cell!r}")
        for name in ("hidden_size", "num_layers", "ensemble_size", "season_length", "max_epochs", "samples_per_epoch",
                     "batch_size", "stride", "validation_size"):
            check_positive_int(name, getattr(self, name))
        for name in ("window", "horizon", "n_threads"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        for name in ("bidirectional", "deseasonalize", "progress", "nonnegative"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler must be one of {SCALERS}, got {self.scaler!r}")
        if self.blend not in BLENDS:
            raise ValueError(f"blend must be one of {BLENDS}, got {self.blend!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {self.fill!r}")
        check_output_names(self.id_col, self.time_col)
        if not (self.retrain == "auto" or isinstance(self.retrain, (bool, np.bool_))):
            raise ValueError(f"retrain must be 'auto', True or False, got {self.retrain!r}")
        hl = self.history_limit
        if not (hl is None or hl == "auto" or (isinstance(hl, numbers.Real) and not isinstance(hl, bool) and hl > 0)):
            raise ValueError(f"history_limit must be 'auto', None or a positive number of horizons, got {hl!r}")
        if self.short_series not in SHORT_SERIES:
            raise ValueError(f"short_series must be one of {SHORT_SERIES}, got {self.short_series!r}")
        es = self.early_stopping
        if es is not None and (isinstance(es, bool) or not isinstance(es, numbers.Integral) or es < 0):
            raise ValueError(f"early_stopping must be a non-negative integer (patience in epochs) or None, got {es!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.clip_norm is not None and (not isinstance(self.clip_norm, numbers.Real) or not self.clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number or None, got {self.clip_norm!r}")
        for name in ("past_covariates", "future_covariates", "static_covariates"):
            check_names(name, getattr(self, name))
        check_calendar(self.calendar)

    def _read(self, y, columns=(), static=(), known_freq=None) -> Panel:
        panel = to_panel(y, self.id_col, self.time_col, self.target_col, self.freq, self.fill, columns, static,
                         known_freq)
        if self.nonnegative:
            check_nonnegative(panel)
        return panel

    def _prepare(self, panel: Panel, owned: bool, encoding: Encoding, intervals: bool = True,
                 blend: str | None = None) -> SeriesStore:
        """The store of ``panel``'s series (its values are transformed in place when ``owned``), with
        their covariate channels, with ``intervals`` the k-step errors their intervals scale with, and
        the curves of the statistical forecast ``blend`` (a fit chooses its partner afterwards:
        ``blend_``)."""
        x = encoding.time_channels(panel) if encoding.n_past + encoding.n_future else None
        static = encoding.static_channels(panel) if encoding.static else None
        return SeriesStore.prepare(panel.data, panel.offsets, self.scaler_, self.season_length, self.deseasonalize,
                                   copy=not owned, x=x, scaled=encoding.scaled_channels(), static=static,
                                   blend=blend, threads=self._threads(),
                                   horizon=self.horizon_ if intervals else 0)

    def _layout(self) -> Layout:
        enc = self.covariates_
        return Layout(self.window_, self.horizon_, self._level_span(), enc.n_past, enc.n_future, enc.n_static)

    def _level_span(self) -> int:
        return min(self.season_length, self.window_) if self.scaler_ in ("window", "steps") else 0

    def _min_inputs(self) -> int:
        return min(self.window_, max(2, self.season_length))

    def _threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1

    def _device(self, loading: bool = False) -> str:
        """The device to run on; a loaded model trained on a GPU falls back to the CPU when none is usable."""
        return _resolve_device("auto" if loading and self.device != "cpu" else self.device)

    # ----------------------------------------------------------------------------------------------
    def fit(self, y) -> "Forecaster":
        """Train the networks on every series in ``y`` (Series, 1-D array, long or wide DataFrame).

        An error or an interruption (Ctrl-C raises ``KeyboardInterrupt`` within one batch) leaves the
        estimator unfitted, never half-fitted."""
        self._check_params()
        self._forget()                                # a new fit forgets the previous one
        try:
            return self._fit(y)
        except BaseException:
            self._forget()
            raise

    def _forget(self) -> None:
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)

    def _fit(self, y) -> "Forecaster":
        past, future, static = (check_names(name, getattr(self, name)) for name in
                                ("past_covariates", "future_covariates", "static_covariates"))
        panel = self._read(y, (*past, *future, *static), static)
        self.covariates_ = Encoding.fit(panel, past, future, static, self.calendar)
        lengths = panel.lengths
        needed = self._settle(lengths, panel.ids)
        W = self.window_
        layout = self._layout()

        store = self._prepare(panel, owned=not isinstance(y, Panel), encoding=self.covariates_)
        if not isinstance(y, Panel):
            panel.columns = {}                        # the store holds their channels now
        windows, retrain = self._held_out_windows(lengths)
        held_out = windows.total_held_out > 0
        series, ends = self._calibration_pairs(windows, held_out, store.constant)
        calibration = gather_samples(store, series, ends, layout, stats=True)
        partners = {kind: statistical_forecasts(store, series, calibration.history, calibration.level,
                                                layout.horizon, kind, self._threads()) for kind in self._partners()}
        recent_series, recent_ends = self._recent_pairs(windows) if held_out else (np.zeros(0, np.int64),) * 2

        def recent(blend):                            # drawn lazily, one chunk at a time
            return (gather_samples(store, recent_series[a:a + _CHUNK], recent_ends[a:a + _CHUNK], layout, blend=blend,
                                   threads=self._threads())
                    for a in range(0, len(recent_series), _CHUNK))
        self.device_ = self._device()
        members = self._train_members(store, windows, layout, self._stopping_set(calibration) if held_out else None)
        self._fitted(members, calibration, partners, store.tail(W), panel.axis(),
                     self._fallbacks(panel.ids, lengths, needed, store.constant),
                     lambda kind: store_curves(store.z, store.offsets, kind, self._threads()), recent, retrain)
        if self.retrained_:
            every = self._windows(lengths, holdout=False)
            self._use_networks([net for net, _, _ in self._train_members(store, every, layout, None, self.best_epoch_)])
        return self

    def _settle(self, lengths: np.ndarray, ids) -> int:
        """Set ``horizon_`` and ``window_`` from the series' lengths (too-short series are an error, or
        all of them); returns the length a series needs to train on."""
        m = self.season_length
        self.horizon_ = self.horizon or max(m, 1)
        self.window_ = self.window or max(2 * self.horizon_, 3 * m, 4)
        needed = self.horizon_ + self._min_inputs()
        if self.window is not None and self.window > lengths.max():
            raise ValueError(f"window={self.window} is longer than the longest series ({lengths.max()} points): its "
                             "extra inputs could only be padding; choose window <= the series' length")
        short = np.flatnonzero(lengths < needed)
        if len(short) and (self.short_series == "error" or len(short) == len(lengths)):
            names = [ids[i] for i in short[:10]]
            why = "" if self.horizon else f" (horizon defaults to season_length={m})"
            raise ValueError(f"{len(short)} series are too short: with horizon={self.horizon_}{why} and "
                             f"season_length={m} each needs at least {needed} points to train on; too short: "
                             f"{names}{' ...' if len(short) > 10 else ''}"
                             + ("" if len(short) < len(lengths) else " (every series)"))
        if self.window is None:                       # don't pad every series: cap by the longest one
            self.window_ = int(max(self._min_inputs(), min(self.window_, lengths.max() - self.horizon_)))
        long = np.median(lengths) >= _LONG_HISTORY * (self.window_ + self.horizon_)
        self.scaler_ = ("steps" if long else "window") if self.scaler == "auto" else self.scaler
        self.history_limit_ = self._history_limit()
        return needed

    def _windows(self, lengths: np.ndarray, holdout: bool = True, min_held_out: int = _MIN_HELD_OUT) -> Windows:
        """The training and held-out windows (``holdout=False``: every window trains, for ``retrain``)."""
        windows = Windows(lengths, self.window_, self.horizon_, self._min_inputs(), self.stride,
                          holdout=holdout and bool(self.early_stopping), min_held_out=min_held_out,
                          limit=self._history_windows(), fill=self.samples_per_epoch)
        if windows.total == 0:
            raise ValueError("no training samples: the series are too short for this window and horizon")
        return windows

    def _history_limit(self) -> float | None:
        """``history_limit`` with "auto" resolved: ``_HISTORY_HORIZONS`` horizons for series without a
        season, None (every window) for seasonal ones."""
        if self.history_limit == "auto":
            return _HISTORY_HORIZONS if self.season_length <= 1 else None
        return self.history_limit

    def _history_windows(self) -> int | None:
        """The training windows per series that ``history_limit_`` keeps (None: all of them)."""
        horizons = self.history_limit_
        return None if horizons is None else max(1, int(np.ceil(horizons * self.horizon_ / self.stride)))

    # A small panel's held-out windows are few blocks of overlapping windows: 200 windows of one hourly
    # series (horizon 24) are 9 days. Measured on the bike rentals (one series, 14 x 24 backtest, 3
    # seeds): 95 % coverage 0.87-0.88 with 200 held-out windows, 0.86-0.89 with 20 horizons of them,
    # 0.90-0.93 with 40 and 0.949-0.955 with 80 (95 % MSIS 6.92-7.52, 6.57-7.06, 4.82-5.92, 4.69-5.47);
    # held out, they are not learnt, so they are only held out this long when the networks are then
    # retrained on every window: MAE 92.4-99.6 rentals with 200 held out and no retrain, 89.3-96.9 with
    # 80 horizons and the retrain. A retrain needs training windows enough to fill an epoch's draw: on
    # the air passengers (144 points, about 85 windows, each epoch all of them) it raised the OWA on all
    # of 13 seeds (mean 0.562 to 0.597), the kept epoch of a tiny fit not carrying over to another one.
    # Not the default: on the day-ahead covariates benchmark (the same bike rentals, 28 days, 3 seeds,
    # benchmarks/covariates.py) "auto" took the MAE from 64.0 to 71.4 (seq2seq head, covariates), 71.0
    # to 77.5 (direct head) and 84.0 to 88.0 (no covariates); a retrain with 200 windows held out
    # gave 67.8, 74.4 and 83.7.
    def _held_out_windows(self, lengths: np.ndarray) -> tuple[Windows, bool]:
        """The fit's windows and whether its networks are retrained on every window afterwards
        (``retrain``): "auto" retrains a small panel (one that holds out more than a horizon of a
        series' windows) whose training windows fill an epoch's draw (``samples_per_epoch``), and then
        holds out ``_RETRAIN_HORIZONS`` horizons of windows in all (at most a fifth of each series)."""
        windows = self._windows(lengths)
        if not windows.total_held_out or self.retrain is False:
            return windows, False
        if self.retrain == "auto" and not (windows.topped_up and windows.total >= self.samples_per_epoch):
            return windows, False
        return self._windows(lengths, min_held_out=max(_MIN_HELD_OUT, _RETRAIN_HORIZONS * self.horizon_)), True

    def _member_rng(self, k: int, retrain: bool = False) -> np.random.Generator:
        """Ensemble member k's own random stream (initial weights, then its epochs' draws), another one
        for its ``retrain``: members do not depend on each other, so they can train in any order or at
        once (``tsrnn/cluster.py``)."""
        seed = None if self.random_state is None else [int(self.random_state), 3 if retrain else 2, k]
        return np.random.default_rng(seed)

    # Ensemble members train at once, one thread each (or n_threads // members each), rather than one
    # after the other with the batch cut into chunks over all threads: the chunks of one pass wait for
    # each other at every layer and step, two members never do. Measured on the project's 2-core machine
    # (M4 Hourly, LSTM H=32, T=96, batch 128, 8 epochs of 2 members): 10.4 s on one thread, 7.6-7.9 s
    # with two chunks, 5.9-6.0 s with two members at once. Passes too small to be chunked (short
    # windows) ran on one core before; now every core has a member. A member's result depends only on
    # its seed and its thread count, so it is the same whatever the members' timing.
    def _concurrent_members(self) -> int:
        """How many members train at once: up to one per thread on the CPU, one on a GPU."""
        return 1 if self.device_ != "cpu" else max(1, min(self.ensemble_size, self._threads()))

    def _network(self, layout: Layout, rng: np.random.Generator) -> Network:
        """Member network with its share of the threads (``_concurrent_members``); ``_fitted`` gives
        the trained networks all of them for forecasting."""
        return Network(self.cell, layout.input_size, self.hidden_size, self.horizon_, num_layers=self.num_layers,
                       bidirectional=self.bidirectional, dropout=self.dropout, seed=int(rng.integers(2**31)),
                       n_threads=max(1, self._threads() // self._concurrent_members()), head=self.head,
                       device=self.device_, future_size=layout.n_future)

    def _train(self, net: Network, batches, validation, bar=None, stop=None,
               epochs: int | None = None) -> tuple[dict, int]:
        """Train one member (``training.train_network``); ``bar``: its progress bar (None: silent),
        ``stop``: a ``threading.Event`` that ends it within one batch; ``epochs``: exactly that many,
        without early stopping (``retrain``; None: up to ``max_epochs``, stopping early)."""
        patience = 0 if epochs else self.early_stopping or 0
        return train_network(net, batches, max_epochs=epochs or self.max_epochs, learning_rate=self.learning_rate,
                             loss=self.loss, clip_norm=self.clip_norm, patience=patience, validation=validation,
                             bar=bar, stop=stop)

    def _train_members(self, store: SeriesStore, windows: Windows, layout: Layout, validation,
                       epochs: list | None = None) -> list:
        """Train the ensemble members, ``_concurrent_members()`` at a time, each on its own random stream;
        returns (network, loss history, best epoch) per member, in member order. ``epochs``: member k
        is retrained (``retrain``) for ``epochs[k]`` epochs. An error or an interruption in any member
        stops the others within one batch and is raised."""
        progress = MemberProgress(self.ensemble_size, max(epochs) if epochs else self.max_epochs, self.progress,
                                  desc=f"tsrnn {self.cell}" + (", retrain on every window" if epochs else ""))
        stop = threading.Event()

        def member(k: int):
            rng = self._member_rng(k, retrain=epochs is not None)
            net = self._network(layout, rng)
            batches = StoreBatches(store, windows, layout, rng, self.samples_per_epoch, self.batch_size)
            return (net, *self._train(net, batches, validation, progress.member(k), stop,
                                      None if epochs is None else epochs[k]))

        try:
            workers = self._concurrent_members()
            if workers == 1:
                return [member(k) for k in range(self.ensemble_size)]
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tsrnn-member") as pool:
                futures = [pool.submit(member, k) for k in range(self.ensemble_size)]
                try:
                    wait(futures, return_when=FIRST_EXCEPTION)
                    for future in futures:
                        if future.done() and future.exception() is not None:
                            raise future.exception()
                    return [future.result() for future in futures]
                except BaseException:
                    stop.set()                        # the running members end within a batch
                    for future in futures:
                        future.cancel()
                    raise
        finally:
            progress.close()

    def _use_networks(self, networks: list) -> None:
        """Forecast with ``networks``: trained on a share of the threads, they forecast on all of them."""
        for net in networks:
            net.n_threads = self._threads()
        self.networks_ = networks

    def _fitted(self, members: list, calibration, partners: dict, state: SeriesStore, axis, fallbacks, curves,
                recent=None, retrained: bool = False) -> None:
        """Set the fitted attributes from the trained members (network, history, best epoch) and
        ``retrained_`` (whether they are trained again next, on every window: ``retrain``); the blend
        (``blend_``, ``blend_weight_``) chosen on the held-out windows (``calibration``, with
        ``partners``: each candidate statistical forecast of their targets), and the curves of its
        forecast after every series' end (``curves(kind)``: (n, 4), fitted on each whole series); the
        intervals' calibration (``tsrnn/intervals.py``): each series' in-sample error on its last
        training windows (``recent(blend)``: their Samples, with the statistical forecast of ``blend``;
        None: no such windows), then the error scale fitted on the held-out windows, each described by
        its series' points before its targets, and their cross-fitted scores. The last training windows
        get statistical forecasts only when the blend has a share: otherwise the forecast is the
        networks' alone, and fitting them (on M5's shape, 61,000 windows: 4 s) would be wasted."""
        self._use_networks([net for net, _, _ in members])
        self.loss_history_ = [history for _, history, _ in members]
        self.best_epoch_ = [best for _, _, best in members]
        spread = state.interval_spread()
        network = self._network_predict(calibration.x, calibration.xf)
        scale = spread[calibration.series][:, None]
        self.blend_, self.blend_weight_ = self._blend_choice(network, calibration.y, partners, scale)
        errors = self._cross_fitted_errors(network, calibration, partners, scale)
        if self.blend_:
            state.curves = curves(self.blend_)
        state.insample_error = self._insample_error(None if recent is None else recent(self.blend_), spread)
        self.error_scale_, self.residuals_, self.interval_groups_ = calibrate(
            errors, positive_spread(calibration.spread, state.spread), calibration.steps,
            state.insample_error[calibration.series], calibration.history, calibration.recent, calibration.phase,
            calibration.series, state.zero_share, self.season_length)
        self.residual_groups_ = self.interval_groups_[calibration.series]
        self.state_ = state
        self.panel_ = axis
        self.fallbacks_ = fallbacks
        self.retrained_ = retrained

    def _partners(self) -> tuple:
        """The statistical forecasts a fit tries as the blend's partner."""
        return _AUTO_BLENDS if self.blend == "auto" else () if self.blend is None else (self.blend,)

    def _blend_choice(self, network: np.ndarray, y: np.ndarray, partners: dict, scale: np.ndarray) -> tuple:
        """(partner, share) of the blend: of the statistical forecasts ``partners`` (kind: held-out
        forecasts) and the shares ``_BLEND_WEIGHTS``, the pair whose blend of the networks' held-out
        forecasts ``network`` has the least mean absolute error against their targets ``y``, each error
        in its series' spread ``scale`` (N, 1) (MASE-like, so every series counts alike); (None, 0) when
        the networks alone do best, without a blend or without held-out windows.

        Why a blend, measured on the M4 dev sample (seed 0, OWA of the networks alone, of Theta on the
        prepared series alone, of an even blend): Yearly 0.831, 0.779, 0.785; Monthly 0.899, 0.890,
        0.881; Hourly 0.529, 1.021, 0.740. The two err differently on short, trending yearly and
        monthly series, and Theta cannot follow hourly patterns: no one weight suits every frequency,
        so it is chosen per fit. The held-out windows are the ones early stopping watched, which
        favours the networks a little; a weight is one number chosen from four on thousands of errors.
        The statistical forecast never takes the whole forecast (at most 0.75): the network stays the
        model. Theta's mean with a damped trend (``blend="theta+damped"``) is measured in ``tsrnn/blend.py``.

        Why "auto" chooses the partner too: on the M4 dev sample the damped-trend mean is the better
        partner on Yearly series (OWA with each, seeds 0-2: 0.780-0.789 against 0.822-0.830 with ETS),
        ETS on Weekly ones (0.756-0.774 against 0.804-0.823), and no one partner suits every frequency.
        Ties keep the earlier candidate: no blend, then ``_AUTO_BLENDS``' order."""
        if not partners or not len(y):
            return None, 0.0
        candidates = [(None, 0.0)] + [(kind, w) for kind in partners for w in _BLEND_WEIGHTS if w]
        score = [np.mean(np.abs(self._blended(network, partners.get(kind), w) - y) / scale) for kind, w in candidates]
        return candidates[int(np.argmin(score))]

    def _cross_fitted_errors(self, network: np.ndarray, calibration, partners: dict, scale: np.ndarray) -> np.ndarray:
        """e_ik, target less forecast, of the held-out windows that calibrate the intervals, each window's blend chosen
        (``_blend_choice``) on the windows of the other folds: the other folds' series
        (``intervals.cross_folds``, as the error scale is cross-fitted), or, when all the windows come
        from one series (or one fold), the other half of the windows in time. The forecast's blend is
        chosen on every held-out window, so its own held-out errors are the least of all the candidates'
        on those windows: on one series or a few, whose windows are few and overlap, that is partly
        luck, and intervals calibrated on them come out too narrow. Cross-fitted, the errors are those of
        a choice made on other windows, as the forecast's choice is for the test. Without a partner or
        with one fold empty (a single held-out window), the blend's own errors."""
        fold = cross_folds(calibration.series)
        if len(fold) and fold.min() == fold.max():      # one series (or one fold): halves in time
            fold = (calibration.history > np.median(calibration.history)).astype(np.int64)
        if not partners or not len(fold) or fold.min() == fold.max():
            return calibration.y - self._blended(network, partners.get(self.blend_))
        errors = np.empty(network.shape)
        for f in np.unique(fold):
            rows, other = fold == f, fold != f
            kind, w = self._blend_choice(network[other], calibration.y[other],
                                         {k: v[other] for k, v in partners.items()}, scale[other])
            errors[rows] = calibration.y[rows] - self._blended(network[rows], partners[kind][rows] if kind else None, w)
        return errors

    def _blended(self, network: np.ndarray, statistical: np.ndarray | None, weight: float | None = None) -> np.ndarray:
        """The forecast: the networks' blended with the statistical one, ``weight`` (default
        ``blend_weight_``) of it."""
        w = self.blend_weight_ if weight is None else weight
        return network if statistical is None or w == 0 else (1 - w) * network + w * statistical

    def _recent_pairs(self, windows: Windows):
        """(series, end) of each series' last K training windows, K = 2^16 // n clipped to 1..16 (at most
        ~65,536 windows in all, one per series beyond that): what the interval error scale is fitted on."""
        k = int(np.clip(65536 // max(len(windows.count), 1), 1, 16))
        take = np.minimum(windows.count, k)
        first = windows.cum[:-1] + windows.count - take
        within = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
        return windows.train_pairs(np.repeat(first, take) + within)

    def _insample_error(self, recent, spread: np.ndarray) -> np.ndarray:
        """(n,) each series' in-sample error: the forecast's mean |error| on the series' last training
        windows (``recent``: an iterable of Samples, or None), in units of its spread; NaN for a series
        without such windows. A feature of the interval unit (``intervals.ErrorScale``): what the
        network finds hard to fit it mostly finds hard to forecast (M4 dev Hourly 95 % MSIS 12.2
        without it, 9.2 with it), and the fitted slope says how far to trust it (short yearly series
        are fitted too closely for their in-sample errors to mean much)."""
        n = len(spread)
        count, total = np.zeros(n), np.zeros(n)
        for chunk in recent or ():                      # Samples, or an iterable of them
            point = self._blended(self._network_predict(chunk.x, chunk.xf), chunk.statistical)
            err = np.abs(point - chunk.y).mean(axis=1) / spread[chunk.series]
            count += np.bincount(chunk.series, minlength=n)
            total += np.bincount(chunk.series, weights=err, minlength=n)
        out = np.full(n, np.nan)
        np.divide(total, count, out=out, where=count > 0)
        return out

    def _calibration_pairs(self, windows: Windows, held_out: bool, constant: np.ndarray):
        """The fixed sample of held-out windows (training windows without early stopping): all of them
        when there are at most ``validation_size``, else a seeded uniform draw from a stream of its own,
        so that the training draws do not depend on it; less those of ``constant`` series (unless every
        window is one's), which the constant rule forecasts, not the networks. Their networks' errors are
        not errors of any forecast: 16 windows of a constant series against one of a varying one set
        every step's interval factor to their own, and the varying series' 99 % interval came out
        1e-305 to 1e304."""
        total = windows.total_held_out if held_out else windows.total
        if total <= self.validation_size:
            pick = np.arange(total)
        else:
            seed = None if self.random_state is None else [int(self.random_state), 1]
            pick = np.sort(np.random.default_rng(seed).choice(total, size=self.validation_size, replace=False))
        series, ends = (windows.held_out_pairs if held_out else windows.train_pairs)(pick)
        varying = ~constant[series]
        return (series[varying], ends[varying]) if varying.any() else (series, ends)

    @staticmethod
    def _stopping_set(calibration):
        """The held-out samples early stopping scores: all of them up to ``_STOPPING_WINDOWS``, else that
        many spread evenly over them."""
        if len(calibration) <= _STOPPING_WINDOWS:
            return calibration
        return calibration.take(np.linspace(0, len(calibration) - 1, _STOPPING_WINDOWS).round().astype(np.int64))

    def _fallbacks(self, ids, lengths: np.ndarray, needed: int, constant: np.ndarray):
        """The series that a short-series rule or the constant-series rule applies to, with the rule."""
        import pandas as pd

        rows = np.flatnonzero((lengths < needed) | constant)
        naive = lengths[rows] < self._min_inputs()
        rule = np.where(naive, "naive: last value (too short for the network)",
                        "padded: forecast from padded inputs (too short to train on)")
        rule = np.where(constant[rows] & ~naive, CONSTANT_RULE, rule)
        return pd.DataFrame({self.id_col: id_values(ids[rows]), "n_obs": lengths[rows], "rule": rule})

    def _network_predict(self, x: np.ndarray, xf: np.ndarray | None = None) -> np.ndarray:
        """The ensemble's mean normalised forecast for network inputs x (T, N, I) (and the decoder's
        future inputs xf) -> (N, horizon)."""
        return np.mean([net.predict(x, x_future=xf).astype(np.float64) for net in self.networks_], axis=0)

    # ----------------------------------------------------------------------------------------------
    def predict(self, h: int, y=None, level=None, future=None, quantiles=None):
        """Forecast ``h`` steps after the end of every series.

        h : int >= 1
        y : optional new history (any accepted form) to forecast instead of the series seen in fit; the
            model is not retrained, the series may be ones it has never seen. With covariates, a long
            frame with the same covariate columns.
        level : optional list of coverage levels in (0, 100), e.g. [80, 95]: adds ``yhat_lo_<l>`` and
            ``yhat_hi_<l>`` (split-conformal intervals from the held-out residuals of fit).
        future : with ``future_covariates``, a long frame (``id_col``, ``time_col`` and those columns) of
            their values at the time stamps after each series' end: ``h`` of them with the seq2seq head,
            ``h`` rounded up to a multiple of ``horizon_`` with the direct head (which reads a whole
            horizon of them at once). Other rows and columns are ignored.
        quantiles : optional list of probabilities in (0, 1), e.g. [0.1, 0.5, 0.9]: adds ``yhat_q<q>``
            columns (``yhat_q0.1``, ...), the ends of the central conformal intervals (the quantile q is
            the lower end of the ``100 (1 - 2q)`` % interval below 0.5, the upper end of the
            ``100 (2q - 1)`` % one above, the point forecast at 0.5); they never cross.

        Returns the input's form: a Series (for a Series or array input) indexed by the next ``h``
        timestamps, or a long DataFrame ``<id_col>, <time_col>, yhat`` (wide input: one column per series);
        with ``level`` a DataFrame with the interval columns. A series shorter than
        ``min(window_, max(2, season_length))`` points is forecast by its last value (``short_series=
        "error"``: a ValueError).
        """
        self._check_is_fitted("networks_")
        h = check_positive_int("h", h)
        levels = check_levels(level)
        probs = check_quantiles(quantiles)
        enc = self.covariates_
        if enc.past and h > self.horizon_:
            raise ValueError(f"h={h} is longer than horizon_={self.horizon_}: past covariates {list(enc.past)} are "
                             "known only up to each series' end, so the model cannot forecast past one horizon "
                             f"recursively; fit with horizon={h}")
        if y is None:
            axis, state = self.panel_, self.state_
        else:
            panel = self._read(y, enc.columns, enc.static, self.panel_.freq)
            short = np.flatnonzero(panel.lengths < self._min_inputs())
            if len(short) and self.short_series == "error":
                raise ValueError(f"{len(short)} series are too short to forecast (need at least "
                                 f"{self._min_inputs()} points): {[panel.ids[i] for i in short[:10]]}")
            axis = panel.axis()
            check_same_frequency(self.panel_, axis)
            state = self._prepare(panel, owned=not isinstance(y, Panel), encoding=enc,
                                  intervals=bool(levels or probs), blend=self.blend_).tail(self.window_)
        rows = -(-h // self.horizon_) * self.horizon_           # whole horizons: what the network reads
        center = self._forecast_normalised(state, h, rows, self._future_channels(axis, h, rows, future))
        forecasts = state.to_original(center)
        extra = {}
        if levels or probs:
            # recursive steps: the unit of the network step each repeats, with its own point's phase ratio,
            # grown as the series' drift error grows from that step to its own
            unit = self.error_scale_.unit(state.interval_spread(self.state_), state.step_error, state.insample_error,
                                          state.n_obs, state.recent_spread, state.phase_ratios(h),
                                          step=np.arange(h) % self.horizon_)
            unit *= recursion_growth(state.step_error, state.round_error, h)
            # each series' scores: its group's (intermittent, misjudged: fitted series only)
            groups = self.interval_groups_ if y is None else interval_groups(state.zero_share)
        central = {p: round(abs(200 * p - 100), 9) for p in probs}     # q = 0.001 and 0.999 end the 99.8 % interval
        bands = {}
        for lv in dict.fromkeys([*levels, *(c for c in central.values() if c)]):     # each level's ends once
            lower, upper = conformal_ends(self.residuals_, self.residual_groups_, groups, lv, h, self.horizon_)
            bands[lv] = state.to_original(center + lower * unit), state.to_original(center + upper * unit)
        for lv in levels:
            extra[f"yhat_lo_{lv:g}"], extra[f"yhat_hi_{lv:g}"] = bands[lv]
        for p, lv in central.items():
            extra[f"yhat_q{p:g}"] = bands[lv][p > 0.5] if lv else forecasts
        bad = np.flatnonzero(~(np.isfinite(forecasts) & (np.abs(forecasts) < _OVERFLOW)).all(axis=1))
        if len(bad):
            raise RuntimeError(f"the model produced non-finite or overflowing (>= {_OVERFLOW:g}) forecasts for "
                               f"{len(bad)} series {[axis.ids[i] for i in bad[:10]]}: a long recursive forecast of "
                               "a growing log-scaled series explodes; ask for a shorter h (a horizon closer to "
                               "the h you need) or use scaler='standard'")
        if self.nonnegative:                            # after the check: a clip must not hide an overflow
            forecasts = np.maximum(forecasts, 0.0)
            extra = {name: np.maximum(values, 0.0) for name, values in extra.items()}
        return to_output(axis, forecasts, extra, id_col=self.id_col, time_col=self.time_col)

    def _future_channels(self, axis, h: int, rows: int, future) -> np.ndarray | None:
        """(n * rows, n_future) unscaled future channels of the ``rows`` points after each series' end:
        the future frame's values (the seq2seq decoder needs only the first ``h``: it is causal, and
        its later inputs are 0) and the calendar features."""
        enc = self.covariates_
        if not enc.future:
            if future is not None:
                raise ValueError("future= was given, but the model was fit without future_covariates")
            return enc.future_channels(axis, rows, None) if enc.calendar else None
        need = h if self.head == "seq2seq" else rows
        if future is None:
            raise ValueError(f"the model reads the future covariates {list(enc.future)}: predict needs future=, a "
                             f"long frame ({self.id_col!r}, {self.time_col!r}, {', '.join(map(repr, enc.future))}) "
                             f"with their values at the {need} time stamps after each series' end")
        return enc.future_channels(axis, rows, future_rows(future, axis, need, enc.future, self.id_col, self.time_col))

    def _forecast_normalised(self, state: SeriesStore, h: int, rows: int, future: np.ndarray | None) -> np.ndarray:
        """(n_series, h) forecasts of the adjusted, scaled series: the network recursively, ``horizon``
        steps at a time, in chunks of series, each round gathered from the store extended by the
        forecast points (and their future covariates); the naive rule for series too short for it."""
        H = self.horizon_
        layout = self._layout()
        n = len(state)
        out = np.empty((n, h))
        naive = (state.n_obs < self._min_inputs()) | state.constant    # too short, or nothing to learn from
        if naive.any():
            out[naive] = state.z[state.offsets[1:][naive] - 1][:, None]
        ahead = state.extend(rows, layout.n_past, future)
        tail = state.lengths
        network = np.flatnonzero(~naive)
        for start in range(0, len(network), _PREDICT_CHUNK):
            series = network[start:start + _PREDICT_CHUNK]
            first = ahead.offsets[series] + tail[series]           # row of each series' first forecast
            done = 0
            while done < h:
                s = gather_samples(ahead, series, tail[series] + done + H, layout, targets=False)
                statistical = curve_forecasts(state.curves[series], done + 1, H) if self.blend_weight_ else None
                pred = self._blended(self._network_predict(s.x, s.xf) + s.level[:, None], statistical)
                take = min(H, h - done)
                out[series, done:done + take] = pred[:, :take]          # the intervals' centres: unclipped
                if self.nonnegative:                    # the next round reads these points as data: none below 0
                    pred = np.maximum(pred, state.zero_floor(series, done, H))
                ahead.z[first[:, None] + done + np.arange(take)] = pred[:, :take]
                done += take
        return out

    # ----------------------------------------------------------------------------------------------
    def plot(self, y, h: int | None = None, level=(80, 95), future=None, series=None, max_series: int = 4):
        """Forecast ``h`` steps (default ``horizon_``) after the history ``y`` and draw it with its
        interval fan (``tsrnn.plot.forecast``, the ``plot`` extra). ``y`` is the data given to ``fit``
        or new series; ``level`` the fan's levels (``None``: the line only); ``future`` as for
        ``predict``. Returns the matplotlib Figure.

        Example
        -------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd
        >>> from tsrnn import Forecaster
        >>> y = pd.Series(np.sin(np.arange(96) / 2), index=pd.date_range("2020-01-01", periods=96, freq="D"))
        >>> model = Forecaster(hidden_size=8, horizon=7, max_epochs=3, random_state=0, progress=False).fit(y)
        >>> fig = model.plot(y)
        >>> fig.savefig("forecast.png")  # doctest: +SKIP
        """
        from .plot import forecast as draw

        self._check_is_fitted("networks_")
        fc = self.predict(self.horizon_ if h is None else h, y=y, level=level, future=future)
        return draw(y, fc, series=series, max_series=max_series, id_col=self.id_col, time_col=self.time_col,
                    target_col=self.target_col)

    def plot_training(self):
        """Train and validation loss per epoch of each ensemble member, the kept epoch marked
        (``tsrnn.plot.training_curves``). Returns the matplotlib Figure.

        Example
        -------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import numpy as np
        >>> from tsrnn import Forecaster
        >>> model = Forecaster(hidden_size=8, max_epochs=3, random_state=0, progress=False)
        >>> fig = model.fit(np.sin(np.arange(80) / 3)).plot_training()
        >>> fig.axes[0].get_ylabel()
        'loss (normalised units)'
        """
        from .plot import training_curves

        self._check_is_fitted("networks_")
        return training_curves(self)

    def save(self, path) -> None:
        """Write the fitted model to the directory ``path``: ``model.json`` (parameters, fitted settings,
        time axis) and ``weights.npz`` (network weights, interval calibration, the series store's tail), as
        one unit.
        No pickle anywhere (``tsrnn/persistence.py``)."""
        self._check_is_fitted("networks_")
        save_forecaster(self, path)

    @classmethod
    def load(cls, path) -> "Forecaster":
        """Load a model written by :meth:`save` (``np.load(allow_pickle=False)`` + JSON); a corrupt or
        foreign directory is a ValueError."""
        return load_forecaster(cls, path)


def _resolve_device(device: str) -> str:
    """"auto": the GPU when one is usable, else the CPU; "cuda": the GPU or a clear error."""
    if device == "cpu":
        return "cpu"
    from .kernels.cuda import unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return "cuda"
    if device == "auto":
        return "cpu"
    raise RuntimeError(f"device='cuda' was requested but {reason}; use device='cpu' or 'auto'")
