"""Building blocks shared by the CUDA cells and the CUDA network: activations, a tiled GEMM, bias and
column-sum kernels, the h_{t-1} shift, elementwise helpers, the loss, Adam and gradient clipping.

All kernels are float32. Launchers take numba device arrays and return nothing (outputs are written
in place); the only host transfers are the loss value and the gradient norm (one float each).
"""
from __future__ import annotations

import math
import os

import numpy as np
from numba import cuda, float32

# The simulator (NUMBA_ENABLE_CUDASIM=1, for tests) runs every thread as a Python thread: it gets small
# tiles and blocks, which also makes the tests cover the multi-tile paths on tiny shapes.
_SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
TILE = 4 if _SIMULATOR else 16        # GEMM tile edge: TILE x TILE threads, two tiles in shared memory
THREADS = 32 if _SIMULATOR else 256   # 1-D kernels
MAX_H = 1024                          # hidden units per block (one thread per unit)
MAX_GATES_H = 4 * MAX_H               # shared-memory room for one step's gate gradients (LSTM: 4H)

_ONE = float32(1.0)
_ZERO = float32(0.0)


@cuda.jit(device=True, inline=True)
def sigmoid(x):
    return _ONE / (_ONE + math.exp(-x))


@cuda.jit(device=True, inline=True)
def tanh(x):
    return math.tanh(x)


# ------------------------------------------------------------------------------------------------------
# GEMM: C (=|+=) op(A) @ op(B)
@cuda.jit
def gemm_kernel(A, B, C, trans_a, trans_b, accumulate):
    """C[M, N] = op(A)[M, K] @ op(B)[K, N] (+ C when accumulate); op transposes when trans_*."""
    sa = cuda.shared.array((TILE, TILE), float32)
    sb = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    M = C.shape[0]
    N = C.shape[1]
    K = A.shape[0] if trans_a else A.shape[1]
    acc = _ZERO
    for k0 in range(0, K, TILE):
        ka = k0 + tx
        kb = k0 + ty
        if row < M and ka < K:
            sa[ty, tx] = A[ka, row] if trans_a else A[row, ka]
        else:
            sa[ty, tx] = _ZERO
        if col < N and kb < K:
            sb[ty, tx] = B[col, kb] if trans_b else B[kb, col]
        else:
            sb[ty, tx] = _ZERO
        cuda.syncthreads()
        for kk in range(TILE):
            acc += sa[ty, kk] * sb[kk, tx]
        cuda.syncthreads()
    if row < M and col < N:
        C[row, col] = C[row, col] + acc if accumulate else acc


def gemm(A, B, C, trans_a=False, trans_b=False, accumulate=False):
    M, N = C.shape
    grid = ((N + TILE - 1) // TILE, (M + TILE - 1) // TILE)
    gemm_kernel[grid, (TILE, TILE)](A, B, C, trans_a, trans_b, accumulate)


# ------------------------------------------------------------------------------------------------------
# small elementwise kernels
def _blocks(n):
    return max(1, (n + THREADS - 1) // THREADS)


@cuda.jit
def add_bias_kernel(X, b1, b2, two):
    """X[r, k] += b1[k] (+ b2[k] when two)."""
    i = cuda.grid(1)
    if i < X.shape[0] * X.shape[1]:
        k = i % X.shape[1]
        X[i // X.shape[1], k] += b1[k] + b2[k] if two else b1[k]


def add_bias(X2d, b1, b2=None):
    add_bias_kernel[_blocks(X2d.size), THREADS](X2d, b1, b1 if b2 is None else b2, b2 is not None)


@cuda.jit
def colsum_kernel(X, out):
    """out[k] += sum_r X[r, k]."""
    k = cuda.grid(1)
    if k < X.shape[1]:
        acc = _ZERO
        for r in range(X.shape[0]):
            acc += X[r, k]
        out[k] += acc


def colsum_add(X2d, out):
    colsum_kernel[_blocks(X2d.shape[1]), THREADS](X2d, out)


@cuda.jit
def shift_kernel(out, h0, hprev, reverse):
    """hprev[t] = h_{t-1} of this direction: out[t-1] (out[t+1] when reverse), h0 where it starts."""
    i = cuda.grid(1)
    T, B, H = out.shape
    if i < T * B * H:
        t = i // (B * H)
        b = (i // H) % B
        j = i % H
        src = t + 1 if reverse else t - 1
        if src < 0 or src >= T:
            hprev[t, b, j] = h0[b, j]
        else:
            hprev[t, b, j] = out[src, b, j]


def shifted_states(out, h0, reverse):
    hprev = cuda.device_array_like(out)
    shift_kernel[_blocks(out.size), THREADS](out, h0, hprev, reverse)
    return hprev


@cuda.jit
def transpose_kernel(A, At):
    i = cuda.grid(1)
    if i < A.shape[0] * A.shape[1]:
        r = i // A.shape[1]
        c = i % A.shape[1]
        At[c, r] = A[r, c]


def transpose(A):
    At = cuda.device_array((A.shape[1], A.shape[0]), dtype=A.dtype)
    transpose_kernel[_blocks(A.size), THREADS](A, At)
    return At


@cuda.jit
def scale_kernel(x, factor):
    i = cuda.grid(1)
    if i < x.size:
        x[i] *= factor


@cuda.jit
def fill_kernel(x, value):
    i = cuda.grid(1)
    if i < x.size:
        x[i] = value


@cuda.jit
def mul_kernel(x, y, out):
    """out = x * y elementwise (flat views)."""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = x[i] * y[i]


@cuda.jit
def add_kernel(x, y):
    """x += y elementwise (flat views)."""
    i = cuda.grid(1)
    if i < x.size:
        x[i] += y[i]


def flat(a):
    return a.reshape(a.size)


@cuda.jit
def concat_kernel(a, b, out):
    """out[..., :H] = a, out[..., H:] = b  for (N, H) views."""
    i = cuda.grid(1)
    N, H = a.shape
    if i < N * H:
        r = i // H
        j = i % H
        out[r, j] = a[r, j]
        out[r, H + j] = b[r, j]


@cuda.jit
def split_kernel(x, a, b):
    """a = x[:, :H], b = x[:, H:] for (N, 2H) -> (N, H) views."""
    i = cuda.grid(1)
    N, H = a.shape
    if i < N * H:
        r = i // H
        j = i % H
        a[r, j] = x[r, j]
        b[r, j] = x[r, H + j]


@cuda.jit
def gather_columns_kernel(X, idx, out):
    """out[t, i, :] = X[t, idx[i], :] (a batch of samples from time-major data on the device)."""
    n = cuda.grid(1)
    T, Bo, F = out.shape
    if n < T * Bo * F:
        t = n // (Bo * F)
        i = (n // F) % Bo
        f = n % F
        out[t, i, f] = X[t, idx[i], f]


@cuda.jit
def gather_rows_kernel(Y, idx, out):
    n = cuda.grid(1)
    Bo, F = out.shape
    if n < Bo * F:
        out[n // F, n % F] = Y[idx[n // F], n % F]


# ------------------------------------------------------------------------------------------------------
# loss, clipping, Adam
@cuda.jit
def loss_kernel(pred, target, dy, total, kind):
    """kind 0: MSE, 1: MAE. dy = dL/dpred for the mean loss; total[0] += sum of the elementwise losses."""
    i = cuda.grid(1)
    n = pred.size
    if i < n:
        d = pred[i] - target[i]
        if kind == 0:
            dy[i] = float32(2.0) * d / float32(n)
            cuda.atomic.add(total, 0, d * d)
        else:
            dy[i] = (_ONE if d > 0 else (-_ONE if d < 0 else _ZERO)) / float32(n)
            cuda.atomic.add(total, 0, abs(d))


def loss(pred, target, kind: str):
    """(mean loss as a Python float, device dL/dpred)."""
    dy = cuda.device_array_like(pred)
    total = cuda.to_device(np.zeros(1, np.float32))
    loss_kernel[_blocks(pred.size), THREADS](flat(pred), flat(target), flat(dy), total, 0 if kind == "mse" else 1)
    return float(total.copy_to_host()[0]) / pred.size, dy


@cuda.jit
def sumsq_kernel(x, total):
    i = cuda.grid(1)
    if i < x.size:
        cuda.atomic.add(total, 0, x[i] * x[i])


def clip_by_global_norm(grads, max_norm: float) -> float:
    total = cuda.to_device(np.zeros(1, np.float32))
    sumsq_kernel[_blocks(grads.size), THREADS](grads, total)
    norm = math.sqrt(float(total.copy_to_host()[0]))
    if norm > max_norm > 0:
        scale_kernel[_blocks(grads.size), THREADS](grads, float32(max_norm / norm))
    return norm


@cuda.jit
def adam_kernel(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, bc1, bc2):
    """The CPU kernel's update (tsrnn.kernels.cpu.optim.adam_update), one thread per parameter."""
    k = cuda.grid(1)
    if k < params.size:
        g = grads[k]
        m[k] = beta1 * m[k] + (_ONE - beta1) * g
        v[k] = beta2 * v[k] + (_ONE - beta2) * g * g
        params[k] -= lr * ((m[k] / bc1) / (math.sqrt(v[k] / bc2) + eps) + weight_decay * params[k])


def adam_update(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step):
    f = np.float32
    adam_kernel[_blocks(params.size), THREADS](params, grads, m, v, f(lr), f(beta1), f(beta2), f(eps),
                                               f(weight_decay), f(1 - beta1 ** step), f(1 - beta2 ** step))


def launch_1d(kernel, n, *args):
    kernel[_blocks(n), THREADS](*args)
