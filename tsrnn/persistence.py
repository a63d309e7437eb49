"""Saving and loading a fitted Forecaster, and the atomic file writes the CLI uses too.

A saved model is a directory with two files, written as one unit (a temporary directory renamed into
place, so that ``model.json`` and ``weights.npz`` always belong together):

* ``model.json``: the format name and version, the estimator's parameters, its fitted settings, the
  network shape, the fallback series, the time axis of the fitted series (ids, frequency, kind) and
  the covariate encoding (kinds, categories, calendar features, static scaling);
* ``weights.npz`` (``np.savez``, read with ``allow_pickle=False``): the network weights, the calibration
  scores and the interval unit's coefficients (``intervals.ErrorScale``), the series store's tail (the
  last ``window`` prepared points and covariate channels, offsets, per-series scaling, seasonal
  indices, statistical forecast curves and interval statistics, full lengths) plus each series' last
  time stamp as integers.

``model.json`` carries a format version and, for every array of ``weights.npz``, its shape, dtype and
sha256, so the two files cannot be a mismatched pair. ``load`` refuses, with a ValueError saying which: a
missing, truncated or altered file, a newer format, unknown or missing keys, and sizes or shapes that do
not fit together (checked before anything is allocated). Nothing is pickled, so nothing can be executed
on load, and no key of the file becomes an attribute by name.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import __version__
from .data import Axis, id_values
from .intervals import RECENT, ROUNDS, ErrorScale
from .network import Network
from .store import SeriesStore

__all__ = ["save_forecaster", "load_forecaster", "atomic_write"]

FORMAT = "tsrnn-forecaster"
FORMAT_VERSION = 18                  # 1: tsrnn 0.1 (per-series dicts); 2: the series store, checksums; 3: covariates;
                                     # 4: the store's fitted interval error scale; 5: the resolved scaler_;
                                     # 6: the Theta blend (the store's lines, theta_weight_); 7: the interval
                                     # unit model (error_scale_, the store's step and in-sample errors);
                                     # 8: the unit's history and recent-spread features (the store's recent spreads);
                                     # 9: the Theta + damped-trend blend (the store's curves, blend_weight_);
                                     # 10: the unit's phase-ratio feature (the store's phase ratios);
                                     # 11: retrain (the parameter, retrained_);
                                     # 12: the blend's chosen partner (blend_; blend="auto", "ets");
                                     # 13: the recursion rounds' drift errors (the store's round errors),
                                     # the unit's feature bounds (scale_bounds);
                                     # 14: intermittent series calibrated apart (the store's zero shares,
                                     # residual_groups_); 15: each fit's own step bias (the scores divided
                                     # by their step factor, the unit's intercepts moved by its own);
                                     # 16: signed scores (residuals_: each intermittent tail its own quantile);
                                     # 17: the names of a Series' or wide frame's index (the axis' index_names);
                                     # 18: the misjudged series' calibration group (interval_groups_)
_KEYS = {"format", "format_version", "version", "params", "fitted", "network", "fallbacks", "axis", "covariates",
         "arrays"}
_MODEL_FILES = ("model.json", "weights.npz")     # all that a model directory holds
_FITTED = {"horizon_", "window_", "scaler_", "blend_", "blend_weight_", "best_epoch_", "loss_history_", "retrained_"}
_NETWORK = {"cell", "input_size", "hidden_size", "num_layers", "bidirectional", "dropout", "output_size", "head",
            "future_size"}
_STORE = ("z", "offsets", "log", "shift", "scale", "seasonal", "n_obs", "x", "x_center", "x_scale", "static",
          "spread", "step_error", "insample_error", "curves", "recent_spread", "phase_ratio", "round_error",
          "zero_share")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``target`` (never half-written). The
    file gets the permissions the user's umask gives a new file (``mkstemp`` alone would leave 0600)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _json_id(value):
    """An id or name as JSON: numbers, strings, bools and None as they are; a time stamp or a tuple
    tagged, so that ``_id_from`` gives back the same object; anything else is a clear error."""
    import pandas as pd

    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, pd.Timestamp):
        return {"timestamp": value.isoformat()}
    if isinstance(value, tuple):
        return {"tuple": [_json_id(v) for v in value]}
    raise ValueError(f"cannot save a model whose series ids or name include {value!r} "
                     f"(type {type(value).__name__}); use strings, numbers, time stamps or tuples of them")


def _id_from(value):
    import pandas as pd

    if isinstance(value, dict):
        if set(value) == {"timestamp"}:
            return pd.Timestamp(value["timestamp"])
        if set(value) == {"tuple"}:
            return tuple(_id_from(v) for v in value["tuple"])
        raise ValueError(f"unknown id encoding {value!r}")
    return value


def _ids_from(values: list) -> np.ndarray:
    """Saved series ids back as an object array (one id per entry, tuples included)."""
    ids = np.empty(len(values), dtype=object)
    ids[:] = [_id_from(v) for v in values]
    return ids


def _axis_meta(axis: Axis) -> tuple[dict, np.ndarray]:
    meta = {"ids": [_json_id(i) for i in axis.ids], "kind": axis.kind, "time_kind": axis.time_kind,
            "name": _json_id(axis.name), "index_names": [_json_id(n) for n in axis.index_names]}
    if axis.time_kind == "datetime":
        meta.update(step=axis.step.freqstr, unit=axis.last.unit, tz=None if axis.last.tz is None else str(axis.last.tz))
        return meta, np.asarray(axis.last.asi8, dtype=np.int64)
    if axis.time_kind == "period":
        meta.update(step=1, freq=axis.last.freqstr)
        return meta, np.asarray(axis.last.asi8, dtype=np.int64)
    meta.update(step=int(axis.step))
    return meta, np.asarray(axis.last, dtype=np.int64)


def _axis_from(meta: dict, last: np.ndarray) -> Axis:
    import pandas as pd

    kind = meta["time_kind"]
    if kind == "datetime":
        stamps = pd.DatetimeIndex(last.view(f"M8[{meta['unit']}]"))
        if meta["tz"] is not None:
            stamps = stamps.tz_localize("UTC").tz_convert(meta["tz"])
        step = pd.tseries.frequencies.to_offset(meta["step"])
    elif kind == "period":
        stamps, step = pd.PeriodIndex.from_ordinals(last, freq=meta["freq"]), 1
    elif kind == "integer":
        stamps, step = last, int(meta["step"])
    else:
        raise ValueError(f"unknown time kind {kind!r}")
    names = meta["index_names"]
    if not (isinstance(names, list) and len(names) == 2):
        raise ValueError(f"the axis' index_names must be a list of two names, got {names!r}")
    return Axis(_ids_from(meta["ids"]), stamps, step, meta["kind"], kind, _id_from(meta["name"]),
                tuple(_id_from(n) for n in names))


def _digest(a: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save_forecaster(model, path) -> None:
    """Write a fitted Forecaster to the directory ``path``. An earlier model there is replaced as a whole;
    a file, or a directory holding anything else, is left alone and is a ValueError."""
    path = Path(path)
    _check_replaceable(path)
    net = model.networks_[0]
    axis_meta, last = _axis_meta(model.panel_)
    state = model.state_
    scale = model.error_scale_
    arrays = {"params": np.stack([n.params for n in model.networks_]), "residuals": model.residuals_,
              "residual_groups": model.residual_groups_, "interval_groups": model.interval_groups_, "last": last,
              "scale_intercepts": scale.intercepts, "scale_slopes": scale.slopes,
              "scale_centers": np.array([scale.insample_fill, scale.spread_center]), "scale_bounds": scale.bounds,
              **{f"store_{k}": getattr(state, k) for k in _STORE}}
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__, "params": model.get_params(),
        "fitted": {"horizon_": model.horizon_, "window_": model.window_, "scaler_": model.scaler_,
                   "blend_": model.blend_, "blend_weight_": model.blend_weight_,
                   "best_epoch_": model.best_epoch_,
                   "loss_history_": model.loss_history_,
                   "retrained_": model.retrained_},
        "network": {"cell": net.cell, "input_size": net.input_size, "hidden_size": net.hidden_size,
                    "num_layers": net.num_layers, "bidirectional": net.bidirectional, "dropout": net.dropout,
                    "output_size": net.output_size, "head": net.head, "future_size": net.future_size},
        # the ids under "unique_id" whatever the model's id_col (the file's own name for them)
        "fallbacks": {k: [_json_id(v) for v in column]
                      for k, column in model.fallbacks_.rename(columns={model.id_col: "unique_id"}).items()},
        "axis": axis_meta,
        "covariates": model.covariates_.to_json(),
        "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _digest(a)} for k, a in arrays.items()},
    }
    text = json.dumps(meta, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        (tmp / "model.json").write_text(text)
        np.savez(tmp / "weights.npz", **arrays)
        os.chmod(tmp, 0o777 & ~_umask())            # mkdtemp makes 0700; a saved model follows the umask
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _check_replaceable(path: Path) -> None:
    """``path`` may be written: it does not exist, or it is an empty directory or a saved model's (no
    other files, which replacing it would delete)."""
    if path.is_symlink():
        raise ValueError(f"cannot save the model to {path}: it is a symbolic link; save to the directory it "
                         "points to, or choose another path")
    if not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"cannot save the model to {path}: it is a file, not a model directory; "
                         "choose another path or remove it")
    others = sorted(p.name for p in path.iterdir() if p.name not in _MODEL_FILES)
    if others:
        listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise ValueError(f"cannot save the model to {path}: the directory holds other files ({listed}), which "
                         "replacing it would delete; choose another path or remove them")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def load_forecaster(cls, path):
    """Load a model written by :func:`save_forecaster` (``np.load(allow_pickle=False)`` + JSON)."""
    path = Path(path)
    try:
        meta = json.loads((path / "model.json").read_text())
    except (FileNotFoundError, NotADirectoryError):
        raise ValueError(f"{path} is not a saved tsrnn model (no model.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path / 'model.json'} is corrupt: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path / 'model.json'} is not a tsrnn Forecaster file")
    if str(meta.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
        raise ValueError(f"{path} was saved by tsrnn {meta.get('version')}; this is tsrnn {__version__}: "
                         "refit the model with this version")
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ValueError(f"{path} has model format {version}, newer than this tsrnn reads ({FORMAT_VERSION}): "
                         "upgrade tsrnn")
    if isinstance(version, int) and not isinstance(version, bool) and 1 <= version < FORMAT_VERSION:
        raise ValueError(f"{path} has model format {version}, older than this tsrnn reads ({FORMAT_VERSION}): "
                         "refit the model and save it again")
    try:
        model = _load_checked(cls, path, meta)
    except (KeyError, TypeError, ValueError, OSError, IndexError, EOFError, OverflowError) as exc:
        raise ValueError(f"{path} is corrupt or incomplete: {type(exc).__name__}: {str(exc)[:300]}") from None
    except Exception as exc:  # noqa: BLE001 - zipfile.BadZipFile and friends: a corrupt file, said so
        raise ValueError(f"{path} is corrupt or incomplete: {type(exc).__name__}: {str(exc)[:300]}") from None
    return model


def _load_checked(cls, path, meta):
    import pandas as pd

    _require(set(meta) == _KEYS, f"model.json has unknown keys {sorted(set(meta) - _KEYS)} or lacks "
                                 f"{sorted(_KEYS - set(meta))}")
    _require(meta["format_version"] == FORMAT_VERSION, f"unknown model format {meta['format_version']!r}")
    fitted, network = meta["fitted"], meta["network"]
    _require(isinstance(fitted, dict) and set(fitted) == _FITTED, f"'fitted' must have exactly the keys {sorted(_FITTED)}")
    _require(isinstance(network, dict) and set(network) == _NETWORK,
             f"'network' must have exactly the keys {sorted(_NETWORK)}")
    listed = meta["arrays"]
    weights = path / "weights.npz"
    _require(weights.is_file(), "weights.npz is missing")
    # numpy reads a file that is not a zip archive as a pickle, and its refusal suggests unpickling it
    with open(weights, "rb") as head:
        archive = head.read(4) == b"PK\x03\x04" and zipfile.is_zipfile(weights)   # its start, its directory
    _require(archive, "weights.npz is not a NumPy .npz archive (overwritten or truncated)")
    with np.load(weights, allow_pickle=False) as npz:
        _require(set(npz.files) == set(listed), "weights.npz and model.json list different arrays: "
                                                "they do not belong together")
        arrays = {k: npz[k] for k in npz.files}
    for name, a in arrays.items():
        want = listed[name]
        _require(list(a.shape) == want["shape"] and a.dtype.str == want["dtype"] and _digest(a) == want["sha256"],
                 f"array {name!r} of weights.npz is not the one model.json describes (altered, truncated or "
                 "from another save)")
    from .covariates import Encoding

    model = cls(**meta["params"])
    model._check_params()
    encoding = Encoding.from_json(meta["covariates"])
    horizon, window = fitted["horizon_"], fitted["window_"]
    state = SeriesStore(*(arrays[f"store_{k}"] for k in _STORE))
    n = len(state.n_obs)
    # sizes that must fit together, checked before the networks are allocated
    from .network import parameter_count

    C, S = encoding.n_past + encoding.n_future, encoding.n_static
    _require(network["input_size"] == 2 + C + S and network["future_size"] == encoding.n_future,
             "the network's inputs do not match the covariates")
    _require(state.x.shape == (len(state.z), C) and state.x_center.shape == state.x_scale.shape == (n, C)
             and state.static.shape == (n, S), "the series store's covariate channels have the wrong shape")
    size = parameter_count(network["cell"], network["input_size"], network["hidden_size"], network["output_size"],
                           network["num_layers"], network["bidirectional"], network["head"], network["future_size"])
    _require(arrays["params"].ndim == 2 and arrays["params"].shape[1] == size
             and len(arrays["params"]) == model.ensemble_size,
             f"the weights ({arrays['params'].shape}) do not fit the network described ({model.ensemble_size} x {size})")
    _require(isinstance(horizon, int) and horizon == network["output_size"], "horizon_ does not match the network")
    _require(isinstance(window, int) and 1 <= window <= max(1, int(state.n_obs.max(initial=1))),
             f"window_={window!r} does not fit the series")
    offsets = state.offsets
    _require(len(offsets) == n + 1 and offsets[0] == 0 and offsets[-1] == len(state.z)
             and (np.diff(offsets) >= 1).all() and (np.diff(offsets) <= window).all()
             and (np.diff(offsets) <= state.n_obs).all(), "the series store's offsets are inconsistent")
    _require(len(state.log) == len(state.shift) == len(state.scale) == len(state.seasonal) == len(state.spread)
             == len(state.insample_error) == n
             and state.seasonal.ndim == 2 and state.seasonal.shape[1] == max(1, model.season_length),
             "the series store's per-series arrays disagree in length")
    _require(state.step_error.shape == (n, horizon) and state.recent_spread.shape == (n, len(RECENT))
             and state.phase_ratio.shape == (n, max(1, model.season_length))
             and state.round_error.shape == (n, ROUNDS - 1)
             and arrays["scale_intercepts"].shape == (horizon,)
             and arrays["scale_slopes"].shape == (ErrorScale.FEATURES,) and arrays["scale_centers"].shape == (2,)
             and arrays["scale_bounds"].shape == (2, ErrorScale.FEATURES),
             "the interval unit's arrays have the wrong shape")
    _require(state.curves.shape == (n, 4), "the series store's blend curves have the wrong shape")
    weight, partner = fitted["blend_weight_"], fitted["blend_"]
    _require(isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= weight < 1,
             f"blend_weight_={weight!r} is not a blend weight")
    _require((partner is None) == (weight == 0) and (partner is None or partner in model._partners()),
             f"blend_={partner!r} with blend_weight_={weight!r} is not a blend that blend={model.blend!r} "
             "can have chosen")
    _require(arrays["residuals"].ndim == 2 and arrays["residuals"].shape[1] == horizon, "residuals have the wrong shape")
    _require(arrays["residual_groups"].shape == (len(arrays["residuals"]),) and state.zero_share.shape == (n,)
             and arrays["interval_groups"].shape == (n,), "the intervals' calibration groups have the wrong shape")
    _require(len(meta["axis"]["ids"]) == n == len(arrays["last"]), "the time axis and the store disagree in length")
    chosen = ("window", "steps") if model.scaler == "auto" else (model.scaler,)
    _require(fitted["scaler_"] in chosen, f"scaler_={fitted['scaler_']!r} is not a scaler that scaler="
             f"{model.scaler!r} can have chosen")
    model.horizon_, model.window_, model.scaler_ = horizon, window, fitted["scaler_"]
    model.history_limit_ = model._history_limit()            # from the parameters, as fit resolved it
    model.blend_, model.blend_weight_ = partner, float(weight)
    model.best_epoch_, model.loss_history_ = list(fitted["best_epoch_"]), list(fitted["loss_history_"])
    _require(isinstance(fitted["retrained_"], bool), f"retrained_={fitted['retrained_']!r} is not True or False")
    model.retrained_ = fitted["retrained_"]
    model.device_ = model._device(loading=True)
    model.networks_ = []
    for params in arrays["params"]:
        net = Network(seed=0, n_threads=model._threads(), device=model.device_, **network)
        net.params = params
        model.networks_.append(net)
    model.residuals_ = arrays["residuals"]
    model.residual_groups_ = arrays["residual_groups"]
    model.interval_groups_ = arrays["interval_groups"]
    model.error_scale_ = ErrorScale(arrays["scale_intercepts"], arrays["scale_slopes"],
                                    *map(float, arrays["scale_centers"]), arrays["scale_bounds"])
    model.covariates_ = encoding
    model.state_ = state
    model.panel_ = _axis_from(meta["axis"], arrays["last"])
    fallbacks = meta["fallbacks"]
    model.fallbacks_ = pd.DataFrame({**fallbacks, "unique_id": id_values(_ids_from(fallbacks["unique_id"]))}
                                    ).rename(columns={"unique_id": model.id_col})
    return model
