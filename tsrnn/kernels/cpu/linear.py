"""The network's linear head on the CPU, forward and backward, on the project's own GEMM (``gemm.py``).

    y  = x W^T + b                     forward
    dW = dy^T x,  db = sum_rows dy     backward (written: ``=``)
    dx = dy W                          returned

    x  (M, K)   rows: samples (direct head: last hidden state, or the flattened future inputs;
                seq2seq: every decoder output)
    W  (N, K)   b (N,)   y, dy (M, N)

Why not NumPy's ``@`` (OpenBLAS): ensemble members train at once, one Python thread each. OpenBLAS
runs products of this size (128 x 216 by 216 x 24: the future inputs of a day-ahead hourly head) on its
own thread pool, whose threads then compete with the other member's. Measured on the project's
2-core machine (LSTM H=32, T=72, batch 128, 9 future inputs over 24 steps), per member step: 4.9 ms
alone, 5.9 ms with two members at once through OpenBLAS (slower than one after the other), 2.7 ms on
these kernels, which run on the calling thread and release the GIL like the cell kernels.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..._config import JIT
from .gemm import matmul_tn, pack, pack_transposed, packed_matmul


@njit(**JIT)
def linear(x, W, b):
    """y (M, N) = x W^T + b, a new array (x, W C-contiguous)."""
    M, N = x.shape[0], W.shape[0]
    y = np.empty((M, N), x.dtype)
    for i in range(M):                                   # y = b, then y += x W^T
        for j in range(N):
            y[i, j] = b[j]
    packed_matmul(y, x, pack_transposed(W))
    return y


@njit(**JIT)
def linear_backward(dy, x, W, dW, db):
    """dW = dy^T x and db = the column sums of dy (written); returns dx = dy W (dy, x, W C-contiguous)."""
    M, N = dy.shape
    dW[...] = 0.0
    matmul_tn(dW, dy, x)                                 # dW (N, K) = dy^T (N, M) x (M, K)
    for j in range(N):
        acc = 0.0
        for i in range(M):
            acc += dy[i, j]
        db[j] = acc
    dx = np.zeros((M, W.shape[1]), dy.dtype)
    packed_matmul(dx, dy, pack(W))                       # dx (M, K) = dy (M, N) W (N, K)
    return dx
