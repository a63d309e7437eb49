"""Run by tests/test_cuda.py in a fresh process with NUMBA_ENABLE_CUDASIM=1 (the simulator must be
switched on before numba is imported). Prints one JSON line: the largest differences between the CUDA
kernels and the CPU kernels, on tiny shapes (a few hundred simulated threads per launch)."""
import json
import os
import sys

assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
import numpy as np  # noqa: E402
from numba import cuda  # noqa: E402

from tsrnn.kernels import cell_kernels  # noqa: E402
from tsrnn.network import Network  # noqa: E402
from tsrnn.optim import Adam  # noqa: E402

rng = np.random.default_rng(0)
f32 = np.float32
T, B, I, H = 3, 2, 2, 4
report = {}


def kernel_errors(cell, G, reverse):
    x = rng.normal(size=(T, B, I)).astype(f32)
    h0, c0 = (rng.normal(size=(B, H)).astype(f32) * 0.5 for _ in range(2))
    W_ih, W_hh = rng.normal(size=(G * H, I)).astype(f32) * 0.5, rng.normal(size=(G * H, H)).astype(f32) * 0.5
    b_ih, b_hh = rng.normal(size=G * H).astype(f32) * 0.1, rng.normal(size=G * H).astype(f32) * 0.1
    (cf, cb), (gf, gb) = cell_kernels(cell, "cpu"), cell_kernels(cell, "cuda")
    out, aux, gates = np.empty((T, B, H), f32), np.empty((T, B, H), f32), np.empty((T, B, G * H), f32)
    cf(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse)
    dev = [cuda.to_device(a) for a in (x, h0, c0, W_ih, W_hh, b_ih, b_hh)]
    d_out, d_aux, d_gates = (cuda.device_array(a.shape, f32) for a in (out, aux, gates))
    gf(d_out, d_aux, d_gates, *dev, reverse)
    fwd = max(np.abs(d_out.copy_to_host() - out).max(), np.abs(d_gates.copy_to_host() - gates).max())
    dout = rng.normal(size=(T, B, H)).astype(f32)
    results = []
    for fn, on_device in ((cb, False), (gb, True)):
        buffers = [np.zeros((T, B, I), f32), np.zeros((B, H), f32), np.zeros((B, H), f32), np.zeros_like(W_ih),
                   np.zeros_like(W_hh), np.zeros_like(b_ih), np.zeros_like(b_hh), np.zeros((T, B, G * H), f32),
                   np.zeros((T, B, G * H), f32)]
        args = buffers + [dout, x, h0, c0, W_ih, W_hh, out, aux, gates]
        if on_device:
            args = [cuda.to_device(a) for a in args]
        fn(*args, reverse)
        results.append([a.copy_to_host() if on_device else a for a in args[:7]])
    bwd = max(np.abs(a - b).max() for a, b in zip(*results) if cell == "lstm" or a is not results[0][2])
    return float(fwd), float(bwd)


what = sys.argv[1]
if what == "kernels":
    for cell, G in (("lstm", 4), ("gru", 3), ("rnn", 1)):
        for reverse in (False, True):
            report[f"{cell}{'_reverse' if reverse else ''}"] = kernel_errors(cell, G, reverse)
    print(json.dumps(report))
    sys.exit(0)

# the whole network: 2 layers, bidirectional, dropout, 2 Adam steps with clipping, CPU vs GPU: one Network
# class, two backends; then the same API on both (forward with initial states, backward's input gradients)
cell, head, *future = sys.argv[1].split(":") + ([] if sys.argv[1].count(":") else ["direct"])
F = 2 if future else 0                          # "lstm:direct:future": covariate inputs of the horizon
shape = dict(num_layers=2, bidirectional=head == "direct", dropout=0.3, seed=5, head=head, future_size=F)
cpu = Network(cell, I, H, 3, **shape)
gpu = Network(cell, I, H, 3, device="cuda", **shape)
report["same_start"] = float(np.abs(cpu.params - gpu.params).max())
x = rng.normal(size=(T, B, I)).astype(f32)
y = rng.normal(size=(B, 3)).astype(f32)
xf = rng.normal(size=(3, B, F)).astype(f32) if F else None
opt_c, opt_g = Adam(lr=0.01), Adam(lr=0.01)
losses = [(cpu.train_step(x, y, opt_c, "mae", 0.5, x_future=xf), gpu.train_step(x, y, opt_g, "mae", 0.5, x_future=xf))
          for _ in range(2)]
report["network_loss"] = max(abs(a - b) for a, b in losses)
report["network_params"] = float(np.abs(cpu.params - gpu.params).max())
report["optimizer_state_on_device"] = hasattr(opt_g.m, "copy_to_host") and isinstance(opt_c.m, np.ndarray)
report["network_predict"] = float(np.abs(cpu.predict(x, x_future=xf) - gpu.predict(x, x_future=xf)).max())
D = 2 if head == "direct" else 1
h0 = rng.normal(size=(2 * D, B, H)).astype(f32) * 0.5
c0 = rng.normal(size=(2 * D, B, H)).astype(f32) * 0.5
out_c, out_g = cpu.forward(x, h0, c0, x_future=xf), gpu.forward(x, h0, c0, x_future=xf)
dy = rng.normal(size=out_c.shape).astype(f32)
grads_c, grads_g = cpu.backward(dy), gpu.backward(dy)
report["forward_with_states"] = float(np.abs(out_c - out_g).max())
report["backward_inputs"] = {k: float(np.abs(grads_c[k] - grads_g[k]).max()) for k in grads_c}
report["backward_keys_match"] = sorted(grads_c) == sorted(grads_g)
report["backward_params"] = float(np.abs(cpu.grads - gpu.grads).max())
print(json.dumps(report))
