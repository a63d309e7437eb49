"""Saving and loading a fitted Forecaster, and the atomic file writes the CLI uses too.

A saved model is a directory with two files, written as one unit (a temporary directory renamed into
place, so that ``model.json`` and ``weights.npz`` always belong together):

* ``model.json``: the format name and version, the estimator's parameters, its fitted settings, the
  network shape, the fallback series and the time axis of the fitted series (ids, frequency, kind);
* ``weights.npz`` (``np.savez``, read with ``allow_pickle=False``): the network weights, the calibration
  residuals and the series store's tail (the last ``window`` prepared points, offsets, per-series
  scaling and seasonal indices, full lengths) plus each series' last time stamp as integers.

Nothing is pickled, so nothing can be executed on load.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .data import Axis
from .network import Network
from .store import SeriesStore

__all__ = ["save_forecaster", "load_forecaster", "atomic_write"]

FORMAT = "tsrnn-forecaster"
_STORE = ("z", "offsets", "log", "shift", "scale", "seasonal", "n_obs")


def atomic_write(target: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``target`` (never half-written)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
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


def _axis_meta(axis: Axis) -> tuple[dict, np.ndarray]:
    meta = {"ids": [_json_id(i) for i in axis.ids], "kind": axis.kind, "time_kind": axis.time_kind,
            "name": _json_id(axis.name)}
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
    ids = np.empty(len(meta["ids"]), dtype=object)
    ids[:] = [_id_from(i) for i in meta["ids"]]
    return Axis(ids, stamps, step, meta["kind"], kind, _id_from(meta["name"]))


def save_forecaster(model, path) -> None:
    """Write a fitted Forecaster to the directory ``path`` (replaced as a whole if it exists)."""
    path = Path(path)
    net = model.networks_[0]
    axis_meta, last = _axis_meta(model.panel_)
    meta = {
        "format": FORMAT, "version": __version__, "params": model.get_params(),
        "fitted": {"horizon_": model.horizon_, "window_": model.window_, "best_epoch_": model.best_epoch_,
                   "loss_history_": model.loss_history_},
        "network": {"cell": net.cell, "hidden_size": net.hidden_size, "num_layers": net.num_layers,
                    "bidirectional": net.bidirectional, "dropout": net.dropout, "output_size": net.output_size,
                    "head": net.head},
        "fallbacks": {k: [_json_id(v) for v in model.fallbacks_[k]] for k in model.fallbacks_.columns},
        "axis": axis_meta,
    }
    state = model.state_
    arrays = {"params": np.stack([n.params for n in model.networks_]), "residuals": model.residuals_, "last": last,
              **{f"store_{k}": getattr(state, k) for k in _STORE}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        (tmp / "model.json").write_text(json.dumps(meta, indent=1))
        np.savez(tmp / "weights.npz", **arrays)
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


def load_forecaster(cls, path):
    """Load a model written by :func:`save_forecaster` (``np.load(allow_pickle=False)`` + JSON)."""
    import pandas as pd

    path = Path(path)
    try:
        meta = json.loads((path / "model.json").read_text())
    except (FileNotFoundError, NotADirectoryError):
        raise ValueError(f"{path} is not a saved tsrnn model (no model.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path / 'model.json'} is corrupt: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path / 'model.json'} is not a tsrnn Forecaster file")
    if str(meta.get("version", "")).split(".")[:2] != __version__.split(".")[:2]:
        raise ValueError(f"{path} was saved by tsrnn {meta.get('version')}; this is tsrnn {__version__}: "
                         "refit the model with this version")
    try:
        with np.load(path / "weights.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        model = cls(**meta["params"])
        model._check_params()
        fitted = meta["fitted"]
        model.horizon_, model.window_ = int(fitted["horizon_"]), int(fitted["window_"])
        model.best_epoch_, model.loss_history_ = list(fitted["best_epoch_"]), list(fitted["loss_history_"])
        model.device_ = model._device(loading=True)
        model.networks_ = []
        for params in arrays["params"]:
            net = Network(input_size=2, seed=0, n_threads=model._threads(), device=model.device_, **meta["network"])
            net.params = params
            model.networks_.append(net)
        model.residuals_ = arrays["residuals"]
        model.state_ = SeriesStore(*(arrays[f"store_{k}"] for k in _STORE))
        model.panel_ = _axis_from(meta["axis"], arrays["last"])
        model.fallbacks_ = pd.DataFrame({k: [_id_from(v) for v in vals] if k == "unique_id" else vals
                                         for k, vals in meta["fallbacks"].items()})
        if not (len(model.panel_.ids) == len(model.state_) == len(model.state_.n_obs)):
            raise ValueError("the series store and the time axis disagree in length")
    except (KeyError, TypeError, ValueError, OSError, IndexError, EOFError) as exc:
        raise ValueError(f"{path} is corrupt or incomplete: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - zipfile.BadZipFile and friends: a corrupt file, said so
        raise ValueError(f"{path} is corrupt or incomplete: {type(exc).__name__}: {exc}") from None
    return model
