"""tsrnn's CUDA kernels against PyTorch/cuDNN on the same GPU, interleaved in one process.

Training step (forward + BPTT + Adam, linear head, MSE) and batch inference for LSTM/GRU/RNN,
B in {64, 1024}, T in {24, 96}, H in {16, 64, 128, 256}, 1 layer, input size 1, float32. Each
configuration alternates the two contenders for several rounds (each round: warm-up, then timed steps
with ``cuda.synchronize`` / ``torch.cuda.synchronize``); a cell is the median over rounds of the round
medians; ratio = tsrnn / torch.

``--m4-check`` instead fits ``Forecaster(device="cuda")`` and ``Forecaster(device="cpu")`` with the same
seed on the bundled M4 sample and reports the largest relative difference of their forecasts.

Usage (on a machine with an NVIDIA GPU, numba-cuda and torch):
    python benchmarks/cuda.py [--quick] [--json PATH] [--markdown PATH]
    python benchmarks/cuda.py --m4-check
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn, sync, min_time=0.2, min_steps=5, warmup=3):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or (time.perf_counter() - start < min_time and len(times) < 200):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def bench(cell, B, T, H, rounds):
    import torch
    from numba import cuda

    from tsrnn.network import Network
    from tsrnn.optim import Adam

    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, B, 1)).astype(np.float32)
    y = rng.normal(size=(B, 1)).astype(np.float32)
    net = Network(cell, 1, H, 1, seed=0, device="cuda")
    dx, dy = cuda.to_device(x), cuda.to_device(y)          # data on the device once, as in training
    opt = Adam(lr=1e-3)
    dev = torch.device("cuda")
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](1, H).to(dev)
    head = torch.nn.Linear(H, 1).to(dev)
    topt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)

    def torch_step():
        topt.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(head(rnn(xt)[0][-1]), yt).backward()
        topt.step()

    def torch_infer():
        with torch.inference_mode():
            head(rnn(xt)[0][-1])

    results = {}
    for kind, ours, theirs in (("train", lambda: net.train_step(dx, dy, opt), torch_step),
                               ("infer", lambda: net.forward(dx), torch_infer)):
        a, b = [], []
        for _ in range(rounds):
            a.append(timed(ours, cuda.synchronize))
            b.append(timed(theirs, torch.cuda.synchronize))
        results[kind] = (statistics.median(a), statistics.median(b))
    return results


def m4_check():
    import pandas as pd

    from tsrnn import Forecaster

    data = Path(__file__).resolve().parent.parent / "data" / "m4"
    worst = 0.0
    for freq, (h, m) in {"Yearly": (6, 1), "Quarterly": (8, 4), "Monthly": (18, 12), "Weekly": (13, 1),
                         "Hourly": (48, 24)}.items():
        train = pd.read_csv(data / f"train-{freq}.csv")
        out = [Forecaster(horizon=h, season_length=m, random_state=0, progress=False, device=d).fit(train).predict(h)
               for d in ("cpu", "cuda")]
        rel = float((np.abs(out[0].yhat - out[1].yhat) / np.abs(out[0].yhat).clip(1e-9)).max())
        worst = max(worst, rel)
        print(f"{freq}: max relative difference cpu vs cuda {rel:.2e}")
    print(f"worst {worst:.2e} (target <= 1e-3)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--m4-check", action="store_true")
    args = ap.parse_args(argv)
    if args.m4_check:
        return m4_check()
    import torch

    from tsrnn.kernels.cuda import unavailable_reason

    reason = unavailable_reason()
    if reason or not torch.cuda.is_available():
        sys.exit(f"benchmarks/cuda.py needs a GPU: {reason or 'torch sees no CUDA device'}")
    Bs, Ts, Hs = ((64,), (24,), (16, 64, 256)) if args.quick else ((64, 1024), (24, 96), (16, 64, 128, 256))
    rows = []
    for cell in ("lstm", "gru", "rnn"):
        for B in Bs:
            for T in Ts:
                for H in Hs:
                    res = bench(cell, B, T, H, args.rounds)
                    for kind, (a, b) in res.items():
                        rows.append(dict(kind=kind, cell=cell, B=B, T=T, H=H, tsrnn_ms=a, torch_ms=b, ratio=a / b))
                        print(f"{kind} {cell} B={B} T={T} H={H}: {a:.3f} / {b:.3f} ms = {a / b:.2f}x", flush=True)
    lines = [f"# tsrnn CUDA kernels vs PyTorch {torch.__version__} / cuDNN on {torch.cuda.get_device_name()}", "",
             "| kind | cell | B | T | " + " | ".join(f"H={h}" for h in Hs) + " |", "|---|---|---|---|" + "---|" * len(Hs)]
    for kind in ("train", "infer"):
        for cell in ("lstm", "gru", "rnn"):
            for B in Bs:
                for T in Ts:
                    cells = [next(f"{r['tsrnn_ms']:.3g} / {r['torch_ms']:.3g} — **{r['ratio']:.2f}x**" for r in rows
                                  if (r["kind"], r["cell"], r["B"], r["T"], r["H"]) == (kind, cell, B, T, h)) for h in Hs]
                    lines.append(f"| {kind} | {cell.upper()} | {B} | {T} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
