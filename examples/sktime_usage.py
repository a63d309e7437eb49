"""tsrnn inside sktime: ``TsrnnForecaster`` on sktime's airline data with an sktime horizon, intervals
and quantiles, tuned by sktime's own ``ForecastingGridSearchCV`` over a tsrnn parameter, and compared
with sktime's seasonal naive forecaster on the last year.

Run: python examples/sktime_usage.py [--quick] [--output DIR]     (needs ``pip install 'tsrnn[sktime]'``)
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sktime.datasets import load_airline  # noqa: E402
from sktime.forecasting.model_selection import ForecastingGridSearchCV  # noqa: E402
from sktime.forecasting.naive import NaiveForecaster  # noqa: E402
from sktime.performance_metrics.forecasting import mean_absolute_percentage_error  # noqa: E402
from sktime.split import ExpandingWindowSplitter, temporal_train_test_split  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn.sktime import TsrnnForecaster  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--quick", action="store_true")
ap.add_argument("--output", default="out/examples")
args = ap.parse_args()
out = Path(args.output)
out.mkdir(parents=True, exist_ok=True)

y = load_airline()                                            # monthly, PeriodIndex
y_train, y_test = temporal_train_test_split(y, test_size=12)
fh = list(range(1, 13))
settings = dict(season_length=12, random_state=0)
if args.quick:
    settings.update(max_epochs=3, ensemble_size=1)

# sktime's grid search over a tsrnn parameter, scored on expanding windows of the training years
cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=fh)
search = ForecastingGridSearchCV(TsrnnForecaster(**settings), cv=cv,
                                 param_grid={"hidden_size": [8, 32] if args.quick else [16, 32, 64]})
search.fit(y_train, fh=fh)
print("best:", search.best_params_)
print(search.cv_results_[["params", "mean_test_MeanAbsolutePercentageError"]].to_string(index=False))

y_pred = search.predict()
naive = NaiveForecaster(strategy="last", sp=12).fit(y_train, fh=fh).predict()
print(f"MAPE on 1960: tsrnn {mean_absolute_percentage_error(y_test, y_pred):.3f}, "
      f"seasonal naive {mean_absolute_percentage_error(y_test, naive):.3f}")
intervals = search.best_forecaster_.predict_interval(coverage=[0.8, 0.95])
quantiles = search.best_forecaster_.predict_quantiles(alpha=[0.1, 0.5, 0.9])
print(quantiles.head(3).round(1).to_string())
inside = ((y_test.to_numpy() >= intervals.iloc[:, 0].to_numpy()) & (y_test.to_numpy() <= intervals.iloc[:, 1].to_numpy()))
print(f"80 % interval coverage on 1960: {inside.mean():.0%}")

# the picture: history, the 80/95 % fan and the actual year
fan = y_pred.to_frame("yhat").assign(yhat_lo_80=intervals.iloc[:, 0], yhat_hi_80=intervals.iloc[:, 1],
                                     yhat_lo_95=intervals.iloc[:, 2], yhat_hi_95=intervals.iloc[:, 3],
                                     y=y_test)
fan.index = fan.index.to_timestamp()
history = y_train.copy()
history.index = history.index.to_timestamp()
tsrnn.plot.forecast(history, fan, title="airline").savefig(out / "sktime_forecast.png", dpi=100)
print(f"wrote sktime_forecast.png to {out}")
