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
is written (=).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import FASTMATH, JIT
from .activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from .recurrent import input_projection, weight_grads

GATES = 4


@njit(fastmath=FASTMATH, **JIT)
def lstm_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written
    aux   (T, B, H)  c_t, written (cached for backward)
    gates (T, B, 4H) i, f, g, o after activation, written (cached for backward)
    x (T, B, I); h0, c0 (B, H)
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    # pre-activations from the input for all steps: one GEMM, biases folded in
    bias = b_ih + b_hh
    input_projection(gates, x, W_ih, bias)
    rec = np.empty((B, GATES * H), dtype=out.dtype)  # W_hh h_{t-1} for one step
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t - 1
        h_prev = h0 if s == 0 else out[tp]
        c_prev = c0 if s == 0 else aux[tp]
        np.dot(h_prev, W_hh.T, rec)
        g_t = gates[t]
        for b in range(B):
            for j in range(H):
                i = sigmoid(g_t[b, j] + rec[b, j])
                f = sigmoid(g_t[b, H + j] + rec[b, H + j])
                g = tanh(g_t[b, 2 * H + j] + rec[b, 2 * H + j])
                o = sigmoid(g_t[b, 3 * H + j] + rec[b, 3 * H + j])
                c = f * c_prev[b, j] + i * g          # c_t = f*c_{t-1} + i*g
                g_t[b, j] = i
                g_t[b, H + j] = f
                g_t[b, 2 * H + j] = g
                g_t[b, 3 * H + j] = o
                aux[t, b, j] = c
                out[t, b, j] = o * tanh(c)            # h_t = o*tanh(c_t)


@njit(fastmath=FASTMATH, **JIT)
def lstm_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                  dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """dx (T, B, I), dh0, dc0 (B, H): written
    dW_ih, dW_hh, db_ih, db_hh: accumulated
    dgates (T, B, 4H): scratch, gradient at the gate pre-activations (dgates_h is unused: the
    hidden side sees the same pre-activations as the input side)
    dout (T, B, H): dL/dh_t arriving from above (next layer or head), not through the recurrence
    x, h0, c0, W_ih, W_hh, out, aux, gates: as in ``lstm_forward`` (after it ran)
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    dh = np.zeros((B, H), dtype=out.dtype)  # dL/dh_{t} through the recurrence
    dc = np.zeros((B, H), dtype=out.dtype)  # dL/dc_{t} through the recurrence
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t - 1
        c_prev = c0 if s == 0 else aux[tp]
        g_t = gates[t]
        d_t = dgates[t]
        for b in range(B):
            for j in range(H):
                i = g_t[b, j]
                f = g_t[b, H + j]
                g = g_t[b, 2 * H + j]
                o = g_t[b, 3 * H + j]
                tc = tanh(aux[t, b, j])
                dh_t = dout[t, b, j] + dh[b, j]
                dc_t = dc[b, j] + dh_t * o * tanh_grad(tc)   # through h_t = o*tanh(c_t)
                d_t[b, j] = dc_t * g * sigmoid_grad(i)            # di
                d_t[b, H + j] = dc_t * c_prev[b, j] * sigmoid_grad(f)  # df
                d_t[b, 2 * H + j] = dc_t * i * tanh_grad(g)       # dg
                d_t[b, 3 * H + j] = dh_t * tc * sigmoid_grad(o)   # do
                dc[b, j] = dc_t * f                               # dc_{t-1} = dc_t * f
        np.dot(d_t, W_hh, dh)                                     # dh_{t-1} = dgates W_hh
    dh0[:] = dh
    dc0[:] = dc
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse)
