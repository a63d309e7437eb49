"""Tanh RNN on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equation, buffers and names as ``tsrnn/kernels/cpu/rnn.py``:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

One block per batch row, one thread per hidden unit j. Parameter gradients are accumulated (+=),
everything else is written (=).
"""
from __future__ import annotations

from numba import cuda, float32

from .activations import _ZERO, tanh, tanh_grad
from .gemm import transposed
from .recurrent import MAX_H, input_side, weight_grads


@cuda.jit
def rnn_forward_kernel(out, gates, h0, W_hhT, reverse):
    """gates[t, b] holds W_ih x_t + b_ih + b_hh (kept: the input-side pre-activations)."""
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    h_s = cuda.shared.array(MAX_H, float32)          # h_{t-1} of this batch row
    if j < H:
        h_s[j] = h0[b, j]
    cuda.syncthreads()
    for s in range(T):
        t = T - 1 - s if reverse else s
        h = _ZERO
        if j < H:
            acc = _ZERO                              # W_hh h_{t-1}, coalesced over j through W_hh^T
            for k in range(H):
                acc += W_hhT[k, j] * h_s[k]
            h = tanh(acc + gates[t, b, j])           # h_t = tanh(W_ih x + b + W_hh h_{t-1})
            out[t, b, j] = h
        cuda.syncthreads()
        if j < H:
            h_s[j] = h
        cuda.syncthreads()


def rnn_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written; gates (T, B, H) the input-side pre-activations, written; aux and c0
    unused (uniform signature); x (T, B, I); h0 (B, H)"""
    B, H = h0.shape
    input_side(gates, x, W_ih, b_ih, b_hh)           # W_ih x_t + b_ih + b_hh, all steps at once
    rnn_forward_kernel[B, H](out, gates, h0, transposed(W_hh), reverse)


@cuda.jit
def rnn_backward_kernel(dgates, dh0, dout, out, W_hh, reverse):
    """dgates (T, B, H) written: dL/d(pre-activation); dh0 (B, H) written."""
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    d_s = cuda.shared.array(MAX_H, float32)          # this step's d_t of the batch row
    dh = _ZERO                                       # dL/dh_t through the recurrence
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        if j < H:
            d = (dout[t, b, j] + dh) * tanh_grad(out[t, b, j])
            dgates[t, b, j] = d
            d_s[j] = d
        cuda.syncthreads()
        if j < H:
            acc = _ZERO
            for r in range(H):                       # dh_{t-1} = d_t W_hh
                acc += d_s[r] * W_hh[r, j]
            dh = acc
        cuda.syncthreads()
    if j < H:
        dh0[b, j] = dh


def rnn_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """Same contract as the CPU ``rnn_backward``: dx (T, B, I) written (or (T, B, 0): skipped), dh0
    written (dc0 unused), parameter gradients accumulated; dgates scratch (dgates_h unused)."""
    B, H = h0.shape
    rnn_backward_kernel[B, H](dgates, dh0, dout, out, W_hh, reverse)
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse)
