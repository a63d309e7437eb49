"""Vanilla (Elman) tanh RNN cell: forward over a sequence and its backward (BPTT), side by side.

Equation (PyTorch ``nn.RNN(nonlinearity="tanh")``):

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Dims: T steps, B batch, I inputs, H hidden. W_ih (H, I), W_hh (H, H), b_ih, b_hh (H,).
Parameter gradients are accumulated (+=), everything else is written (=).
"""
from __future__ import annotations

from numba import njit

from ..._config import FASTMATH, JIT
from .activations import tanh, tanh_grad
from .gemm import pack, pack_transposed, packed_matmul
from .recurrent import (input_grad_buffers, input_grad_step, input_side, input_step,
                        recurrent_product, weight_grads, zero)


@njit(fastmath=FASTMATH, **JIT)
def _forward_step(h_t, gates_t):
    """h_t (B, H): in = W_hh h_{t-1}, out = h_t; gates_t (B, H) = W_ih x_t + b_ih + b_hh"""
    B, H = h_t.shape
    for b in range(B):
        hb, gb = h_t[b], gates_t[b]
        for j in range(H):
            hb[j] = tanh(hb[j] + gb[j])              # h_t = tanh(W_ih x + b + W_hh h_{t-1})


@njit(fastmath=FASTMATH, **JIT)
def rnn_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written
    gates (T, B, H) the input-side pre-activations W_ih x_t + b_ih + b_hh, written (as on the GPU); aux
    and c0 unused (uniform signature)
    x (T, B, I); h0 (B, H)
    """
    T, B, _ = x.shape
    bias = b_ih + b_hh
    W_ihT = input_side(gates, x, W_ih, bias)  # all steps at once, or W_ih^T for the loop
    W_hhP = pack_transposed(W_hh)
    for s in range(T):
        t = T - 1 - s if reverse else s
        h_prev = h0 if s == 0 else out[t + 1 if reverse else t - 1]
        input_step(gates[t], x[t], W_ihT, bias)         # W_ih x_t + b_ih + b_hh
        zero(out[t])
        recurrent_product(out[t], h_prev, W_hhP)        # W_hh h_{t-1}
        _forward_step(out[t], gates[t])


@njit(fastmath=FASTMATH, **JIT)
def _backward_step(d_t, dh, h_t, dout_t):
    """d_t (B, H) written: dL/d(pre-activation); dh: dL/dh_t through the recurrence; h_t, dout_t (B, H)"""
    B, H = h_t.shape
    for b in range(B):
        db, dh_b, hb, dout_b = d_t[b], dh[b], h_t[b], dout_t[b]
        for j in range(H):
            db[j] = (dout_b[j] + dh_b[j]) * tanh_grad(hb[j])


@njit(fastmath=FASTMATH, **JIT)
def rnn_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """dx (T, B, I) written, or (T, B, 0) to skip it; dh0 (B, H): written; dc0 unused
    dW_ih, dW_hh, db_ih, db_hh: accumulated
    dgates (T, B, H) scratch: gradient at the pre-activation (dgates_h unused)
    dout (T, B, H): dL/dh_t arriving from above, not through the recurrence
    """
    T, B, _ = x.shape
    dh = dh0                 # dL/dh_t through the recurrence; after t = 0: dL/dh0
    zero(dh)
    W_hhP = pack(W_hh)
    sums, dW_ihT = input_grad_buffers(x, W_ih)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        _backward_step(dgates[t], dh, out[t], dout[t])
        input_grad_step(sums, dW_ihT, dgates[t], x[t])
        zero(dh)
        packed_matmul(dh, dgates[t], W_hhP)            # dh_{t-1} = d_t W_hh
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse, sums, dW_ihT)
