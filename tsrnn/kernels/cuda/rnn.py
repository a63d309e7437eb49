"""Tanh RNN on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equation and buffers as ``tsrnn/kernels/cpu/rnn.py``: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
One block per batch row, one thread per hidden unit.
"""
from __future__ import annotations

from numba import cuda, float32

from .common import MAX_H, add_bias, gemm, tanh, transpose
from .lstm import recurrent_weight_grads

_ONE = float32(1.0)
_ZERO = float32(0.0)


@cuda.jit
def rnn_forward_kernel(out, gates, h0, W_hhT, reverse):
    """gates[t, b] holds W_ih x_t + b_ih + b_hh."""
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    h_s = cuda.shared.array(MAX_H, float32)
    if j < H:
        h_s[j] = h0[b, j]
    cuda.syncthreads()
    for s in range(T):
        t = T - 1 - s if reverse else s
        h = _ZERO
        if j < H:
            acc = gates[t, b, j]
            for k in range(H):
                acc += W_hhT[k, j] * h_s[k]
            h = tanh(acc)                            # h_t = tanh(W_ih x + b + W_hh h_{t-1})
            out[t, b, j] = h
        cuda.syncthreads()
        if j < H:
            h_s[j] = h
        cuda.syncthreads()


def rnn_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """Device arrays with the CPU kernel's shapes; aux and c0 unused."""
    T, B, I = x.shape
    H = h0.shape[1]
    g2 = gates.reshape(T * B, H)
    gemm(x.reshape(T * B, I), W_ih, g2, trans_b=True)
    add_bias(g2, b_ih, b_hh)
    rnn_forward_kernel[B, H](out, gates, h0, transpose(W_hh), reverse)


@cuda.jit
def rnn_backward_kernel(dgates, dh0, dout, out, W_hh, reverse):
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    d_s = cuda.shared.array(MAX_H, float32)
    dh = _ZERO
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        if j < H:
            h = out[t, b, j]
            d = (dout[t, b, j] + dh) * (_ONE - h * h)
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
    """Same contract as the CPU ``rnn_backward``."""
    T, B, I = x.shape
    rnn_backward_kernel[B, h0.shape[1]](dgates, dh0, dout, out, W_hh, reverse)
    recurrent_weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse)
