"""Train an LSTM with tsrnn's own kernels on a real M4 hourly series and forecast its next 48 hours.

What it does, with nothing but tsrnn's Network (the kernels under the Forecaster):
1. reads series H100 (700 hourly values) from data/m4 and its 48 held-out test values;
2. cuts the history into sliding windows: 168 hours in, the next 48 hours out;
3. scales every window by the mean of its own last 24 input hours (so levels don't matter), and
   learns the *ratio* of each future hour to the same hour of the last observed day (so the network
   only has to learn how tomorrow differs from a repeat of today);
4. trains a 1-layer LSTM (H=32, direct 48-step head) with Adam on the MAE, printing the loss as it falls;
5. forecasts the 48 test hours and scores them (sMAPE, MASE) against the seasonal naive forecast.

Run: python examples/network_hourly.py [--quick]      (--quick: 3 epochs, for the smoke test)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn.network import Network
from tsrnn.optim import Adam

DATA = Path(__file__).resolve().parent.parent / "data" / "m4"   # the bundled files (tsrnn.datasets)
SERIES, SEASON, HORIZON, WINDOW = "H100", 24, 48, 168


def load(kind: str) -> np.ndarray:
    df = pd.read_csv(DATA / f"{kind}-Hourly.csv")
    return df.loc[df.unique_id == SERIES].sort_values("ds")["y"].to_numpy(np.float64)


def seasonal_repeat(history: np.ndarray) -> np.ndarray:
    """The last observed season repeated over the horizon (the seasonal naive forecast), per row."""
    return np.tile(history[..., -SEASON:], HORIZON // SEASON)


def inputs(history: np.ndarray) -> np.ndarray:
    """(N, WINDOW) histories -> time-major network input (WINDOW, N, 1) scaled by the last day's mean."""
    level = history[:, -SEASON:].mean(axis=1, keepdims=True)
    return np.ascontiguousarray((history / level).T[:, :, None], dtype=np.float32)


def windows(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sliding training windows: inputs (WINDOW, N, 1) and targets (N, HORIZON) as ratios to the
    seasonal naive forecast made at the end of each window."""
    n = len(y) - WINDOW - HORIZON + 1
    w = y[np.arange(n)[:, None] + np.arange(WINDOW + HORIZON)]
    history, future = w[:, :WINDOW], w[:, WINDOW:]
    return inputs(history), (future / seasonal_repeat(history)).astype(np.float32)


def smape(y, f):
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def main() -> None:
    train, test = load("train"), load("test")
    x, target = windows(train)
    print(f"series {SERIES}: {len(train)} hourly values, {x.shape[1]} training windows of {WINDOW}h -> {HORIZON}h")
    net = Network("lstm", input_size=1, hidden_size=32, output_size=HORIZON, seed=0)
    opt = Adam(lr=3e-3)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for epoch in range(1, 4 if "--quick" in sys.argv else 61):
        order = rng.permutation(x.shape[1])
        losses = [net.train_step(np.ascontiguousarray(x[:, b]), target[b], opt, loss="mae", clip_norm=1.0)
                  for b in np.array_split(order, max(1, len(order) // 64))]
        if epoch == 1 or epoch % 10 == 0:
            print(f"epoch {epoch:3d}  train MAE (ratio to seasonal naive) {np.mean(losses):.4f}")
    last = train[None, -WINDOW:]
    forecast = net.predict(inputs(last))[0] * seasonal_repeat(last)[0]
    print(f"trained in {time.perf_counter() - start:.1f} s")

    naive = seasonal_repeat(train)
    scale = np.mean(np.abs(train[SEASON:] - train[:-SEASON]))
    print(f"\n{'':14s}{'sMAPE':>8s}{'MASE':>8s}")
    for name, f in (("LSTM (tsrnn)", forecast), ("seasonal naive", naive)):
        print(f"{name:14s}{smape(test, f):8.2f}{np.mean(np.abs(test - f)) / scale:8.3f}")
    print("\nfirst 12 test hours:")
    print(pd.DataFrame({"actual": test[:12], "lstm": forecast[:12].round(1), "naive": naive[:12]}).to_string())


if __name__ == "__main__":
    main()
