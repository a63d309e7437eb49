"""M4 backtest: tsrnn's LSTM and GRU against statsmodels' ARIMA, ETS and Theta and M4's Naive2 on the
200 quarterly series of the bundled M4 sample, rolling origin (two windows of 8 quarters), ranked by
OWA (Naive2 = 1, lower is better), with the report picture.

Run: python examples/m4_backtest.py [--quick] [--output DIR]     (a few minutes; --quick: seconds)
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import tsrnn  # noqa: E402
from tsrnn.datasets import load_m4  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--quick", action="store_true", help="20 series, short training (the smoke test)")
ap.add_argument("--output", default="out/examples")
args = ap.parse_args()
out = Path(args.output)
out.mkdir(parents=True, exist_ok=True)

m4 = load_m4("Quarterly")
data = m4.train
models = ["lstm", "gru", "arima", "ets", "theta", "naive2"]
neural = dict(random_state=0)
if args.quick:
    data = data[data.unique_id.isin(data.unique_id.unique()[:20])]
    models = ["lstm", "theta", "naive2"]
    neural.update(max_epochs=3, ensemble_size=1)

result = tsrnn.backtest(models, data, horizon=m4.horizon, n_windows=2, season_length=m4.season_length,
                        progress=False, **neural)
print(f"{data.unique_id.nunique()} quarterly series, 2 windows of {m4.horizon} quarters")
print(result.metrics.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
for line in result.notes():
    print("note:", line)
result.plot(history=data).savefig(out / "m4_backtest.png", dpi=100)
print(f"wrote m4_backtest.png to {out}")
