"""Covariates: day-ahead forecasts of hourly bike rentals from their history, the weather and the calendar.

The bundled data (data/bikesharing.csv, Capital Bikeshare with NOAA weather) has one row per hour:
unique_id, ds, y (rentals) and tmin, tmax, pn (the day's temperatures and precipitation). The weather is
a future covariate: known in advance for the day being forecast (a weather forecast in real use). The
calendar (hour, day of week, day of year) comes from the time stamps.

Run: python examples/covariates.py [--quick] [--output DIR]   (about a minute; --quick: seconds)
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn import Forecaster  # noqa: E402
from tsrnn.datasets import load_bikesharing  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--quick", action="store_true", help="60 days, 3 epochs (the smoke test)")
ap.add_argument("--output", default="out/examples")
args = ap.parse_args()
out = Path(args.output)
out.mkdir(parents=True, exist_ok=True)
QUICK = args.quick
data = load_bikesharing()
if QUICK:
    data = data.iloc[-24 * 60:]
history, next_day = data.iloc[:-24], data.iloc[-24:]           # forecast the last day of the file
print(f"{len(history)} hours of history, forecasting {next_day.ds.iloc[0]:%Y-%m-%d}")

settings = dict(horizon=24, season_length=24, random_state=0, progress=False)
if QUICK:
    settings.update(max_epochs=3, ensemble_size=1)
plain = Forecaster(**settings).fit(history[["unique_id", "ds", "y"]])
with_weather = Forecaster(head="seq2seq", future_covariates=["tmin", "tmax", "pn"], calendar=True, **settings)
with_weather.fit(history)
print("covariates:", with_weather.covariates_.future, "+ calendar", with_weather.covariates_.calendar)

# The future frame: the covariates' values at the 24 hours after the history's end (no y needed).
future = next_day[["unique_id", "ds", "tmin", "tmax", "pn"]]
a = plain.predict(24)
b = with_weather.predict(24, future=future, level=[80])
actual = next_day.y.to_numpy()
print(f"MAE without covariates: {np.abs(a.yhat.to_numpy() - actual).mean():.1f} rentals/hour")
print(f"MAE with weather and calendar: {np.abs(b.yhat.to_numpy() - actual).mean():.1f} rentals/hour")
print(b.head(6).to_string(index=False, float_format=lambda v: f"{v:.1f}"))

# the picture: the last week of history and both forecasts of the next day against what happened
both = pd.concat([a.assign(unique_id="without covariates"), b.assign(unique_id="with weather and calendar")])
both["y"] = np.tile(actual, 2)
history = pd.concat([history.assign(unique_id=u) for u in both.unique_id.unique()])
tsrnn.plot.forecast(history, both, history_length=24 * 7).savefig(out / "covariates_forecast.png", dpi=100)
print(f"wrote covariates_forecast.png to {out}")
