"""GRU cell: forward over a sequence and its backward (BPTT), side by side.

Equations (PyTorch ``nn.GRU`` / cuDNN; gate order r, z, n in the rows of W_ih, W_hh, b_ih, b_hh):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh   (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}  =  n_t + z_t * (h_{t-1} - n_t)

The reset gate multiplies the *projected* hidden state W_hn h + b_hn (cuDNN's form), so b_hn cannot
be folded into b_in and the input and hidden sides get different pre-activation gradients.

Dims: T steps, B batch, I inputs, H hidden. W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,).
Parameter gradients are accumulated (+=), everything else is written (=). As in ``lstm.py`` the
elementwise work of a step is a separate function so that LLVM vectorises it.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import FASTMATH, JIT
from .activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from .gemm import pack, pack_transposed, packed_matmul
from .recurrent import (gate_blocks3, input_grad_buffers, input_grad_step, input_side, input_step,
                        recurrent_product, weight_grads, zero)

GATES = 3


@njit(fastmath=FASTMATH, **JIT)
def _forward_step(gates_t, rec, b_hh, h_prev, hn_t, h_t):
    """gates_t (B, 3H): in = W_ih x_t + b_ih, out = activated r, z, n
    rec (B, 3H) = W_hh h_{t-1}; b_hh (3H,); h_prev (B, H); hn_t, h_t (B, H) written"""
    B, H = h_t.shape
    bhr, bhz, bhn = gate_blocks3(b_hh, H)
    for b in range(B):
        gr, gz, gn = gate_blocks3(gates_t[b], H)
        rr, rz, rn = gate_blocks3(rec[b], H)
        hp, hnb, hb = h_prev[b], hn_t[b], h_t[b]
        for j in range(H):
            r = sigmoid(gr[j] + rr[j] + bhr[j])
            z = sigmoid(gz[j] + rz[j] + bhz[j])
            hn = rn[j] + bhn[j]                       # W_hn h_{t-1} + b_hn
            n = tanh(gn[j] + r * hn)
            gr[j] = r
            gz[j] = z
            gn[j] = n
            hnb[j] = hn
            hb[j] = n + z * (hp[j] - n)               # h_t = (1-z)*n + z*h_{t-1}


@njit(fastmath=FASTMATH, **JIT)
def gru_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, written
    aux   (T, B, H)  W_hn h_{t-1} + b_hn, written (cached for backward)
    gates (T, B, 3H) r, z, n after activation, written (cached for backward)
    x (T, B, I); h0 (B, H); c0 unused (GRU has no cell state)
    """
    T, B, _ = x.shape
    H = h0.shape[1]
    W_ihT = input_side(gates, x, W_ih, b_ih)  # all steps at once, or W_ih^T for the loop
    rec = np.empty((B, GATES * H), dtype=out.dtype)
    W_hhP = pack_transposed(W_hh)
    for s in range(T):
        t = T - 1 - s if reverse else s
        h_prev = h0 if s == 0 else out[t + 1 if reverse else t - 1]
        input_step(gates[t], x[t], W_ihT, b_ih)         # W_ih x_t + b_ih
        zero(rec)
        recurrent_product(rec, h_prev, W_hhP)            # W_hh h_{t-1}
        _forward_step(gates[t], rec, b_hh, h_prev, aux[t], out[t])


@njit(fastmath=FASTMATH, **JIT)
def _backward_step(dgx_t, dgh_t, dh, gates_t, h_prev, hn_t, dout_t):
    """dgx_t, dgh_t (B, 3H) written: dL/d(input-side / hidden-side pre-activations) of r, z, n
    dh (B, H): in = dL/dh_t through the recurrence, out = its z_t*dL/dh_t part of dL/dh_{t-1}
    gates_t activated r, z, n; h_prev, hn_t, dout_t (B, H)"""
    B, H = h_prev.shape
    for b in range(B):
        gr, gz, gn = gate_blocks3(gates_t[b], H)
        dxr, dxz, dxn = gate_blocks3(dgx_t[b], H)
        dhr, dhz, dhn = gate_blocks3(dgh_t[b], H)
        hp, hnb, dout_b, dh_b = h_prev[b], hn_t[b], dout_t[b], dh[b]
        for j in range(H):
            r, z, n = gr[j], gz[j], gn[j]
            d = dout_b[j] + dh_b[j]
            dn = (d - d * z) * tanh_grad(n)           # through (1-z)*n and tanh
            dz = d * (hp[j] - n) * sigmoid_grad(z)
            dr = dn * hnb[j] * sigmoid_grad(r)        # n = tanh(. + r*hn)
            dxr[j] = dr
            dxz[j] = dz
            dxn[j] = dn
            dhr[j] = dr
            dhz[j] = dz
            dhn[j] = dn * r
            dh_b[j] = d * z                           # h_t = ... + z*h_{t-1}


@njit(fastmath=FASTMATH, **JIT)
def gru_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """dx (T, B, I) written, or (T, B, 0) to skip it; dh0 (B, H): written; dc0 unused
    dW_ih, dW_hh, db_ih, db_hh: accumulated
    dgates   (T, B, 3H) scratch: gradient at the input-side pre-activations (W_i x + b_i)
    dgates_h (T, B, 3H) scratch: gradient at the hidden-side pre-activations (W_h h + b_h)
    dout (T, B, H): dL/dh_t arriving from above, not through the recurrence
    """
    T = x.shape[0]
    dh = dh0                 # dL/dh_t through the recurrence; after t = 0: dL/dh0
    zero(dh)
    W_hhP = pack(W_hh)
    sums, dW_ihT = input_grad_buffers(x, W_ih)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        h_prev = h0 if s == 0 else out[t + 1 if reverse else t - 1]
        _backward_step(dgates[t], dgates_h[t], dh, gates[t], h_prev, aux[t], dout[t])
        input_grad_step(sums, dW_ihT, dgates[t], x[t])
        packed_matmul(dh, dgates_h[t], W_hhP)          # dh_{t-1} = z*dh_t + dgh_t W_hh
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h, x, h0, out, W_ih, reverse, sums, dW_ihT)
