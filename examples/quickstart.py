"""Quickstart: one global LSTM over 200 real monthly M4 series, forecasts with intervals, pandas in/out,
and the pictures: a forecast fan and the training curves.

Run: python examples/quickstart.py [--quick] [--output DIR]      (PNGs go to DIR, default out/examples)
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")                                   # files only, no window

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tsrnn import Forecaster  # noqa: E402
from tsrnn.datasets import load_m4  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--quick", action="store_true", help="a few series and epochs (the smoke test)")
ap.add_argument("--output", default="out/examples")
args = ap.parse_args()
out = Path(args.output)
out.mkdir(parents=True, exist_ok=True)

# Long format: one row per (series, time step). Here `ds` is an integer step (M4 gives no dates).
m4 = load_m4("Monthly")
train, test = m4.train, m4.test
if args.quick:
    keep = train.unique_id.unique()[:20]
    train, test = train[train.unique_id.isin(keep)], test[test.unique_id.isin(keep)]
print(f"{train.unique_id.nunique()} monthly series, {len(train)} observations")

settings = dict(season_length=m4.season_length, horizon=m4.horizon, random_state=0, progress=False)
if args.quick:
    settings.update(max_epochs=3, ensemble_size=1)
model = Forecaster(**settings).fit(train)                # one network for all series
forecast = model.predict(m4.horizon, level=[80, 95])    # unique_id, ds, yhat, yhat_lo_80, ...
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

# Pictures: three series with their 80/95 % fans, and train/validation loss per epoch.
model.plot(train[train.unique_id.isin(train.unique_id.unique()[:3])], level=[80, 95]).savefig(
    out / "quickstart_forecast.png", dpi=100)
model.plot_training().savefig(out / "quickstart_training.png", dpi=100)
print(f"\nwrote quickstart_forecast.png and quickstart_training.png to {out}")
