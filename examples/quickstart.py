"""Quickstart: one global LSTM over 200 real monthly M4 series, forecasts with intervals, pandas in/out.

Run: python examples/quickstart.py
"""
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn import Forecaster

DATA = Path(__file__).resolve().parent.parent / "data" / "m4"

# Long format: one row per (series, time step). Here `ds` is an integer step (M4 gives no dates).
train = pd.read_csv(DATA / "train-Monthly.csv")
test = pd.read_csv(DATA / "test-Monthly.csv")
print(f"{train.unique_id.nunique()} monthly series, {len(train)} observations")

model = Forecaster(season_length=12, horizon=18, random_state=0, progress=False)
model.fit(train)                                        # one network for all series
forecast = model.predict(18, level=[80, 95])            # unique_id, ds, yhat, yhat_lo_80, ...
print("\nforecast (first rows):")
print(forecast.head(6).round(1).to_string(index=False))

scored = forecast.merge(test, on=["unique_id", "ds"])
smape = np.mean(200 * np.abs(scored.y - scored.yhat) / (np.abs(scored.y) + np.abs(scored.yhat)))
inside = ((scored.y >= scored.yhat_lo_80) & (scored.y <= scored.yhat_hi_80)).mean()
print(f"\nsMAPE on the M4 test values: {smape:.2f}   80% interval coverage: {inside:.0%}")

# A single pandas Series with a DatetimeIndex: the forecast comes back on the next dates.
one = train[train.unique_id == train.unique_id.iloc[0]]
series = pd.Series(one.y.to_numpy(), index=pd.date_range("2010-01", periods=len(one), freq="MS"), name="demand")
print("\nforecast for one dated series:")
print(model.predict(6, y=series).round(1).to_string())
