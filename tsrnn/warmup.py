"""Compile the kernels of a fit and a forecast into numba's cache ahead of time (``tsrnn warmup``).

A process's first fit compiles every kernel it runs: 19 s for the default LSTM on the project's 2-core
machine (the 40 demo series, ``max_epochs=2``), then 4.4 s more for a GRU and 3.6 s for a tanh RNN (their
cells; the scaling, windowing, blend and interval kernels are shared). numba caches what it compiled
(``_config.py`` picks where), and a later process loads it instead: the same first fit then takes
0.4 s. ``warmup`` pays the compilation once, where it costs nothing: a container image's build step
(``RUN tsrnn warmup``), a server's start-up before it takes requests, a Dask cluster's shared
``NUMBA_CACHE_DIR`` before its workers start.

It fits small Forecasters on made-up data (no file, no download), one per cell and path: seasonal and
non-seasonal series, positive ones (log scale) and ones that cross zero, the direct and the seq2seq head,
a future covariate and calendar features, intervals, quantiles, a recursive forecast and a forecast of
new series; then the seasonal adjustment of the Naive2 and Theta baselines (backtests). 27 s in all on
a cold cache, 1.2 s on a warm one. numba keys its cache on the CPU, numba's version and the sources:
warm up on the machine type that will run the fits, after installing the version that will. Caching off (no writable
directory, see ``_config.py``) makes a warm-up last only as long as its own process: an error. The
CPU kernels only: the CUDA kernels (``device="cuda"``) are compiled by each process that uses them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .kernels.spec import SPECS                    # pure Python: compiles and loads nothing

__all__ = ["warmup", "WarmupReport", "CELLS"]

CELLS = tuple(SPECS)                               # every cell: lstm, gru, rnn


@dataclass(frozen=True)
class WarmupReport:
    """What ``warmup`` did: ``seconds``, the time each cell's fits (and the baselines') took in this
    process (mostly compilation on a cold cache; about a second in all on a warm one);
    ``cache_dir``, the directory numba caches the compiled kernels in."""
    seconds: dict
    cache_dir: str

    def __str__(self) -> str:
        cells = ", ".join(f"{cell} {s:.1f} s" for cell, s in self.seconds.items())
        return (f"tsrnn warmup: {cells}; compiled kernels cached in {self.cache_dir}: later processes on this "
                f"machine type load them instead of compiling")


def _data(n_series: int = 6, n: int = 48):
    """Seasonal monthly series of ``n`` points (half of them positive, log-scaled by the Forecaster, half
    crossing zero), a ``promo`` covariate, and its values for 6 months after each series' end."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ds = pd.date_range("2020-01-01", periods=n + 6, freq="MS")
    t = np.arange(n + 6)
    frames = []
    for k in range(n_series):
        base = 100.0 if k % 2 == 0 else 0.0
        y = base + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n + 6)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y, "promo": (t % 5 == 0).astype(float)}))
    full = pd.concat(frames, ignore_index=True)
    past = full.groupby("unique_id").head(n).reset_index(drop=True)
    future = full.groupby("unique_id").tail(6)[["unique_id", "ds", "promo"]].reset_index(drop=True)
    return past, future


def _cache_dir() -> str:
    from . import _config

    if not _config.CACHE:
        raise RuntimeError("numba caching is off: no writable cache directory was found (see tsrnn/_config.py); "
                           "set NUMBA_CACHE_DIR to a writable directory, or a warm-up lasts only as long as its "
                           "own process")
    return _config.CACHE_DIR or f"{Path(_config.__file__).parent}/**/__pycache__ (next to tsrnn's sources)"


def warmup(cells=CELLS) -> WarmupReport:
    """Compile the kernels that fits and forecasts with ``cells`` use, into numba's cache.

    Parameters
    ----------
    cells : iterable of {"lstm", "gru", "rnn"}
        The cells to compile for (each adds its own forward and backward kernels).

    Returns
    -------
    WarmupReport
        The seconds each cell took here, and where the compiled kernels are cached.

    Raises
    ------
    RuntimeError
        When numba caching is off (nothing would outlive this process).

    Example
    -------
    >>> from tsrnn.warmup import warmup
    >>> report = warmup(cells=["gru"])          # doctest: +SKIP
    >>> print(report)                          # doctest: +SKIP
    tsrnn warmup: gru 19.2 s; compiled kernels cached in /home/me/.cache/tsrnn/numba: ...
    """
    from .baselines import Naive2, Theta
    from .forecaster import Forecaster

    cells = list(dict.fromkeys(cells))
    unknown = [c for c in cells if c not in SPECS]
    if unknown or not cells:
        raise ValueError(f"cells must be among {sorted(SPECS)}, got {cells}")
    cache_dir = _cache_dir()
    past, future = _data()
    seconds = {}
    for cell in cells:
        start = time.perf_counter()
        small = dict(cell=cell, horizon=3, max_epochs=1, samples_per_epoch=64, random_state=0, progress=False)
        seasonal = Forecaster(season_length=12, **small).fit(past[["unique_id", "ds", "y"]])
        seasonal.predict(8, level=[80], quantiles=[0.1, 0.9])              # past the horizon: recursive
        seasonal.predict(3, y=past[["unique_id", "ds", "y"]].assign(unique_id=lambda d: "new " + d.unique_id))
        Forecaster(season_length=1, **small).fit(past[["unique_id", "ds", "y"]]).predict(3, level=[95])
        Forecaster(season_length=12, head="seq2seq", future_covariates=["promo"], calendar=True, **small) \
            .fit(past).predict(6, future=future, level=[80])
        seconds[cell] = time.perf_counter() - start
    start = time.perf_counter()                  # the seasonal adjustment of the Naive2 and Theta baselines
    for baseline in (Naive2(season_length=12), Theta(season_length=12)):
        baseline.fit(past[["unique_id", "ds", "y"]].assign(y=lambda d: d.y.abs() + 1)).predict(3, level=[80])
    seconds["naive2 and theta"] = time.perf_counter() - start
    return WarmupReport(seconds, cache_dir)
