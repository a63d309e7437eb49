"""tsrnn in a pandas pipeline: clean a frame, forecast it and backtest it in one chain of ``.pipe``
calls, on the bundled monthly airline passengers (1949-1960) and three derived series.

Run: python examples/pipeline.py [--quick] [--output DIR]
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn.datasets import load_air_passengers  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--quick", action="store_true")
ap.add_argument("--output", default="out/examples")
args = ap.parse_args()
out = Path(args.output)
out.mkdir(parents=True, exist_ok=True)
neural = dict(random_state=0, ensemble_size=1, max_epochs=3) if args.quick else dict(random_state=0)

passengers = load_air_passengers()
rng = np.random.default_rng(0)
# a long frame of four series: the passengers and three noisy, rescaled routes
raw = pd.concat([pd.DataFrame({"route": name, "month": passengers.index,
                               "passengers": passengers.to_numpy() * scale * rng.lognormal(0, 0.05, 144)})
                 for name, scale in [("all", 1.0), ("north", 0.3), ("south", 0.5), ("east", 0.2)]])


def to_long(df: pd.DataFrame) -> pd.DataFrame:
    """The frame in tsrnn's long layout: unique_id, ds, y."""
    return df.rename(columns={"route": "unique_id", "month": "ds", "passengers": "y"})


forecast = (raw
            .pipe(to_long)
            .query("ds >= '1950-01-01'")                             # drop the first year
            .pipe(tsrnn.forecast, h=12, model="lstm", season_length=12, level=[80], **neural))
print(forecast.head(4).round(1).to_string(index=False))

scores = (raw
          .pipe(to_long)
          .pipe(tsrnn.backtest, models=["lstm", "ets", "snaive"], horizon=12, n_windows=2, season_length=12,
                progress=False, **neural))
print(scores.metrics.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
tsrnn.plot.forecast(to_long(raw), forecast, max_series=2).savefig(out / "pipeline_forecast.png", dpi=100)
print(f"wrote pipeline_forecast.png to {out}")
