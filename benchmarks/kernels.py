"""tsrnn's CPU kernels against PyTorch, interleaved in one process.

Training step = forward + BPTT + Adam (+ linear head, MSE), batch 64, input size 1; inference at batch
1 and 1024; cells LSTM/GRU/RNN; T in {24, 96}; H in {16, 32, 64, 128, 256}; 1 and 2 layers; 1 and 2
threads (torch.set_num_threads(n) against Network(n_threads=n)). For each configuration the two
contenders alternate in rounds, each round timing many steps; a cell is the median over rounds of each
round's median step time, and ratio = tsrnn / torch (below 1: tsrnn is faster).

Also measured: ``import tsrnn`` and the first training step in a fresh process, with an empty and a
warm numba cache.

Usage:
    python benchmarks/kernels.py [--quick] [--json PATH] [--markdown PATH]

tsrnn's kernels call no BLAS (every product runs on tsrnn's own micro-kernel, ``tsrnn.kernels.cpu.gemm``);
the header prints the vector width and tile it was built for on this machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

BATCH = 64


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="H in {16, 64, 256}, T=24, 1 layer (< 3 min)")
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--markdown", help="also write the tables here")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds per configuration")
    ap.add_argument("--cells", default="lstm,gru,rnn")
    return ap.parse_args(argv)


def time_block(fn, min_time=0.2, min_steps=5, max_steps=200, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or (time.perf_counter() - start < min_time and len(times) < max_steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


# Pause between contenders: worker threads keep spinning after their library's last call (OpenMP ~1 ms,
# OpenBLAS, which PyTorch may load, up to ~0.1 s) and would steal a core from whichever contender is
# timed next.
PAUSE_S = 0.15


def interleave(fns, rounds, **kw):
    """Alternate the contenders round by round; return each one's median of round medians (ms)."""
    per = [[] for _ in fns]
    for r in range(rounds):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            time.sleep(PAUSE_S)
            per[i].append(time_block(fns[i], **kw))
    return [statistics.median(p) for p in per]


def torch_model(torch, cell, H, layers):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    rnn = cls(1, H, num_layers=layers, batch_first=True)
    head = torch.nn.Linear(H, 1)
    return rnn, head


def bench_training(torch, cell, T, H, layers, threads, rounds):
    from tsrnn.network import Network
    from tsrnn.optim import Adam

    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, BATCH, 1)).astype(np.float32)
    y = rng.normal(size=(BATCH, 1)).astype(np.float32)
    net = Network(cell, 1, H, 1, num_layers=layers, seed=0, n_threads=threads)
    opt = Adam(lr=1e-3)

    rnn, head = torch_model(torch, cell, H, layers)
    topt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2)))
    yt = torch.from_numpy(y)
    loss_fn = torch.nn.MSELoss()

    def torch_step():
        topt.zero_grad(set_to_none=True)
        loss_fn(head(rnn(xt)[0][:, -1, :]), yt).backward()
        topt.step()

    return interleave([lambda: net.train_step(x, y, opt), torch_step], rounds)


def bench_inference(torch, cell, T, H, threads, batch, rounds):
    from tsrnn.network import Network

    x = np.random.default_rng(1).normal(size=(T, batch, 1)).astype(np.float32)
    net = Network(cell, 1, H, 1, seed=0, n_threads=threads)
    rnn, head = torch_model(torch, cell, H, 1)
    rnn.eval()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2)))

    def torch_infer():
        with torch.inference_mode():
            head(rnn(xt)[0][:, -1, :])

    kw = dict(min_time=0.1, min_steps=20) if batch == 1 else dict(min_time=0.2, min_steps=3)
    return interleave([lambda: net.predict(x), torch_infer], rounds, **kw)


STARTUP_STEP = """
import time; t0 = time.perf_counter()
import numpy as np
from tsrnn.network import Network
from tsrnn.optim import Adam
net = Network("lstm", 1, 64, 1, seed=0)
net.train_step(np.zeros((24, 64, 1), np.float32), np.zeros((64, 1), np.float32), Adam())
print(time.perf_counter() - t0)
"""


def bench_startup(runs=5):
    env = dict(os.environ)
    imports = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import tsrnn; "
                              "print(time.perf_counter()-t)"], capture_output=True, text=True, env=env, check=True)
        imports.append(float(out.stdout))
    run = lambda: float(subprocess.run([sys.executable, "-c", STARTUP_STEP], capture_output=True, text=True,
                                       env=env, check=True).stdout)
    colds, warms = [], []
    for _ in range(3):                     # three cold starts, each with an empty cache, each then warm
        with tempfile.TemporaryDirectory(prefix="tsrnn-bench-cache-") as cache:
            env["NUMBA_CACHE_DIR"] = cache
            colds.append(run())
            warms.append(run())
    cold, warm = statistics.median(colds), statistics.median(warms)
    return {"import_s": statistics.median(imports), "first_step_cold_s": cold, "first_step_warm_s": warm}


def gemm_description():
    from tsrnn.kernels.cpu.gemm import MR, NV, VECTOR_BYTES

    lanes = VECTOR_BYTES // 4
    return f"{VECTOR_BYTES * 8}-bit vectors, {MR} x {NV * lanes} float32 tiles"


def markdown_table(rows, kind, threads, Hs):
    lines = ["| cell | T | layers | " + " | ".join(f"H={h}" for h in Hs) + " |",
             "|---|---|---|" + "---|" * len(Hs)]
    keys = sorted({(r["cell"], r["T"], r["layers"]) for r in rows if r["kind"] == kind and r["threads"] == threads},
                  key=lambda k: (["lstm", "gru", "rnn"].index(k[0]), k[1], k[2]))
    for cell, T, layers in keys:
        cells = []
        for h in Hs:
            r = next((r for r in rows if (r["kind"], r["cell"], r["T"], r["layers"], r["threads"], r["H"])
                      == (kind, cell, T, layers, threads, h)), None)
            cells.append("" if r is None else f"{r['tsrnn_ms']:.3g} / {r['torch_ms']:.3g} — **{r['ratio']:.2f}x**")
        lines.append(f"| {cell.upper()} | {T} | {layers} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import torch

    Hs = [16, 64, 256] if args.quick else [16, 32, 64, 128, 256]
    Ts = [24] if args.quick else [24, 96]
    layer_opts = [1] if args.quick else [1, 2]
    rounds = args.rounds or (2 if args.quick else 5)
    cells = args.cells.split(",")
    rows = []
    started = time.time()

    startup = bench_startup()
    # warm the kernels (compile) before anything is timed
    bench_training(torch, "lstm", 4, 8, 1, 1, 1)
    header = [f"# tsrnn kernels vs PyTorch {torch.__version__} ({'quick' if args.quick else 'full'} run)",
              f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
              f"numpy {np.__version__}; tsrnn GEMM micro-kernel: {gemm_description()}",
              f"each cell: tsrnn ms / torch ms — ratio (median of {rounds} interleaved rounds)"]
    print("\n".join(header), flush=True)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for cell in cells:
            for T in Ts:
                for layers in layer_opts:
                    for H in Hs:
                        a, b = bench_training(torch, cell, T, H, layers, threads, rounds)
                        rows.append(dict(kind="train", cell=cell, T=T, H=H, layers=layers, threads=threads,
                                         tsrnn_ms=a, torch_ms=b, ratio=a / b))
                        print(f"train {cell} T={T} H={H} L={layers} threads={threads}: "
                              f"{a:.3f} / {b:.3f} ms = {a / b:.2f}x", flush=True)
                for H in Hs:
                    for batch in (1, 1024):
                        a, b = bench_inference(torch, cell, T, H, threads, batch, rounds)
                        rows.append(dict(kind=f"infer{batch}", cell=cell, T=T, H=H, layers=1, threads=threads,
                                         tsrnn_ms=a, torch_ms=b, ratio=a / b))
                        print(f"infer b={batch} {cell} T={T} H={H} threads={threads}: "
                              f"{a:.3f} / {b:.3f} ms = {a / b:.2f}x", flush=True)

    out = header[:]
    for threads in (1, 2):
        out += ["", f"## Training step (fwd + BPTT + Adam), batch {BATCH}, {threads} thread(s)", "",
                markdown_table(rows, "train", threads, Hs)]
        for batch in (1, 1024):
            out += ["", f"## Inference, batch {batch}, 1 layer, {threads} thread(s)", "",
                    markdown_table(rows, f"infer{batch}", threads, Hs)]
    out += ["", "## Start-up (fresh processes)", "",
            "| `import tsrnn` | first LSTM training step, empty numba cache | same, warm cache |",
            "|---|---|---|",
            f"| {startup['import_s']:.3f} s | {startup['first_step_cold_s']:.2f} s | {startup['first_step_warm_s']:.2f} s |",
            "", f"wall time of this benchmark: {time.time() - started:.0f} s"]
    text = "\n".join(out)
    print("\n" + text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"startup": startup, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
