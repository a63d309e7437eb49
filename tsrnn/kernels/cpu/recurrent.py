"""GEMM work shared by every recurrent cell: the input projection before the time loop and the
weight/input gradients after BPTT. Each is a handful of large matrix products (numba's ``np.dot``
calls BLAS), so the per-step work left in the cell modules is one (B, H) x (H, G*H) product plus
elementwise gate math.

Dims: T time steps, B batch, I input features, H hidden units, G gates (LSTM 4, GRU 3, RNN 1).
Parameter gradients are accumulated (``+=``); activation gradients are written (``=``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import FASTMATH, JIT


@njit(inline="always", **JIT)
def gate_blocks4(row, H):
    """The four H-long gate blocks of a (4H,) row as separate views. Kernels index these with the
    bare loop counter: an offset index such as ``row[H + j]`` keeps LLVM from vectorising."""
    return row[:H], row[H:2 * H], row[2 * H:3 * H], row[3 * H:]


@njit(inline="always", **JIT)
def gate_blocks3(row, H):
    """The three H-long gate blocks of a (3H,) row as separate views (see ``gate_blocks4``)."""
    return row[:H], row[H:2 * H], row[2 * H:]


@njit(fastmath=FASTMATH, **JIT)
def input_projection(gx, x, W_ih, bias):
    """gx[t, b, :] = W_ih x[t, b] + bias, for all steps in one GEMM.

    gx   (T, B, G*H)  written
    x    (T, B, I)
    W_ih (G*H, I)
    bias (G*H,)
    """
    T, B, I = x.shape
    GH = W_ih.shape[0]
    gx2 = gx.reshape(T * B, GH)
    np.dot(x.reshape(T * B, I), W_ih.T, gx2)
    for r in range(T * B):
        row = gx2[r]
        for k in range(GH):
            row[k] += bias[k]


@njit(fastmath=FASTMATH, **JIT)
def weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgx, dgh, x, h0, out, W_ih, reverse):
    """Gradients of the input and recurrent weights once the BPTT loop has filled dgx/dgh.

    dx    (T, B, I)    written: dL/dx = dgx W_ih
    dW_ih (G*H, I)     += sum_t dgx_t^T x_t
    dW_hh (G*H, H)     += sum_t dgh_t^T h_{t-1}   (h_{t-1} = h0 at the first step of the direction)
    db_ih (G*H,)       += sum_t dgx_t
    db_hh (G*H,)       += sum_t dgh_t
    dgx   (T, B, G*H)  gradient at the pre-activations on the input side
    dgh   (T, B, G*H)  gradient at the pre-activations on the hidden side (== dgx except for GRU)
    x (T, B, I), h0 (B, H), out (T, B, H) the hidden states of this direction
    """
    T, B, I = x.shape
    H = h0.shape[1]
    GH = W_ih.shape[0]
    dgx2 = dgx.reshape(T * B, GH)
    dgh2 = dgh.reshape(T * B, GH)
    dW_ih += np.dot(dgx2.T, x.reshape(T * B, I))
    np.dot(dgx2, W_ih, dx.reshape(T * B, I))
    # h_{t-1} for every step: the previous output of this direction, h0 where the direction starts.
    out2 = out.reshape(T * B, H)
    if reverse:
        first = T - 1
        if T > 1:
            dW_hh += np.dot(dgh2[: (T - 1) * B].T, out2[B:])
    else:
        first = 0
        if T > 1:
            dW_hh += np.dot(dgh2[B:].T, out2[: (T - 1) * B])
    dW_hh += np.dot(dgh[first].T, h0)
    for r in range(T * B):
        gx_r, gh_r = dgx2[r], dgh2[r]
        for k in range(GH):
            db_ih[k] += gx_r[k]
            db_hh[k] += gh_r[k]
