"""Work shared by every recurrent cell: the input side (one product over all T*B (step, sample) rows
before the time loop, or a per-step loop for a handful of input features), the per-step recurrent
product, and the weight/input gradients after BPTT; every product runs on ``gemm``'s micro-kernel (no
BLAS). The cell modules add the elementwise gate math.

Dims: T time steps, B batch, I input features, H hidden units, G gates (LSTM 4, GRU 3, RNN 1).
Parameter gradients are accumulated (``+=``); activation gradients are written (``=``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import FASTMATH, JIT
from .gemm import matmul_tn, pack, pack_transposed, packed_matmul


@njit(inline="always", **JIT)
def gate_blocks4(row, H):
    """The four H-long gate blocks of a (4H,) row as separate views. Kernels index these with the
    bare loop counter: an offset index such as ``row[H + j]`` keeps LLVM from vectorising."""
    return row[:H], row[H:2 * H], row[2 * H:3 * H], row[3 * H:]


@njit(inline="always", **JIT)
def gate_blocks3(row, H):
    """The three H-long gate blocks of a (3H,) row as separate views (see ``gate_blocks4``)."""
    return row[:H], row[H:2 * H], row[2 * H:]


@njit(inline="always", **JIT)
def zero(a2):
    """a2[...] = 0 for a 2-D array, as a plain loop: numba's ``fill`` links ~1,600 lines of LLVM IR into
    every kernel that uses it, compiled again in each (start-up time)."""
    for r in range(a2.shape[0]):
        row = a2[r]
        for k in range(row.shape[0]):
            row[k] = 0


# Up to this many input features the input side runs inside the time loop, one step's rows at a time,
# as plain vectorised loops (univariate series have I = 1): a product with K = I this small is all
# overhead, and the step's gate rows are still in L1 when the recurrent product and the gate math read
# them (a separate pass over the whole (T, B, G*H) array before the loop cost 10 % of an LSTM forward
# at T = 96, H = 64; the same holds for the gradients after the loop).
SMALL_INPUT = 8


@njit(**JIT)
def transposed(W):
    """W^T as a new C-contiguous array."""
    N, K = W.shape
    WT = np.empty((K, N), W.dtype)
    for n in range(N):
        for k in range(K):
            WT[k, n] = W[n, k]
    return WT


@njit(fastmath=FASTMATH, **JIT)
def project_small(gx_t, x_t, W_ihT, bias):
    """gx_t[b] = bias + sum_i x_t[b, i] W_ihT[i] for one step's rows, vectorised along the G*H units."""
    for b in range(gx_t.shape[0]):
        row, xb = gx_t[b], x_t[b]
        for k in range(row.shape[0]):
            row[k] = bias[k]
        for i in range(xb.shape[0]):
            xi, w = xb[i], W_ihT[i]
            for k in range(row.shape[0]):
                row[k] += xi * w[k]


@njit(fastmath=FASTMATH, **JIT)
def small_input_grads(sums, dW_ihT, dgx_t, x_t):
    """For one step's rows: sums[k] += sum_b dgx_t[b, k] (the input-side bias gradient) and
    dW_ihT[i, k] += sum_b x_t[b, i] dgx_t[b, k] (W_ih's gradient, transposed), vectorised along k."""
    for b in range(dgx_t.shape[0]):
        row, xb = dgx_t[b], x_t[b]
        for k in range(row.shape[0]):
            sums[k] += row[k]
        for i in range(xb.shape[0]):
            xi, acc = xb[i], dW_ihT[i]
            for k in range(row.shape[0]):
                acc[k] += xi * row[k]


@njit(fastmath=FASTMATH, **JIT)
def _fill_rows(gx2, bias):
    for r in range(gx2.shape[0]):
        row = gx2[r]
        for k in range(row.shape[0]):
            row[k] = bias[k]


@njit(inline="always", fastmath=FASTMATH, **JIT)
def input_projection(gx, x, W_ih, bias):
    """gx[t, b, :] = W_ih x[t, b] + bias for all steps at once, one product onto the bias (used for
    more than SMALL_INPUT features; fewer are projected step by step, ``project_small``).

    gx   (T, B, G*H)  written
    x    (T, B, I)
    W_ih (G*H, I)
    bias (G*H,)
    """
    T, B, I = x.shape
    GH = W_ih.shape[0]
    gx2 = gx.reshape(T * B, GH)
    _fill_rows(gx2, bias)
    packed_matmul(gx2, x.reshape(T * B, I), pack_transposed(W_ih))


@njit(inline="always", **JIT)
def input_side(gates, x, W_ih, bias):
    """Before a forward time loop. For more than SMALL_INPUT features: gates = x W_ih^T + bias for all
    steps (``input_projection``) and an empty array back; for fewer: nothing yet, and W_ih^T (I, G*H)
    back for ``input_step``."""
    if x.shape[2] <= SMALL_INPUT:
        return transposed(W_ih)
    input_projection(gates, x, W_ih, bias)
    return np.empty((0, 0), W_ih.dtype)


@njit(inline="always", **JIT)
def input_step(gates_t, x_t, W_ihT, bias):
    """Inside the forward time loop: gates_t = x_t W_ih^T + bias when ``input_side`` left it to the loop."""
    if W_ihT.size:
        project_small(gates_t, x_t, W_ihT, bias)


@njit(inline="always", **JIT)
def input_grad_buffers(x, W_ih):
    """Before a backward time loop: zeroed accumulators (sums (G*H,), dW_ihT (I, G*H)) for
    ``input_grad_step``; dW_ihT is (0, G*H) for more than SMALL_INPUT features, whose gradients
    ``weight_grads`` computes after the loop."""
    GH, I = W_ih.shape
    rows = I if I <= SMALL_INPUT else 0
    return np.zeros(GH, W_ih.dtype), np.zeros((rows, GH), W_ih.dtype)


@njit(inline="always", **JIT)
def input_grad_step(sums, dW_ihT, dgx_t, x_t):
    """Inside the backward time loop, for few features: the step's share of the input-side bias and
    W_ih gradients (``small_input_grads``) while dgx_t is in L1."""
    if dW_ihT.shape[0]:
        small_input_grads(sums, dW_ihT, dgx_t, x_t)


@njit(inline="always", **JIT)
def recurrent_product(C, h_prev, W_hhP):
    """C += h_prev W_hh^T, (B, H) x (H, G*H), with the weights packed once per sequence (W_hhP =
    ``pack_transposed(W_hh)``). A zero state (the usual h0) skips the product; ``np.any`` stops at the
    first non-zero, so the check is nearly free."""
    if np.any(h_prev):
        packed_matmul(C, h_prev, W_hhP)


@njit(fastmath=FASTMATH, **JIT)
def _column_sums(total, a2):
    """total[k] += sum_r a2[r, k]"""
    for r in range(a2.shape[0]):
        row = a2[r]
        for k in range(row.shape[0]):
            total[k] += row[k]


@njit(inline="always", fastmath=FASTMATH, **JIT)
def weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgx, dgh, x, h0, out, W_ih, reverse, sums, dW_ihT):
    """Gradients of the weights and inputs once the BPTT loop has filled dgx/dgh.

    dx    (T, B, I)    written: dL/dx = dgx W_ih; pass a (T, B, 0) array when it is not needed (a
                       training step never needs the gradient of the network's own inputs)
    dW_ih (G*H, I)     += sum_t dgx_t^T x_t
    dW_hh (G*H, H)     += sum_t dgh_t^T h_{t-1}   (h_{t-1} = h0 at the first step of the direction)
    db_ih (G*H,)       += sum_t dgx_t
    db_hh (G*H,)       += sum_t dgh_t
    dgx   (T, B, G*H)  gradient at the pre-activations on the input side
    dgh   (T, B, G*H)  gradient at the pre-activations on the hidden side (== dgx except for GRU)
    x (T, B, I), h0 (B, H), out (T, B, H) the hidden states of this direction
    sums (G*H,), dW_ihT (I, G*H): for I <= SMALL_INPUT, sum_t dgx_t and sum_t x_t^T dgx_t, which the
                       cell's BPTT loop accumulated step by step (``small_input_grads``); else unused
    """
    T, B, I = x.shape
    H = h0.shape[1]
    GH = W_ih.shape[0]
    dgx2 = dgx.reshape(T * B, GH)
    dgh2 = dgh.reshape(T * B, GH)
    x2 = x.reshape(T * B, I)
    if dx.shape[2] == I:
        zero(dx.reshape(T * B, I))
        packed_matmul(dx.reshape(T * B, I), dgx2, pack(W_ih))
    if I <= SMALL_INPUT:
        for k in range(GH):
            for i in range(I):
                dW_ih[k, i] += dW_ihT[i, k]
    else:
        matmul_tn(dW_ih, dgx2, x2)
        _column_sums(sums, dgx2)
    # h_{t-1} for every step: the previous output of this direction, h0 where the direction starts.
    out2 = out.reshape(T * B, H)
    if reverse:
        first = T - 1
        if T > 1:
            matmul_tn(dW_hh, dgh2[: (T - 1) * B], out2[B:])
    else:
        first = 0
        if T > 1:
            matmul_tn(dW_hh, dgh2[B:], out2[: (T - 1) * B])
    if np.any(h0):                                   # the usual zero initial state adds nothing
        matmul_tn(dW_hh, dgh[first], h0)
    db_ih += sums
    if dgh.ctypes.data != dgx.ctypes.data:           # GRU: the hidden side has its own gradient
        sums[:] = 0
        _column_sums(sums, dgh2)
    db_hh += sums
