"""tsrnn: recurrent-network forecasting on its own Numba kernels.

Importing tsrnn is cheap: numba, pandas and statsmodels load only when a name that needs them is
first used.
"""
from __future__ import annotations

import importlib

from . import _config  # noqa: F401  (chooses the numba cache directory before any kernel is defined)

__version__ = "0.4.0"

_LAZY = {
    "Forecaster": "tsrnn.forecaster",
    "NotFittedError": "tsrnn._base",
    "backtest": "tsrnn.backtesting",
    "BacktestResult": "tsrnn.backtesting",
    "forecast": "tsrnn.pipeline",
    "Naive": "tsrnn.baselines",
    "SeasonalNaive": "tsrnn.baselines",
    "Naive2": "tsrnn.baselines",
    "SES": "tsrnn.baselines",
    "ARIMA": "tsrnn.baselines",
    "AutoARIMA": "tsrnn.baselines",
    "ARIMAX": "tsrnn.baselines",
    "ETS": "tsrnn.baselines",
    "Theta": "tsrnn.baselines",
    "Network": "tsrnn.network",
    "Adam": "tsrnn.optim",
    "SGD": "tsrnn.optim",
}

# loaded on first use (cluster: the dask extra, plot: matplotlib)
_SUBMODULES = ("cluster", "datasets", "plot", "warmup")

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"tsrnn.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tsrnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
