"""LSTM cell: forward over a sequence and its backward (BPTT), side by side.

Equations (PyTorch ``nn.LSTM``; gate order i, f, g, o in the rows of W_ih, W_hh, b_ih, b_hh):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Dims: T steps, B batch, I inputs, H hidden. W_ih (4H, I), W_hh (4H, H), b_ih, b_hh (4H,).
``reverse=True`` runs the recurrence from t = T-1 down to 0 (the backward direction of a
bidirectional layer); outputs stay indexed by t.
Buffers are preallocated by the caller. Parameter gradients are accumulated (+=), everything else
is written (=). The elementwise work of one time step lives in its own small function: LLVM
vectorises it there, while inlined into the time loop (next to the matrix product) it did not (3x slower).
"""
from __future__ import annotations

from numba import njit

from ..._config import FASTMATH, JIT
from .activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from .gemm import pack, pack_transposed, packed_matmul
from .recurrent import (gate_blocks4, input_grad_buffers, input_grad_step, input_side, input_step,
                        recurrent_product, weight_grads, zero)


@njit(fastmath=FASTMATH, **JIT)
def _forward_step(gates_t, c_prev, c_t, h_t):
    """gates_t (B, 4H): in = pre-activations, out = activated i, f, g, o
    c_prev (B, H); c_t, h_t (B, H) written"""
    B, H = c_t.shape
    for b in range(B):
        gi, gf, gg, go = gate_blocks4(gates_t[b], H)
        cp, cb, hb = c_prev[b], c_t[b], h_t[b]
        for j in range(H):
            i = sigmoid(gi[j])
            f = sigmoid(gf[j])
            g = tanh(gg[j])
            o = sigmoid(go[j])
            c = f * cp[j] + i * g             # c_t = f*c_{t-1} + i*g
            gi[j] = i
            gf[j] = f
            gg[j] = g
            go[j] = o
            cb[j] = c
            hb[j] = o * tanh(c)               # h_t = o*tanh(c_t)


@njit(fastmath=FASTMATH, **JIT)
def lstm_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written
    aux   (T, B, H)  c_t, written (cached for backward)
    gates (T, B, 4H) i, f, g, o after activation, written (cached for backward)
    x (T, B, I); h0, c0 (B, H)
    """
    T, B, _ = x.shape
    bias = b_ih + b_hh
    W_ihT = input_side(gates, x, W_ih, bias)  # all steps at once, or W_ih^T for the loop
    W_hhP = pack_transposed(W_hh)
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t - 1
        h_prev = h0 if s == 0 else out[tp]
        c_prev = c0 if s == 0 else aux[tp]
        input_step(gates[t], x[t], W_ihT, bias)         # W_ih x_t + b_ih + b_hh
        recurrent_product(gates[t], h_prev, W_hhP)      # += W_hh h_{t-1}
        _forward_step(gates[t], c_prev, aux[t], out[t])


@njit(fastmath=FASTMATH, **JIT)
def _backward_step(dgates_t, dh, dc, gates_t, c_prev, c_t, dout_t):
    """dgates_t (B, 4H) written: dL/d(pre-activation) of i, f, g, o
    dh (B, H) in: dL/dh_t through the recurrence; dc (B, H) in: dL/dc_t, out: dL/dc_{t-1}
    gates_t (B, 4H) activated gates; c_prev, c_t (B, H); dout_t (B, H) dL/dh_t from above"""
    B, H = c_t.shape
    for b in range(B):
        gi, gf, gg, go = gate_blocks4(gates_t[b], H)
        di, df, dg, do = gate_blocks4(dgates_t[b], H)
        cp, cb, dout_b, dh_b, dc_b = c_prev[b], c_t[b], dout_t[b], dh[b], dc[b]
        for j in range(H):
            i, f, g, o = gi[j], gf[j], gg[j], go[j]
            tc = tanh(cb[j])
            dh_t = dout_b[j] + dh_b[j]
            dc_t = dc_b[j] + dh_t * o * tanh_grad(tc)    # through h_t = o*tanh(c_t)
            di[j] = dc_t * g * sigmoid_grad(i)
            df[j] = dc_t * cp[j] * sigmoid_grad(f)
            dg[j] = dc_t * i * tanh_grad(g)
            do[j] = dh_t * tc * sigmoid_grad(o)
            dc_b[j] = dc_t * f                            # dc_{t-1} = dc_t * f


@njit(fastmath=FASTMATH, **JIT)
def lstm_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                  dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """dx (T, B, I) written, or (T, B, 0) to skip it; dh0, dc0 (B, H): written
    dW_ih, dW_hh, db_ih, db_hh: accumulated
    dgates (T, B, 4H): scratch, gradient at the gate pre-activations (dgates_h is unused: the
    hidden side sees the same pre-activations as the input side)
    dout (T, B, H): dL/dh_t arriving from above (next layer or head), not through the recurrence
    x, h0, c0, W_ih, W_hh, out, aux, gates: as in ``lstm_forward`` (after it ran)
    """
    T, B, _ = x.shape
    dh, dc = dh0, dc0      # dL/dh_t, dL/dc_t through the recurrence; after t = 0: dL/dh0, dL/dc0
    zero(dh)
    zero(dc)
    W_hhP = pack(W_hh)
    sums, dW_ihT = input_grad_buffers(x, W_ih)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        c_prev = c0 if s == 0 else aux[t + 1 if reverse else t - 1]
        _backward_step(dgates[t], dh, dc, gates[t], c_prev, aux[t], dout[t])
        input_grad_step(sums, dW_ihT, dgates[t], x[t])
        zero(dh)
        packed_matmul(dh, dgates[t], W_hhP)             # dh_{t-1} = dgates_t W_hh
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse, sums, dW_ihT)
