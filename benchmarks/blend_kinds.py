"""The blend's statistical half on data its choice never looked at: ``blend="theta"``,
``blend="theta+damped"`` and ``blend="auto"`` (the default: the better of ``"theta+damped"`` and
``"ets"`` on the held-out windows, with its share; ``tsrnn/blend.py``) in rolling-origin backtests of
the default LSTM Forecaster.

The damped trend and then "auto" were adopted on the held-out windows of fits to the whole M4 dev
training histories, and were then scored on the M4 test values (``benchmarks/m4.py``). These cases are
other cuts (the M4 ones end where the held-out windows did, so they overlap them):

* ``macrodata``: statsmodels' US macroeconomic data, 12 quarterly series (1959Q1-2009Q3; GDP and its
  parts, prices, money, rates, unemployment, population), 4 windows of 8 quarters;
* ``demo``: the 40 quarterly series of ``make demo`` (``data/m4-quarterly-40.csv``), 3 windows of 8;
* ``m4-<frequency>``: the M4 dev *training* histories (the test values untouched), 2 windows of the
  M4 horizon before their end.

OWA against Naive2 on the same windows, for seeds 0, 1, 2.

Usage: python benchmarks/blend_kinds.py [--cases macrodata,demo,m4-Yearly] [--markdown benchmarks/results/blend-kinds.md]
"""
from __future__ import annotations

import sys

import backtest_data as real

BLENDS = ("theta", "theta+damped", "auto")
SEEDS = (0, 1, 2)


def cases() -> dict:
    """name -> (loader, horizon, season length, windows)"""
    out = {"macrodata": (real.macrodata, 8, 4, 4), "demo": (real.demo, 8, 4, 3)}
    for freq, h, m in (("Yearly", 6, 1), ("Quarterly", 8, 4), ("Monthly", 18, 12), ("Weekly", 13, 1),
                       ("Hourly", 48, 24)):
        out[f"m4-{freq}"] = ((lambda f=freq: real.m4_train(f)), h, m, 2)
    return out


def main(argv=None) -> int:
    return real.compare(__doc__, cases(), "blend", BLENDS, SEEDS,
                        "The blend's statistical half on other cuts of real data", "blend_kinds.py", argv)


if __name__ == "__main__":
    sys.exit(main())
