"""Real datasets bundled with the package: read from its own files, never downloaded.

The files lie in ``tsrnn/_data`` (in a checkout also reachable as ``data/``); their sources and
licences are in ``tsrnn/_data/README.md`` and on the docs site's datasets page.

- ``load_m4(frequency)``: the project's M4 development sample (700 series of the M4 Competition:
  200 Yearly, 200 Quarterly, 200 Monthly, 50 Weekly, 50 Hourly), history and the competition's test values.
- ``load_air_passengers()``: Box & Jenkins' monthly airline passengers, 1949-1960.
- ``load_bikesharing()``: Capital Bikeshare hourly rentals with NOAA daily weather, 2017-09 to 2019-08
  (future covariates ``tmin, tmax, pn``).
"""
from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import pandas as pd

__all__ = ["M4", "M4_FREQUENCIES", "load_m4", "load_air_passengers", "load_bikesharing"]

M4_FREQUENCIES = ("Yearly", "Quarterly", "Monthly", "Weekly", "Hourly")
_SAMPLES = ("dev", "demo")


def _path(*parts: str):
    return resources.files("tsrnn").joinpath("_data", *parts)


class M4(NamedTuple):
    """One frequency of an M4 sample: long frames ``unique_id, ds, y`` (``ds`` = 1..n, M4 gives no
    dates; the test steps continue each series' own count) and the competition's facts.

    Example
    -------
    >>> m4 = load_m4("Yearly")
    >>> m4.horizon, list(m4.info.columns[:3])
    (6, ['unique_id', 'frequency', 'category'])
    """
    train: pd.DataFrame
    test: pd.DataFrame
    horizon: int            # M4's forecast horizon for the frequency
    season_length: int      # M4's seasonal period m
    info: pd.DataFrame      # one row per series: unique_id, frequency, category, horizon, m, n_train, ...


def load_m4(frequency: str, sample: str = "dev") -> M4:
    """Read a bundled sample of the M4 Competition (Makridakis et al., 2020).

    frequency : "Yearly", "Quarterly", "Monthly", "Weekly" or "Hourly" (any case).
    sample : "dev" (the 700-series development sample) or "demo" (40 Quarterly series, every fifth
        series of "dev", the input of ``make demo``; it has no test values bundled beyond dev's).

    Example
    -------
    >>> from tsrnn.datasets import load_m4
    >>> m4 = load_m4("quarterly")
    >>> m4.train.unique_id.nunique(), m4.horizon, m4.season_length
    (200, 8, 4)
    >>> m4.test.groupby("unique_id").size().unique().tolist()
    [8]
    """
    if not isinstance(frequency, str) or frequency.capitalize() not in M4_FREQUENCIES:
        raise ValueError(f"unknown M4 frequency {frequency!r}; choose from {', '.join(M4_FREQUENCIES)}")
    if sample not in _SAMPLES:
        raise ValueError(f"unknown M4 sample {sample!r}: the package bundles {', '.join(map(repr, _SAMPLES))}; "
                         "the full M4 data (100,000 series) is at github.com/Mcompetitions/M4-methods")
    freq = frequency.capitalize()
    info = pd.read_csv(_path("m4", "series_info.csv"))
    info = info[info.frequency == freq].reset_index(drop=True)
    test = pd.read_csv(_path("m4", f"test-{freq}.csv"))
    if sample == "demo":
        if freq != "Quarterly":
            raise ValueError(f"the 'demo' sample has Quarterly series only, not {freq}")
        train = pd.read_csv(_path("m4-quarterly-40.csv"))
        keep = train.unique_id.unique()
        info = info[info.unique_id.isin(keep)].reset_index(drop=True)
        test = test[test.unique_id.isin(keep)].reset_index(drop=True)
    else:
        train = pd.read_csv(_path("m4", f"train-{freq}.csv"))
    return M4(train, test, int(info.horizon.iloc[0]), int(info.m.iloc[0]), info)


def load_air_passengers() -> pd.Series:
    """Monthly international airline passengers (thousands), January 1949 to December 1960: the
    classic Box & Jenkins series, 144 values, indexed by month starts.

    Example
    -------
    >>> from tsrnn.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> len(y), y.index.freqstr, int(y.iloc[0])
    (144, 'MS', 112)
    """
    df = pd.read_csv(_path("air_passengers.csv"), parse_dates=["ds"])
    index = pd.DatetimeIndex(df.ds, freq="MS", name="ds")
    return pd.Series(df.y.to_numpy(dtype=float), index=index, name="passengers")


def load_bikesharing() -> pd.DataFrame:
    """Capital Bikeshare (Washington, D.C.) hourly rentals with the day's NOAA weather, 2017-09-01 to
    2019-08-31 (17,520 hours, one series). Columns ``unique_id, ds, y, tmin, tmax, pn``: rentals per
    hour, the day's minimum and maximum temperature (°C) and precipitation (mm).

    Example
    -------
    >>> from tsrnn.datasets import load_bikesharing
    >>> df = load_bikesharing()
    >>> df.shape, list(df.columns)
    ((17520, 6), ['unique_id', 'ds', 'y', 'tmin', 'tmax', 'pn'])
    """
    return pd.read_csv(_path("bikesharing.csv"), parse_dates=["ds"])
