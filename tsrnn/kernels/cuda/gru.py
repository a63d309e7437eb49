"""GRU on the GPU: persistent forward and BPTT kernels, side by side (design: package docstring).

Same equations, gate order (r, z, n), buffers and names as ``tsrnn/kernels/cpu/gru.py``:

    n_t = tanh(W_in x + b_in + r_t * (W_hn h_{t-1} + b_hn))        h_t = n_t + z_t * (h_{t-1} - n_t)

aux holds hn = W_hn h_{t-1} + b_hn. One block per batch row, one thread per hidden unit j.
Parameter gradients are accumulated (+=), everything else is written (=).
"""
from __future__ import annotations

from numba import cuda, float32

from .activations import _ZERO, sigmoid, sigmoid_grad, tanh, tanh_grad
from .gemm import transposed
from .recurrent import MAX_GATES_H, MAX_H, gate_blocks3, input_side, weight_grads


@cuda.jit
def gru_forward_kernel(out, aux, gates, h0, W_hhT, b_hh, reverse):
    """gates[t, b] holds W_ih x_t + b_ih on entry and the activated r, z, n on exit."""
    T, B, H = out.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    h_s = cuda.shared.array(MAX_H, float32)          # h_{t-1} of this batch row
    if j < H:
        h_s[j] = h0[b, j]
    cuda.syncthreads()
    bhr, bhz, bhn = gate_blocks3(b_hh, H)
    for s in range(T):
        t = T - 1 - s if reverse else s
        h = _ZERO
        if j < H:
            gr, gz, gn = gate_blocks3(gates[t, b], H)
            rr, rz, rn = _ZERO, _ZERO, _ZERO         # W_hh h_{t-1}, coalesced over j through W_hh^T
            for k in range(H):
                wr, wz, wn = gate_blocks3(W_hhT[k], H)
                hk = h_s[k]
                rr += wr[j] * hk
                rz += wz[j] * hk
                rn += wn[j] * hk
            r = sigmoid(gr[j] + rr + bhr[j])
            z = sigmoid(gz[j] + rz + bhz[j])
            hn = rn + bhn[j]                         # W_hn h_{t-1} + b_hn
            n = tanh(gn[j] + r * hn)
            gr[j] = r
            gz[j] = z
            gn[j] = n
            aux[t, b, j] = hn
            h = n + z * (h_s[j] - n)                 # h_t = (1-z)*n + z*h_{t-1}
            out[t, b, j] = h
        cuda.syncthreads()
        if j < H:
            h_s[j] = h
        cuda.syncthreads()


def gru_forward(out, aux, gates, x, h0, c0, W_ih, W_hh, b_ih, b_hh, reverse):
    """out (T, B, H) h_t, aux (T, B, H) hn, gates (T, B, 3H) activated r, z, n: written
    x (T, B, I); h0 (B, H); c0 unused (GRU has no cell state)"""
    B, H = h0.shape
    input_side(gates, x, W_ih, b_ih)                 # W_ih x_t + b_ih (b_hh goes inside r * (.))
    gru_forward_kernel[B, H](out, aux, gates, h0, transposed(W_hh), b_hh, reverse)


@cuda.jit
def gru_backward_kernel(dgates, dgates_h, dh0, dout, gates, aux, h0, out, W_hh, reverse):
    """dgates, dgates_h (T, B, 3H) written: dL/d(input-side / hidden-side pre-activations) of r, z, n;
    dh0 (B, H) written."""
    T, B, H = aux.shape
    b = cuda.blockIdx.x
    j = cuda.threadIdx.x
    dg_s = cuda.shared.array(MAX_GATES_H, float32)     # this step's dgates_h of the batch row
    dh = _ZERO                                       # dL/dh_t through the recurrence
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        direct = _ZERO
        if j < H:
            hp = h0[b, j] if s == 0 else out[t + 1 if reverse else t - 1, b, j]
            gr, gz, gn = gate_blocks3(gates[t, b], H)
            dxr, dxz, dxn = gate_blocks3(dgates[t, b], H)
            dhr, dhz, dhn = gate_blocks3(dgates_h[t, b], H)
            r, z, n = gr[j], gz[j], gn[j]
            d = dout[t, b, j] + dh
            dn = (d - d * z) * tanh_grad(n)          # through (1-z)*n and tanh
            dz = d * (hp - n) * sigmoid_grad(z)
            dr = dn * aux[t, b, j] * sigmoid_grad(r)   # n = tanh(. + r*hn)
            dxr[j] = dr
            dxz[j] = dz
            dxn[j] = dn
            dhr[j] = dr
            dhz[j] = dz
            dhn[j] = dn * r
            sr, sz, sn = gate_blocks3(dg_s, H)
            sr[j], sz[j], sn[j] = dr, dz, dn * r
            direct = d * z                           # h_t = ... + z*h_{t-1}
        cuda.syncthreads()
        if j < H:
            acc = direct
            for q in range(3 * H):                   # dh_{t-1} = z*dh_t + dgates_h_t W_hh
                acc += dg_s[q] * W_hh[q, j]
            dh = acc
        cuda.syncthreads()
    if j < H:
        dh0[b, j] = dh


def gru_backward(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h,
                 dout, x, h0, c0, W_ih, W_hh, out, aux, gates, reverse):
    """Same contract as the CPU ``gru_backward``: dx (T, B, I) written (or (T, B, 0): skipped), dh0
    written (dc0 unused), parameter gradients accumulated; dgates, dgates_h scratch."""
    B, H = h0.shape
    gru_backward_kernel[B, H](dgates, dgates_h, dh0, dout, gates, aux, h0, out, W_hh, reverse)
    weight_grads(dx, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h, x, h0, out, W_ih, reverse)
