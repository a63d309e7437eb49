"""The Forecaster: ``Forecaster().fit(series).predict(h)`` with an RNN/GRU/LSTM on tsrnn's kernels.

One global model is trained across all the series given to ``fit`` (one series is a panel of one).
What the default does, step by step (see ``tsrnn/preprocessing.py`` and ``docs/forecaster.md``):

1. each series is log-transformed when strictly positive (else standardised), and, when
   ``season_length`` > 1 and the series is seasonal by M4's test, seasonally adjusted;
2. it is cut into sliding samples of ``window`` inputs and ``horizon`` targets, each centred on its
   own level (mean of its last season), left-padded (with a "padded" input channel) when the series
   is short;
3. the end of every long-enough series is held out (up to ``horizon`` windows whose targets lie in its
   last 2 * horizon - 1 points) for early stopping (the best weights are restored) and for calibrating
   the prediction intervals;
4. the network reads the window and emits all ``horizon`` steps at once (a direct multi-output head),
   trained on the mean absolute error of the normalised values with Adam and gradient clipping;
5. two such networks (an LSTM with 32 units each), seeded differently, are trained and their forecasts
   averaged.

Forecasts longer than ``horizon`` are made recursively, ``horizon`` steps at a time.
"""
from __future__ import annotations

import json
import numbers
import os
from pathlib import Path

import numpy as np

from . import __version__
from ._base import BaseEstimator, NotFittedError
from ._progress import Progress
from ._validation import check_positive_int
from .data import FILLS, Panel, to_output, to_panel
from .kernels.spec import SPECS
from .network import HEADS, LOSSES, Network
from .optim import Adam
from .preprocessing import (SCALERS, SeriesScaler, last_inputs, seasonal_component, seasonal_indices,
                            window_level, windows)

__all__ = ["Forecaster", "NotFittedError"]

_FORMAT = "tsrnn-forecaster"


class Forecaster(BaseEstimator):
    """Recurrent-network forecaster for one or many series.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}
    hidden_size, num_layers, bidirectional, dropout : network shape (dropout between layers)
    head : {"direct", "seq2seq"}, default "direct"
        "direct": one linear map from the last hidden state to all ``horizon`` outputs. "seq2seq": an
        encoder-decoder, the decoder unrolled over the horizon (unidirectional encoders, CPU only).
    ensemble_size : int
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
    scaler : {"window", "standard", "minmax", "robust", None}, default "window"
        Per-series scaling; "window" = log (or standardise) + per-sample level normalisation.
    deseasonalize : bool, default True
        Remove classical seasonal indices first (when season_length > 1 and the series is seasonal).
    loss : {"mae", "mse"}, default "mae"
    max_epochs, batch_size, learning_rate, clip_norm : training loop. An epoch visits at most
        ``samples_per_epoch`` samples, drawn at random.
    early_stopping : int or None, default 10
        Patience in epochs on the held-out last horizon of each series; None or 0 disables it.
    random_state : int or None
        Seed for initial weights, sample order and dropout. The same seed gives bit-identical
        forecasts (with the same ``n_threads``).
    device : {"cpu", "cuda", "auto"}, default "cpu"
        "cuda" trains on an NVIDIA GPU (``pip install tsrnn[cuda]``) and raises a clear error when none
        is usable; "auto" takes the GPU when there is one, else the CPU, silently.
    n_threads : int or None (all cores)
    progress : bool, default True
        A progress line on stderr while training; ``False`` prints nothing at all.
    freq : pandas frequency for datetime inputs whose frequency cannot be inferred.
    fill : None (NaN is an error), "ffill", "interpolate" or "zero".
    id_col, time_col, target_col : column names of a long DataFrame.

    Fitted attributes: ``networks_`` (the trained networks, ``ensemble_size`` of them), ``horizon_``,
    ``window_``, ``history_`` (per-series state), ``loss_history_`` and ``best_epoch_`` (per network: train
    and validation loss per epoch, the epoch whose weights were kept), ``residuals_``.

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
                 scaler: str | None = "window", deseasonalize: bool = True, loss: str = "mae",
                 max_epochs: int = 100, samples_per_epoch: int = 4096, batch_size: int = 128,
                 learning_rate: float = 3e-3, clip_norm: float | None = 1.0, early_stopping: int | None = 10,
                 stride: int = 1, random_state: int | None = None, device: str = "cpu", n_threads: int | None = None,
                 progress: bool = True, freq: str | None = None, fill: str | None = None,
                 id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y"):
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
        self.loss = loss
        self.max_epochs = max_epochs
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clip_norm = clip_norm
        self.early_stopping = early_stopping
        self.stride = stride
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress
        self.freq = freq
        self.fill = fill
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # ----------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.cell not in SPECS:
            raise ValueError(f"cell must be one of {sorted(SPECS)}, got {self.cell!r}")
        for name in ("hidden_size", "num_layers", "ensemble_size", "season_length", "max_epochs", "samples_per_epoch",
                     "batch_size", "stride"):
            check_positive_int(name, getattr(self, name))
        for name in ("window", "horizon", "n_threads"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler must be one of {SCALERS}, got {self.scaler!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {self.fill!r}")
        es = self.early_stopping
        if es is not None and (isinstance(es, bool) or not isinstance(es, numbers.Integral) or es < 0):
            raise ValueError(f"early_stopping must be a non-negative integer (patience in epochs) or None, got {es!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.clip_norm is not None and (not isinstance(self.clip_norm, numbers.Real) or not self.clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number or None, got {self.clip_norm!r}")

    def _read(self, y) -> Panel:
        return to_panel(y, self.id_col, self.time_col, self.target_col, self.freq, self.fill)

    # ----------------------------------------------------------------------------------------------
    # per-series preparation (shared by fit and predict on new series)
    def _prepare(self, values: np.ndarray) -> dict:
        scaler = SeriesScaler.fit(values, self.scaler)
        z = scaler.transform(values)
        m = self.season_length
        seas = seasonal_indices(z, m) if (self.deseasonalize and m > 1) else np.zeros(m)
        return {"scaler": scaler, "seasonal": seas, "n": len(values), "z": z - seasonal_component(seas, 0, len(z))}

    def _level_span(self) -> int:
        return min(self.season_length, self.window_) if self.scaler == "window" else 0

    def _inputs(self, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples (N, window) -> network input (window, N, 2) and the level (N, 1) to add back."""
        span = self._level_span()
        level = window_level(x, span) if span else np.zeros((len(x), 1))
        net_in = np.stack([x - level, mask], axis=-1).transpose(1, 0, 2)
        return np.ascontiguousarray(net_in, dtype=np.float32), level

    def _min_inputs(self) -> int:
        return min(self.window_, max(2, self.season_length))

    # ----------------------------------------------------------------------------------------------
    def fit(self, y) -> "Forecaster":
        """Train one network on every series in ``y`` (Series, 1-D array, long or wide DataFrame)."""
        self._check_params()
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)                       # a new fit forgets the previous one
        panel = self._read(y)
        m = self.season_length
        self.horizon_ = self.horizon or max(m, 1)
        lengths = np.array([len(v) for v in panel.values])
        desired = self.window or max(2 * self.horizon_, 3 * m, 4)
        self.window_ = desired
        needed = self.horizon_ + self._min_inputs()
        too_short = [uid for uid, n in zip(panel.ids, lengths) if n < needed]
        if too_short:
            raise ValueError(f"{len(too_short)} series are too short: with horizon={self.horizon_} each needs at "
                             f"least {needed} points; too short: {too_short[:10]}{' ...' if len(too_short) > 10 else ''}")
        if self.window is None:                       # don't pad every series: cap by the longest one
            self.window_ = int(max(self._min_inputs(), min(desired, lengths.max() - self.horizon_)))

        prepared = [self._prepare(v) for v in panel.values]
        train, val = self._samples(prepared)
        if train is None:
            raise ValueError("no training samples: the series are too short for this window and horizon")
        rng = np.random.default_rng(self.random_state)
        self.device_ = _resolve_device(self.device)
        self.networks_, self.loss_history_, self.best_epoch_ = [], [], []
        for _ in range(self.ensemble_size):
            net = _network_class(self.device_)(self.cell, 2, self.hidden_size, self.horizon_,
                                               num_layers=self.num_layers, bidirectional=self.bidirectional,
                                               dropout=self.dropout, seed=int(rng.integers(2**31)),
                                               n_threads=self.n_threads or os.cpu_count() or 1, head=self.head)
            history, best_epoch = self._train(net, train, val, rng)
            self.networks_.append(net)
            self.loss_history_.append(history)
            self.best_epoch_.append(best_epoch)
        self.residuals_ = self._calibration_residuals(val if val is not None else train)
        self.panel_ = panel
        self.history_ = [{"scaler": p["scaler"], "seasonal": p["seasonal"], "n": p["n"],
                          "z": p["z"][-self.window_:]} for p in prepared]
        return self

    def _samples(self, prepared):
        """Training samples, and held-out validation samples taken from the end of every series long
        enough to spare them: up to ``horizon`` windows (stride 1) whose targets all lie in the last
        2 * horizon - 1 points; training samples use only the points before those targets."""
        H, W, need = self.horizon_, self.window_, self._min_inputs()
        tx, ty, tm, vx, vy, vm = [], [], [], [], [], []
        for p in prepared:
            z = p["z"]
            n_val = min(H, len(z) - 2 * H - need + 1) if self.early_stopping else 0
            cut = len(z) - (H + n_val - 1) if n_val > 0 else len(z)
            part = windows(z[:cut], W, H, self.stride, need)
            if part is not None:
                tx.append(part[0]); ty.append(part[1]); tm.append(part[2])
            for origin in range(cut, cut + max(n_val, 0)):        # targets z[origin:origin + H]
                x, mask = last_inputs(z[:origin], W)
                vx.append(x[None]); vy.append(z[None, origin:origin + H]); vm.append(mask[None])
        if not tx:
            return None, None
        train = self._arrays(np.concatenate(tx), np.concatenate(ty), np.concatenate(tm))
        val = self._arrays(np.concatenate(vx), np.concatenate(vy), np.concatenate(vm)) if vx else None
        return train, val

    def _arrays(self, x, y, mask):
        net_in, level = self._inputs(x, mask)
        return net_in, np.ascontiguousarray(y - level, dtype=np.float32)

    def _train(self, net: Network, train, val, rng) -> tuple[dict, int]:
        """Train one network with early stopping; returns its loss history and best epoch."""
        n = train[0].shape[1]
        x, y = net.stage(train[0]), net.stage(train[1])       # on the GPU for the whole fit with device="cuda"
        opt = Adam(lr=float(self.learning_rate))
        per_epoch = min(n, self.samples_per_epoch)
        patience = self.early_stopping or 0
        best, best_params, best_epoch, waited = np.inf, None, 0, 0
        history = {"train": [], "validation": []}
        bar = Progress(self.max_epochs, self.progress, desc=f"tsrnn {self.cell}")
        try:
            for epoch in range(1, self.max_epochs + 1):
                order = rng.permutation(n)[:per_epoch]
                losses = []
                for start in range(0, per_epoch, self.batch_size):
                    xb, yb = net.batch(x, y, np.sort(order[start:start + self.batch_size]))
                    losses.append(net.train_step(xb, yb, opt, self.loss, self.clip_norm))
                train_loss = float(np.mean(losses))
                history["train"].append(train_loss)
                if not np.isfinite(train_loss):
                    if best_params is None:
                        raise RuntimeError(f"training diverged: the loss became {train_loss} at epoch {epoch} "
                                           "before any usable weights; lower learning_rate or set clip_norm")
                    break                             # keep the best weights found so far
                score = train_loss
                if val is not None and patience:
                    score, _ = net.loss(net.predict(val[0]), val[1], self.loss)
                    history["validation"].append(score)
                if score < best:
                    best, best_params, waited, best_epoch = score, net.params.copy(), 0, epoch
                else:
                    waited += 1
                bar.update(epoch, loss=train_loss, **({"val": score} if val is not None and patience else {}))
                if patience and waited >= patience:
                    break
        finally:
            bar.close()
        net.params = best_params
        return history, best_epoch

    def _network_predict(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's mean normalised forecast for network inputs x (T, N, 2) -> (N, horizon)."""
        return np.mean([net.predict(x).astype(np.float64) for net in self.networks_], axis=0)

    def _calibration_residuals(self, samples) -> np.ndarray:
        """|error| per sample and step (N, horizon), in normalised units, on held-out samples."""
        x, y = samples
        return np.abs(self._network_predict(x) - y)

    # ----------------------------------------------------------------------------------------------
    def predict(self, h: int, y=None, level=None):
        """Forecast ``h`` steps after the end of every series.

        h : int >= 1
        y : optional new history (any accepted form) to forecast instead of the series seen in fit; the
            model is not retrained, the series may be ones it has never seen.
        level : optional list of coverage levels in (0, 100), e.g. [80, 95]: adds ``yhat_lo_<l>`` and
            ``yhat_hi_<l>`` (split-conformal intervals from the held-out residuals of fit).

        Returns the input's form: a Series (for a Series or array input) indexed by the next ``h``
        timestamps, or a long DataFrame ``unique_id, ds, yhat`` (wide input: one column per series);
        with ``level`` a DataFrame with the interval columns.
        """
        self._check_is_fitted("networks_")
        h = check_positive_int("h", h)
        levels = self._check_levels(level)
        if y is None:
            panel, states = self.panel_, self.history_
        else:
            panel = self._read(y)
            short = [uid for uid, v in zip(panel.ids, panel.values) if len(v) < self._min_inputs()]
            if short:
                raise ValueError(f"series too short to forecast (need at least {self._min_inputs()} points): {short[:10]}")
            states = [self._prepare(v) for v in panel.values]
        center = self._forecast_normalised(states, h)
        forecasts = [self._to_original(s, c) for s, c in zip(states, center)]
        extra = {}
        for lv in levels:
            q = self._interval_halfwidth(lv, h)
            extra[f"yhat_lo_{lv:g}"] = [self._to_original(s, c - q) for s, c in zip(states, center)]
            extra[f"yhat_hi_{lv:g}"] = [self._to_original(s, c + q) for s, c in zip(states, center)]
        bad = [uid for uid, f in zip(panel.ids, forecasts) if not np.isfinite(f).all()]
        if bad:
            raise RuntimeError(f"the model produced non-finite forecasts for {bad[:10]}; the series may be far "
                               "outside the range seen in training")
        return to_output(panel, forecasts, extra)

    @staticmethod
    def _check_levels(level) -> list[float]:
        if level is None:
            return []
        levels = [level] if isinstance(level, numbers.Real) else list(level)
        for lv in levels:
            if isinstance(lv, bool) or not isinstance(lv, numbers.Real) or not 0 < lv < 100:
                raise ValueError(f"level must be a coverage in (0, 100), e.g. [80, 95]; got {lv!r}")
        return [float(lv) for lv in levels]

    def _forecast_normalised(self, states, h):
        """Run the network recursively, ``horizon`` steps at a time; returns per series the (h,)
        forecast of the seasonally adjusted, scaled series."""
        H, W = self.horizon_, self.window_
        zs = [s["z"] for s in states]
        out = [[] for _ in states]
        done = 0
        while done < h:
            batch = [last_inputs(z, W) for z in zs]
            x = np.stack([b[0] for b in batch])
            mask = np.stack([b[1] for b in batch])
            net_in, lvl = self._inputs(x, mask)
            pred = self._network_predict(net_in) + lvl
            take = min(H, h - done)
            for i in range(len(states)):
                out[i].append(pred[i, :take])
                zs[i] = np.concatenate([zs[i], pred[i, :take]])
            done += take
        return [np.concatenate(o) for o in out]

    def _to_original(self, state, z_adj: np.ndarray) -> np.ndarray:
        seas = seasonal_component(state["seasonal"], state["n"], len(z_adj))
        return state["scaler"].inverse(z_adj + seas)

    def _interval_halfwidth(self, level: float, h: int) -> np.ndarray:
        """Split-conformal half-width per step, in normalised units. The held-out |errors| r_ik (sample
        i, step k) are divided by their step's mean s_k and pooled; with Q the ceil((N+1) level)-th
        smallest of the N pooled values, step k gets s_k * Q. Steps past the network's horizon reuse
        the pattern, widened by sqrt(recursion round)."""
        res = self.residuals_
        scale = res.mean(axis=0) + 1e-12
        pooled = np.sort((res / scale).ravel())
        rank = int(np.ceil((len(pooled) + 1) * level / 100.0))
        if rank > len(pooled):
            raise ValueError(f"level {level:g} needs at least {int(np.ceil(100 / (100 - level))) - 1} held-out "
                             f"errors; fit had {len(pooled)} (longer or more series, or a lower level)")
        steps = np.arange(h)
        return scale[steps % self.horizon_] * pooled[rank - 1] * np.sqrt(steps // self.horizon_ + 1)

    # ----------------------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the fitted model to the directory ``path``: ``model.json`` (parameters, fitted settings,
        per-series state) and ``weights.npz`` (network weights, residuals). No pickle anywhere."""
        self._check_is_fitted("networks_")
        path = Path(path)
        net = self.networks_[0]
        path.mkdir(parents=True, exist_ok=True)
        panel = self.panel_
        meta = {
            "format": _FORMAT, "version": __version__, "params": self.get_params(),
            "fitted": {"horizon_": self.horizon_, "window_": self.window_,
                       "best_epoch_": getattr(self, "best_epoch_", None), "loss_history_": self.loss_history_},
            "network": {"cell": net.cell, "hidden_size": net.hidden_size, "num_layers": net.num_layers,
                        "bidirectional": net.bidirectional, "dropout": net.dropout, "output_size": net.output_size,
                        "head": net.head},
            "panel": {"ids": [_json_id(i) for i in panel.ids], "last": [_json_time(t) for t in panel.last],
                      "step": _json_step(panel), "kind": panel.kind, "time_kind": panel.time_kind,
                      "name": _json_id(panel.name)},
            "series": [{"scaler": s["scaler"].to_dict(), "n": int(s["n"])} for s in self.history_],
        }
        arrays = {"params": np.stack([n.params for n in self.networks_]), "residuals": self.residuals_,
                  "seasonal": np.stack([s["seasonal"] for s in self.history_]),
                  "z": np.concatenate([s["z"] for s in self.history_]),
                  "z_len": np.array([len(s["z"]) for s in self.history_])}
        _atomic_write(path / "model.json", json.dumps(meta, indent=1).encode())
        tmp = path / "weights.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path / "weights.npz")

    @classmethod
    def load(cls, path) -> "Forecaster":
        """Load a model written by :meth:`save` (``np.load(allow_pickle=False)`` + JSON)."""
        import pandas as pd

        path = Path(path)
        try:
            meta = json.loads((path / "model.json").read_text())
        except FileNotFoundError:
            raise ValueError(f"{path} is not a saved tsrnn model (no model.json)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path / 'model.json'} is corrupt: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"{path / 'model.json'} is not a tsrnn Forecaster file")
        if str(meta.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
            raise ValueError(f"{path} was saved by tsrnn {meta.get('version')}; this is tsrnn {__version__}: "
                             "refit the model with this version")
        try:
            with np.load(path / "weights.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            model = cls(**meta["params"])
            for key, value in meta["fitted"].items():
                setattr(model, key, value)
            device = _resolve_device("auto" if model.device != "cpu" else "cpu")
            model.networks_ = []
            for params in arrays["params"]:
                net = _network_class(device)(input_size=2, seed=0, n_threads=model.n_threads or os.cpu_count() or 1,
                                             **meta["network"])
                net.params = params
                model.networks_.append(net)
            model.device_ = device
            model.residuals_ = arrays["residuals"]
            p = meta["panel"]
            step = (pd.tseries.frequencies.to_offset(p["step"]) if p["time_kind"] == "datetime" else int(p["step"]))
            last = [_parse_time(t, p["time_kind"]) for t in p["last"]]
            model.panel_ = Panel(p["ids"], [None] * len(p["ids"]), last, step, p["kind"], p["time_kind"], p["name"])
            ends = np.cumsum(arrays["z_len"])
            model.history_ = [{"scaler": SeriesScaler(**s["scaler"]), "n": s["n"], "seasonal": arrays["seasonal"][i],
                               "z": arrays["z"][ends[i] - arrays["z_len"][i]: ends[i]]}
                              for i, s in enumerate(meta["series"])]
        except (KeyError, TypeError, ValueError, OSError, IndexError) as exc:
            raise ValueError(f"{path} is corrupt or incomplete: {type(exc).__name__}: {exc}") from None
        return model


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


def _network_class(device: str):
    if device == "cuda":
        from .cuda_network import CudaNetwork

        return CudaNetwork
    return Network


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _json_id(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_time(t):
    if isinstance(t, (int, np.integer)):
        return {"int": int(t)}
    import pandas as pd

    if isinstance(t, pd.Period):
        return {"period": str(t), "freq": t.freqstr}
    return {"timestamp": t.isoformat()}


def _parse_time(t: dict, kind: str):
    import pandas as pd

    if "int" in t:
        return int(t["int"])
    if "period" in t:
        return pd.Period(t["period"], freq=t["freq"])
    return pd.Timestamp(t["timestamp"])


def _json_step(panel: Panel):
    return panel.step.freqstr if panel.time_kind == "datetime" else int(panel.step)
