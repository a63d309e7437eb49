"""Work shared by every recurrent cell on the GPU (the twin of ``cpu/recurrent.py``): the gate blocks
of a row, the input side (one GEMM over all T*B (step, sample) rows before the time loop, plus the
biases), the h_{t-1} shift, and the weight/input gradients after BPTT (GEMMs and column sums).

Dims: T time steps, B batch, I input features, H hidden units, G gates (LSTM 4, GRU 3, RNN 1).
Parameter gradients are accumulated (``+=``); activation gradients are written (``=``).
"""
from __future__ import annotations

from numba import cuda

from .activations import _ZERO
from .gemm import THREADS, blocks, gemm

MAX_H = 1024                          # hidden units per block (one thread per unit)
MAX_GATES_H = 4 * MAX_H               # shared-memory room for one step's gate gradients (LSTM: 4H)


@cuda.jit(device=True, inline=True)
def gate_blocks4(row, H):
    """The four H-long gate blocks of a (4H,) row as separate views (as on the CPU)."""
    return row[:H], row[H:2 * H], row[2 * H:3 * H], row[3 * H:]


@cuda.jit(device=True, inline=True)
def gate_blocks3(row, H):
    """The three H-long gate blocks of a (3H,) row as separate views (as on the CPU)."""
    return row[:H], row[H:2 * H], row[2 * H:]


@cuda.jit
def add_bias_kernel(X, b1, b2, two):
    """X[r, k] += b1[k] (+ b2[k] when two)."""
    i = cuda.grid(1)
    if i < X.shape[0] * X.shape[1]:
        k = i % X.shape[1]
        X[i // X.shape[1], k] += b1[k] + b2[k] if two else b1[k]


def add_bias(X2d, b1, b2=None):
    add_bias_kernel[blocks(X2d.size), THREADS](X2d, b1, b1 if b2 is None else b2, b2 is not None)


@cuda.jit
def colsum_kernel(X, out):
    """out[k] += sum_r X[r, k]."""
    k = cuda.grid(1)
    if k < X.shape[1]:
        acc = _ZERO
        for r in range(X.shape[0]):
            acc += X[r, k]
        out[k] += acc


def column_sums(X2d, out):
    """out += the column sums of X2d."""
    colsum_kernel[blocks(X2d.shape[1]), THREADS](X2d, out)


def input_side(gates, x, W_ih, b_ih, b_hh=None):
    """gates = W_ih x_t + b_ih (+ b_hh) for all T steps at once: one GEMM over the T*B rows."""
    T, B, I = x.shape
    g2 = gates.reshape(T * B, gates.shape[2])
    gemm(x.reshape(T * B, I), W_ih, g2, trans_b=True)
    add_bias(g2, b_ih, b_hh)


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
    shift_kernel[blocks(out.size), THREADS](out, h0, hprev, reverse)
    return hprev


def weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgx, dgh, x, h0, out, W_ih, reverse):
    """dW_ih += dgx^T x, dW_hh += dgh^T h_prev, db_ih += colsum dgx, db_hh += colsum dgh, and
    dx = dgx W_ih (skipped for a (T, B, 0) dx)."""
    T, B, I = x.shape
    H = h0.shape[1]
    GH = W_ih.shape[0]
    dgx2 = dgx.reshape(T * B, GH)
    dgh2 = dgh.reshape(T * B, GH)
    gemm(dgx2, x.reshape(T * B, I), dW_ih, trans_a=True, accumulate=True)
    gemm(dgh2, shifted_states(out, h0, reverse).reshape(T * B, H), dW_hh, trans_a=True, accumulate=True)
    column_sums(dgx2, db_ih)
    column_sums(dgh2, db_hh)
    if dx.shape[2] > 0:
        gemm(dgx2, W_ih, dx.reshape(T * B, I))
