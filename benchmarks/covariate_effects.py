"""What a future covariate can and cannot do for the default Forecaster on one series: the bundled air
passengers (monthly, a growing multiplicative season), the last 12 months held out, with a random
promotion flag (30 % of the months, seeded) that lifts the passengers, and three columns of pure noise.

Rows: the promotion lifts the month by 30 % (a multiplicative effect) on the last 132, 60 or 36 training
months; or it adds 40 passengers (an additive effect) on 132. Columns: the covariates the model gets.
Each cell is the test MAE of ``Forecaster(horizon=12, season_length=12, future_covariates=...)`` for
seeds 0, 1, 2 (``docs/forecaster.md``, covariates).

Usage: python benchmarks/covariate_effects.py [--markdown benchmarks/results/covariate-effects.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

from tsrnn import Forecaster
from tsrnn.datasets import load_air_passengers

SEEDS = (0, 1, 2)
H = 12
COVARIATES = {"no covariate": [], "promo": ["promo"], "3 noise columns": ["noise0", "noise1", "noise2"],
              "promo + 3 noise": ["promo", "noise0", "noise1", "noise2"]}
ROWS = (("lift", 132), ("lift", 60), ("lift", 36), ("add", 132))
EFFECT = {"lift": "promo lifts 30 %", "add": "promo adds 40"}


def panel(effect: str) -> pd.DataFrame:
    """The air passengers with the promotion's effect and the covariate columns (seeded)."""
    air = load_air_passengers()
    rng = np.random.default_rng(0)
    promo = (rng.random(len(air)) < 0.3).astype(float)
    y = air.to_numpy() * (1 + 0.3 * promo) if effect == "lift" else air.to_numpy() + 40 * promo
    return pd.DataFrame({"unique_id": "air", "ds": air.index, "y": y, "promo": promo,
                         **{f"noise{j}": rng.normal(size=len(air)) for j in range(3)}})


def test_mae(data: pd.DataFrame, train_months: int, columns: list, seed: int) -> float:
    train, test = data.iloc[-H - train_months:-H], data.iloc[-H:]
    model = Forecaster(horizon=H, season_length=12, future_covariates=columns or None, random_state=seed,
                       progress=False).fit(train[["unique_id", "ds", "y", *columns]])
    forecast = model.predict(H, future=test[["unique_id", "ds", *columns]] if columns else None)
    return float(np.abs(forecast.yhat.to_numpy() - test.y.to_numpy()).mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args(argv)
    start = time.time()
    lines = ["| data, training months | " + " | ".join(COVARIATES) + " |", "|---" * (len(COVARIATES) + 1) + "|"]
    for effect, months in ROWS:
        data = panel(effect)
        cells = []
        for columns in (COVARIATES.values() if effect == "lift" else [[], ["promo"]]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cells.append(" / ".join(f"{test_mae(data, months, columns, seed):.1f}" for seed in SEEDS))
        cells += [""] * (len(COVARIATES) - len(cells))
        lines.append(f"| {EFFECT[effect]}, {months} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    command = "python benchmarks/covariate_effects.py" + (f" --markdown {args.markdown}" if args.markdown else "")
    text = "\n".join(["# What a covariate can and cannot do, on one series", "", f"`{command}`", "",
                      "The air passengers with a seeded promotion flag and three noise columns as future covariates "
                      "(see the script's docstring); test MAE of the last 12 months of the default Forecaster, seeds "
                      + " / ".join(map(str, SEEDS)) + f". Total time {time.time() - start:.0f} s on "
                      f"{os.cpu_count()} cores.", "", *lines, ""])
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
