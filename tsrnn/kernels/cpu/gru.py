"""GRU cell: forward over a sequence and its backward (BPTT), side by side.

Equations (PyTorch ``nn.GRU`` / cuDNN; gate order r, z, n in the rows of W_ih, W_hh, b_ih, b_hh):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh   (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}  =  n_t + z_t * (h_{t-1} - n_t)

The reset gate multiplies the *projected* hidden state W_hn h + b_hn (cuDNN's form), so b_hn cannot
be folded into b_in and the input and hidden sides get different pre-activation gradients.

Dims: T steps, B batch, I inputs, H hidden. W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,).
Parameter gradients are accumulated (+=), everything else is written (=).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import FASTMATH, JIT
from .activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from .recurrent import input_projection, weight_grads

GATES = 3


@njit(fastmath=FASTMATH, **JIT)
def gru_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written
    aux   (T, B, H)  W_hn h_{t-1} + b_hn, written (cached for backward)
    gates (T, B, 3H) r, z, n after activation, written (cached for backward)
    x (T, B, I); h0 (B, H); c0 unused (GRU has no cell state)
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    input_projection(gates, x, W_ih, b_ih)
    rec = np.empty((B, GATES * H), dtype=out.dtype)  # W_hh h_{t-1} for one step
    for s in range(T):
        t = T - 1 - s if reverse else s
        h_prev = h0 if s == 0 else out[t + 1 if reverse else t - 1]
        np.dot(h_prev, W_hh.T, rec)
        g_t = gates[t]
        for b in range(B):
            for j in range(H):
                r = sigmoid(g_t[b, j] + rec[b, j] + b_hh[j])
                z = sigmoid(g_t[b, H + j] + rec[b, H + j] + b_hh[H + j])
                hn = rec[b, 2 * H + j] + b_hh[2 * H + j]
                n = tanh(g_t[b, 2 * H + j] + r * hn)
                g_t[b, j] = r
                g_t[b, H + j] = z
                g_t[b, 2 * H + j] = n
                aux[t, b, j] = hn
                out[t, b, j] = n + z * (h_prev[b, j] - n)   # h_t = (1-z)*n + z*h_{t-1}


@njit(fastmath=FASTMATH, **JIT)
def gru_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """dx (T, B, I), dh0 (B, H): written; dc0 unused
    dW_ih, dW_hh, db_ih, db_hh: accumulated
    dgates   (T, B, 3H) scratch: gradient at the input-side pre-activations (W_i x + b_i)
    dgates_h (T, B, 3H) scratch: gradient at the hidden-side pre-activations (W_h h + b_h)
    dout (T, B, H): dL/dh_t arriving from above, not through the recurrence
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    dh = np.zeros((B, H), dtype=out.dtype)   # dL/dh_t through the recurrence
    dh_direct = np.empty((B, H), dtype=out.dtype)  # the z_t * dh_t part of dL/dh_{t-1}
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        h_prev = h0 if s == 0 else out[t + 1 if reverse else t - 1]
        g_t = gates[t]
        dx_t = dgates[t]
        dh_t_side = dgates_h[t]
        for b in range(B):
            for j in range(H):
                r = g_t[b, j]
                z = g_t[b, H + j]
                n = g_t[b, 2 * H + j]
                d = dout[t, b, j] + dh[b, j]
                dn = (d - d * z) * tanh_grad(n)                   # through (1-z)*n, tanh
                dz = d * (h_prev[b, j] - n) * sigmoid_grad(z)
                dr = dn * aux[t, b, j] * sigmoid_grad(r)          # n = tanh(. + r*hn)
                dx_t[b, j] = dr
                dx_t[b, H + j] = dz
                dx_t[b, 2 * H + j] = dn
                dh_t_side[b, j] = dr
                dh_t_side[b, H + j] = dz
                dh_t_side[b, 2 * H + j] = dn * r
                dh_direct[b, j] = d * z                           # h_t = ... + z*h_{t-1}
        np.dot(dh_t_side, W_hh, dh)
        for b in range(B):
            for j in range(H):
                dh[b, j] += dh_direct[b, j]
    dh0[:] = dh
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h, x, h0, out, W_ih, reverse)
