"""Wall time of ``Forecaster().fit(y).predict(12)`` on a 144-point monthly series (AirPassengers), after
compilation, next to statsforecast's AutoARIMA / AutoETS and statsmodels' ARIMA on the same series when
they are installed. Median of --repeats runs in this process (the first, compiling run is reported apart).

Usage: python benchmarks/forecaster_speed.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tsrnn import Forecaster  # noqa: E402
from tsrnn.baselines import ARIMA  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    data = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "air_passengers.csv", parse_dates=["ds"])
    y = pd.Series(data.y.to_numpy(float), index=pd.DatetimeIndex(data.ds, freq="MS"))
    contenders = {"tsrnn Forecaster() (season_length=12)":
                  lambda: Forecaster(season_length=12, progress=False, random_state=0).fit(y).predict(12),
                  "tsrnn Forecaster(horizon=12, season_length=12)":
                  lambda: Forecaster(horizon=12, season_length=12, progress=False, random_state=0).fit(y).predict(12),
                  "statsmodels ARIMA(1,1,1)(0,1,1)12 via tsrnn":
                  lambda: ARIMA(order=(1, 1, 1), seasonal_order=(0, 1, 1), season_length=12).fit(y).predict(12)}
    try:
        from statsforecast.models import AutoARIMA, AutoETS

        arr = y.to_numpy()
        contenders["statsforecast AutoARIMA(12)"] = lambda: AutoARIMA(season_length=12).forecast(arr, 12)
        contenders["statsforecast AutoETS(12)"] = lambda: AutoETS(season_length=12).forecast(arr, 12)
    except ImportError:
        pass
    warnings.simplefilter("ignore")
    print("| model | first call s | median s |\n|---|---|---|")
    for name, fn in contenders.items():
        t = time.perf_counter()
        fn()
        first = time.perf_counter() - t
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"| {name} | {first:.2f} | {statistics.median(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
