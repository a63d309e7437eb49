"""GRU on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equations, gate order (r, z, n) and buffers as ``tsrnn/kernels/cpu/gru.py``:

    n_t = tanh(W_in x + b_in + r_t * (W_hn h_{t-1} + b_hn))        h_t = n_t + z_t * (h_{t-1} - n_t)

aux holds W_hn h_{t-1} + b_hn. One block per batch row, one thread per hidden unit.
"""
from __future__ import annotations

from numba import cuda, float32

from .common import MAX_GATES_H, MAX_H, add_bias, gemm, sigmoid, tanh, transpose
from .lstm import recurrent_weight_grads

_ONE = float32(1.0)
_ZERO = float32(0.0)


@cuda.jit
def gru_forward_kernel(out, aux, gates, h0, W_hhT, b_hh, reverse):
    """gates[t, b] holds W_ih x_t + b_ih on entry and the activated r, z, n on exit."""
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
            rr = b_hh[j]
            rz = b_hh[H + j]
            rn = b_hh[2 * H + j]
            for k in range(H):
                hk = h_s[k]
                rr += W_hhT[k, j] * hk
                rz += W_hhT[k, H + j] * hk
                rn += W_hhT[k, 2 * H + j] * hk
            r = sigmoid(gates[t, b, j] + rr)
            z = sigmoid(gates[t, b, H + j] + rz)
            n = tanh(gates[t, b, 2 * H + j] + r * rn)
            h = n + z * (h_s[j] - n)                 # h_t = (1-z)*n + z*h_{t-1}
            gates[t, b, j] = r
            gates[t, b, H + j] = z
            gates[t, b, 2 * H + j] = n
            aux[t, b, j] = rn
            out[t, b, j] = h
        cuda.syncthreads()
        if j < H:
            h_s[j] = h
        cuda.syncthreads()


def gru_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """Device arrays with the CPU kernel's shapes; c0 unused."""
    T, B, I = x.shape
    H = h0.shape[1]
    g2 = gates.reshape(T * B, 3 * H)
    gemm(x.reshape(T * B, I), W_ih, g2, trans_b=True)
    add_bias(g2, b_ih)
    gru_forward_kernel[B, H](out, aux, gates, h0, transpose(W_hh), b_hh, reverse)


@cuda.jit
def gru_backward_kernel(dgx, dgh, dh0, dout, gates, aux, h0, out, W_hh, reverse):
    """Writes dgx, dgh (T, B, 3H): gradients at the input- and hidden-side pre-activations; dh0."""
    T, B, H = aux.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    dg_s = cuda.shared.array(MAX_GATES_H, float32)
    dh = _ZERO
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        direct = _ZERO
        if j < H:
            tp = t + 1 if reverse else t - 1
            hp = h0[b, j] if s == 0 else out[tp, b, j]
            r = gates[t, b, j]
            z = gates[t, b, H + j]
            n = gates[t, b, 2 * H + j]
            d = dout[t, b, j] + dh
            dn = (d - d * z) * (_ONE - n * n)
            dz = d * (hp - n) * z * (_ONE - z)
            dr = dn * aux[t, b, j] * r * (_ONE - r)
            dgx[t, b, j] = dr
            dgx[t, b, H + j] = dz
            dgx[t, b, 2 * H + j] = dn
            dgh[t, b, j] = dr
            dgh[t, b, H + j] = dz
            dgh[t, b, 2 * H + j] = dn * r
            dg_s[j] = dr
            dg_s[H + j] = dz
            dg_s[2 * H + j] = dn * r
            direct = d * z                            # h_t = ... + z*h_{t-1}
        cuda.syncthreads()
        if j < H:
            acc = direct
            for q in range(3 * H):
                acc += dg_s[q] * W_hh[q, j]
            dh = acc
        cuda.syncthreads()
    if j < H:
        dh0[b, j] = dh


def gru_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """Same contract as the CPU ``gru_backward``."""
    T, B, I = x.shape
    H = h0.shape[1]
    gru_backward_kernel[B, H](dgates, dgates_h, dh0, dout, gates, aux, h0, out, W_hh, reverse)
    recurrent_weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h, x, h0, out, W_ih, reverse)
