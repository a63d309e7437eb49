"""The history limit on data its default never looked at: rolling-origin backtests of the default LSTM
Forecaster with ``history_limit=None`` (every training window) and with 10 horizons (the default,
"auto", for series without a season; ``docs/forecaster.md``, step 4).

The default was set on the M4 dev test values (``benchmarks/m4.py``). These cases end before them:

* ``m4-Weekly``: the M4 dev Weekly *training* histories (50 series of 80 to 2,283 weeks, no season),
  2 windows of 13 weeks before their end: "auto" limits them;
* ``m4-Hourly``: the M4 dev Hourly training histories (50 series of 700 to 960 hours, a daily
  season), 2 windows of 48 hours: "auto" leaves them whole, the row says what the limit would do.

OWA against Naive2 on the same windows, for seeds 0, 1, 2.

Usage: python benchmarks/history_limit.py [--cases m4-Weekly] [--markdown benchmarks/results/history-limit.md]
"""
from __future__ import annotations

import sys

import backtest_data as real

LIMITS = (None, 10)
SEEDS = (0, 1, 2)


def cases() -> dict:
    """name -> (loader, horizon, season length, windows)"""
    return {f"m4-{freq}": ((lambda f=freq: real.m4_train(f)), h, m, 2)
            for freq, h, m in (("Weekly", 13, 1), ("Hourly", 48, 24))}


def main(argv=None) -> int:
    return real.compare(__doc__, cases(), "history_limit", LIMITS, SEEDS,
                        "The history limit on other cuts of real data", "history_limit.py", argv)


if __name__ == "__main__":
    sys.exit(main())
