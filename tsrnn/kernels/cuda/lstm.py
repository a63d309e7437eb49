"""LSTM on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equations, gate order (i, f, g, o), buffers and names as ``tsrnn/kernels/cpu/lstm.py``:

    c_t = f_t * c_{t-1} + i_t * g_t        h_t = o_t * tanh(c_t)

out, aux (= c_t), gates (T, B, H / 4H) device arrays; one block per batch row, one thread per unit j.
Parameter gradients are accumulated (+=), everything else is written (=).
"""
from __future__ import annotations

from numba import cuda, float32

from .activations import _ZERO, sigmoid, sigmoid_grad, tanh, tanh_grad
from .gemm import transposed
from .recurrent import MAX_GATES_H, MAX_H, gate_blocks4, input_side, weight_grads


@cuda.jit
def lstm_forward_kernel(out, aux, gates, h0, c0, W_hhT, reverse):
    """gates[t, b] holds W_ih x_t + b_ih + b_hh on entry and the activated i, f, g, o on exit."""
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    h_s = cuda.shared.array(MAX_H, float32)          # h_{t-1} of this batch row
    c = _ZERO
    if j < H:
        h_s[j] = h0[b, j]
        c = c0[b, j]
    cuda.syncthreads()
    for s in range(T):
        t = T - 1 - s if reverse else s
        h = _ZERO
        if j < H:
            gi, gf, gg, go = gate_blocks4(gates[t, b], H)
            wi, wf, wg, wo = gi[j], gf[j], gg[j], go[j]
            for k in range(H):                       # += W_hh h_{t-1}, coalesced over j through W_hh^T
                ri, rf, rg, ro = gate_blocks4(W_hhT[k], H)
                hk = h_s[k]
                wi += ri[j] * hk
                wf += rf[j] * hk
                wg += rg[j] * hk
                wo += ro[j] * hk
            i = sigmoid(wi)
            f = sigmoid(wf)
            g = tanh(wg)
            o = sigmoid(wo)
            c = f * c + i * g                        # c_t = f*c_{t-1} + i*g
            gi[j] = i
            gf[j] = f
            gg[j] = g
            go[j] = o
            aux[t, b, j] = c
            h = o * tanh(c)                          # h_t = o*tanh(c_t)
            out[t, b, j] = h
        cuda.syncthreads()                           # everyone has read h_{t-1}
        if j < H:
            h_s[j] = h
        cuda.syncthreads()                           # h_t published


def lstm_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, aux (T, B, H) c_t, gates (T, B, 4H) activated i, f, g, o: written
    x (T, B, I); h0, c0 (B, H) -- device arrays with the CPU kernel's shapes"""
    B, H = h0.shape
    input_side(gates, x, W_ih, b_ih, b_hh)           # W_ih x_t + b_ih + b_hh, all steps at once
    lstm_forward_kernel[B, H](out, aux, gates, h0, c0, transposed(W_hh), reverse)


@cuda.jit
def lstm_backward_kernel(dgates, dh0, dc0, dout, gates, aux, c0, W_hh, reverse):
    """dgates (T, B, 4H) written: dL/d(pre-activation) of i, f, g, o; dh0, dc0 (B, H) written."""
    T, B, H = aux.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    dg_s = cuda.shared.array(MAX_GATES_H, float32)     # this step's dgates of the batch row
    dh = _ZERO                                       # dL/dh_t through the recurrence
    dc = _ZERO                                       # dL/dc_t through the recurrence
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        if j < H:
            c_prev = c0[b, j] if s == 0 else aux[t + 1 if reverse else t - 1, b, j]
            gi, gf, gg, go = gate_blocks4(gates[t, b], H)
            di, df, dg, do = gate_blocks4(dgates[t, b], H)
            i, f, g, o = gi[j], gf[j], gg[j], go[j]
            tc = tanh(aux[t, b, j])
            dh_t = dout[t, b, j] + dh
            dc_t = dc + dh_t * o * tanh_grad(tc)     # through h_t = o*tanh(c_t)
            di[j] = dc_t * g * sigmoid_grad(i)
            df[j] = dc_t * c_prev * sigmoid_grad(f)
            dg[j] = dc_t * i * tanh_grad(g)
            do[j] = dh_t * tc * sigmoid_grad(o)
            dc = dc_t * f                            # dc_{t-1} = dc_t * f
            si, sf, sg, so = gate_blocks4(dg_s, H)
            si[j], sf[j], sg[j], so[j] = di[j], df[j], dg[j], do[j]
        cuda.syncthreads()
        if j < H:
            acc = _ZERO
            for r in range(4 * H):                   # dh_{t-1} = dgates_t W_hh, coalesced over j
                acc += dg_s[r] * W_hh[r, j]
            dh = acc
        cuda.syncthreads()
    if j < H:
        dh0[b, j] = dh
        dc0[b, j] = dc


def lstm_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                  dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """Same contract as the CPU ``lstm_backward``: dx (T, B, I) written (or (T, B, 0): skipped),
    dh0, dc0 written, parameter gradients accumulated; dgates scratch (dgates_h unused)."""
    B, H = h0.shape
    lstm_backward_kernel[B, H](dgates, dh0, dc0, dout, gates, aux, c0, W_hh, reverse)
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse)
