"""LSTM on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equations, gate order (i, f, g, o) and buffers as ``tsrnn/kernels/cpu/lstm.py``:

    c_t = f_t * c_{t-1} + i_t * g_t        h_t = o_t * tanh(c_t)

out, aux (= c_t), gates (T, B, H / 4H) device arrays; one block per batch row, one thread per unit.
"""
from __future__ import annotations

from numba import cuda, float32

from .common import MAX_GATES_H, MAX_H, add_bias, colsum_add, gemm, shifted_states, sigmoid, tanh, transpose

_ONE = float32(1.0)
_ZERO = float32(0.0)


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
            ai = gates[t, b, j]
            af = gates[t, b, H + j]
            ag = gates[t, b, 2 * H + j]
            ao = gates[t, b, 3 * H + j]
            for k in range(H):                       # + W_hh h_{t-1}, coalesced over j through W_hh^T
                hk = h_s[k]
                ai += W_hhT[k, j] * hk
                af += W_hhT[k, H + j] * hk
                ag += W_hhT[k, 2 * H + j] * hk
                ao += W_hhT[k, 3 * H + j] * hk
            i = sigmoid(ai)
            f = sigmoid(af)
            g = tanh(ag)
            o = sigmoid(ao)
            c = f * c + i * g                        # c_t = f*c_{t-1} + i*g
            h = o * tanh(c)                          # h_t = o*tanh(c_t)
            gates[t, b, j] = i
            gates[t, b, H + j] = f
            gates[t, b, 2 * H + j] = g
            gates[t, b, 3 * H + j] = o
            aux[t, b, j] = c
            out[t, b, j] = h
        cuda.syncthreads()                           # everyone has read h_{t-1}
        if j < H:
            h_s[j] = h
        cuda.syncthreads()                           # h_t published


def lstm_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """Device arrays with the CPU kernel's shapes; writes out, aux, gates."""
    T, B, I = x.shape
    H = h0.shape[1]
    g2 = gates.reshape(T * B, 4 * H)
    gemm(x.reshape(T * B, I), W_ih, g2, trans_b=True)             # W_ih x_t, all t
    add_bias(g2, b_ih, b_hh)
    lstm_forward_kernel[B, H](out, aux, gates, h0, c0, transpose(W_hh), reverse)


@cuda.jit
def lstm_backward_kernel(dgates, dh0, dc0, dout, gates, aux, c0, W_hh, reverse):
    """Writes dgates (T, B, 4H): dL/d(pre-activations); dh0, dc0 (B, H)."""
    T, B, H = aux.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    dg_s = cuda.shared.array(MAX_GATES_H, float32)     # this step's dgates of the batch row
    dh = _ZERO                                       # dL/dh_t through the recurrence
    dc = _ZERO                                       # dL/dc_t through the recurrence
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        if j < H:
            tp = t + 1 if reverse else t - 1
            c_prev = c0[b, j] if s == 0 else aux[tp, b, j]
            i = gates[t, b, j]
            f = gates[t, b, H + j]
            g = gates[t, b, 2 * H + j]
            o = gates[t, b, 3 * H + j]
            tc = tanh(aux[t, b, j])
            dh_t = dout[t, b, j] + dh
            dc_t = dc + dh_t * o * (_ONE - tc * tc)
            di = dc_t * g * i * (_ONE - i)
            df = dc_t * c_prev * f * (_ONE - f)
            dg = dc_t * i * (_ONE - g * g)
            do = dh_t * tc * o * (_ONE - o)
            dc = dc_t * f                            # dc_{t-1} = dc_t * f
            dgates[t, b, j] = di
            dgates[t, b, H + j] = df
            dgates[t, b, 2 * H + j] = dg
            dgates[t, b, 3 * H + j] = do
            dg_s[j] = di
            dg_s[H + j] = df
            dg_s[2 * H + j] = dg
            dg_s[3 * H + j] = do
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
    """Same contract as the CPU ``lstm_backward`` (parameter gradients accumulated)."""
    T, B, I = x.shape
    H = h0.shape[1]
    lstm_backward_kernel[B, H](dgates, dh0, dc0, dout, gates, aux, c0, W_hh, reverse)
    recurrent_weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates, x, h0, out, W_ih, reverse)


def recurrent_weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgx, dgh, x, h0, out, W_ih, reverse):
    """dW_ih += dgx^T x, dW_hh += dgh^T h_prev, biases += column sums, dx = dgx W_ih (all GEMMs)."""
    T, B, I = x.shape
    H = h0.shape[1]
    GH = W_ih.shape[0]
    dgx2 = dgx.reshape(T * B, GH)
    dgh2 = dgh.reshape(T * B, GH)
    gemm(dgx2, x.reshape(T * B, I), dW_ih, trans_a=True, accumulate=True)
    gemm(dgh2, shifted_states(out, h0, reverse).reshape(T * B, H), dW_hh, trans_a=True, accumulate=True)
    colsum_add(dgx2, db_ih)
    colsum_add(dgh2, db_hh)
    gemm(dgx2, W_ih, dx.reshape(T * B, I))
