"""Matrix products on the GPU: a tiled GEMM in shared memory and a transpose (the GPU twin of
``cpu/gemm.py``), plus the launch geometry every CUDA module shares.

    C (=|+=) op(A) @ op(B)        op(X) = X or X^T

16 x 16 tiles: each thread block stages one tile of A and one of B in shared memory per step along K
and every thread accumulates one element of C in a register. The recurrent networks tsrnn trains are
small (H <= 1024), so a register-blocked or tensor-core GEMM would not pay for its complexity here.
"""
from __future__ import annotations

import os

from numba import cuda, float32

from .activations import _ZERO

# The simulator (NUMBA_ENABLE_CUDASIM=1, for tests) runs every thread as a Python thread: it gets small
# tiles and blocks, which also makes the tests cover the multi-tile paths on tiny shapes.
SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
TILE = 4 if SIMULATOR else 16         # GEMM tile edge: TILE x TILE threads, two tiles in shared memory
THREADS = 32 if SIMULATOR else 256    # 1-D kernels


def blocks(n: int) -> int:
    """Blocks of ``THREADS`` threads covering n elements."""
    return max(1, (n + THREADS - 1) // THREADS)


def launch_1d(kernel, n: int, *args) -> None:
    kernel[blocks(n), THREADS](*args)


@cuda.jit
def gemm_kernel(A, B, C, trans_a, trans_b, accumulate):
    """C[M, N] = op(A)[M, K] @ op(B)[K, N] (+ C when accumulate); op transposes when trans_*."""
    sa = cuda.shared.array((TILE, TILE), float32)
    sb = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    M = C.shape[0]
    N = C.shape[1]
    K = A.shape[0] if trans_a else A.shape[1]
    acc = _ZERO
    for k0 in range(0, K, TILE):
        ka = k0 + tx
        kb = k0 + ty
        if row < M and ka < K:
            sa[ty, tx] = A[ka, row] if trans_a else A[row, ka]
        else:
            sa[ty, tx] = _ZERO
        if col < N and kb < K:
            sb[ty, tx] = B[col, kb] if trans_b else B[kb, col]
        else:
            sb[ty, tx] = _ZERO
        cuda.syncthreads()
        for kk in range(TILE):
            acc += sa[ty, kk] * sb[kk, tx]
        cuda.syncthreads()
    if row < M and col < N:
        C[row, col] = C[row, col] + acc if accumulate else acc


def gemm(A, B, C, trans_a=False, trans_b=False, accumulate=False):
    M, N = C.shape
    grid = ((N + TILE - 1) // TILE, (M + TILE - 1) // TILE)
    gemm_kernel[grid, (TILE, TILE)](A, B, C, trans_a, trans_b, accumulate)


@cuda.jit
def transpose_kernel(A, At):
    i = cuda.grid(1)
    if i < A.shape[0] * A.shape[1]:
        r = i // A.shape[1]
        c = i % A.shape[1]
        At[c, r] = A[r, c]


def transposed(A):
    """A^T as a new C-contiguous device array."""
    At = cuda.device_array((A.shape[1], A.shape[0]), dtype=A.dtype)
    launch_1d(transpose_kernel, A.size, A, At)
    return At
