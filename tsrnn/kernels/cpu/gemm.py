"""The per-step recurrent products, C += A B with B packed once per sequence, on our own micro-kernel.

Why not BLAS: a recurrence multiplies by the same weight matrix at every step (forward
``h_{t-1} W_hh^T``, backward ``dgates_t W_hh``), one small GEMM per step. OpenBLAS re-packs the weight
matrix into its panel layout on every call (20-25 % of an LSTM step at H=64, measured with perf) and
then runs at 75-85 GFLOP/s on these shapes. Here the weights are packed once per sequence and each
step runs a register-blocked micro-kernel over the panels: 105-115 GFLOP/s on the same shapes
(batch 64, H = 64..256, float32, one Zen 4 core; see docs/kernels.md).

Packed layout (BLIS's): B (K, N) is cut into P = ceil(N / NR) column panels, stored as one array
``BP (P, K, NR)`` with ``BP[p, k, j] = B[k, p*NR + j]`` (the last panel zero-padded), so the kernel
reads NR contiguous values per k.

Micro-kernel: ``C[i, :] += sum_k A[i, k] * BP[p, k, :]`` for MR rows of A and Q panels at once, with
the MR x Q x NV accumulators held in vector registers for the whole k loop:

    for k in range(K):
        b[q][v] = BP[p+q, k, v*VW:(v+1)*VW]          NV vectors of VW lanes per panel
        for i in range(MR):
            a = broadcast(A[i, k])
            acc[i][q][v] = fma(a, b[q][v], acc[i][q][v])

numba has no vector type, so the kernel is an ``intrinsic`` that emits this loop as LLVM IR with
``<VW x float>`` values and ``llvm.fma``; LLVM maps the vectors onto whatever the CPU has (one zmm
register with AVX-512, two ymm with AVX2). Shapes used (a tile is MR x Q*NR):

* ``MR x 1 panel`` (MR = 8 with 32 vector registers, 4 otherwise; NV = 2): batches of rows;
* ``1 x 4 panels`` and ``1 x 1 panel``: a handful of rows (single-series inference), where an MR-row
  tile would multiply mostly padding; four panels give eight independent FMA chains per k.
Rows or columns that do not fill a tile go through a small zero-padded copy of the tile.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core.errors import TypingError
from numba.extending import intrinsic, overload

from ..._config import JIT


def _vector_bytes() -> int:
    """Width of the CPU's vector registers: 64 with AVX-512, 32 with AVX2, else 16. Follows numba's
    target: with ``NUMBA_CPU_NAME`` set (portable caches), the safe 16."""
    if config.CPU_NAME:
        return 16
    from llvmlite import binding

    features = binding.get_host_cpu_features()
    if features.get("avx512f"):
        return 64
    return 32 if features.get("avx2") else 16


VECTOR_BYTES = _vector_bytes()
NV = 2                                     # vectors per panel row: NR = NV * VW values
MR = 8 if VECTOR_BYTES == 64 else 4        # rows per tile: MR*NV accumulators + NV + 1 registers
ROW_PANELS = 4                             # panels per single-row tile


def _tile_kernel(rows: int, panels: int):
    """An intrinsic ``tile(c, c_off, ldc, a, a_off, a_rs, a_cs, b, b_off, b_ks, b_ps, K, accumulate)``::

        for i < rows, q < panels, j < NR:
            C[i, q*NR + j] (+)= sum_{k < K} A[i, k] * B[q, k, j]
        with C[i, n]    = c.flat[c_off + i*ldc + n]
             A[i, k]    = a.flat[a_off + i*a_rs + k*a_cs]
             B[q, k, j] = b.flat[b_off + q*b_ps + k*b_ks + j]

    Packed panels have b_ks = NR, b_ps = K*NR; a row-major (K, N) matrix read in place has b_ks = N,
    b_ps = NR. ``+=`` with ``accumulate``, else ``=`` (C is still read, then ignored: no branch in
    the kernel). The caller guarantees that every address this implies is inside the arrays."""

    @intrinsic
    def tile(typingctx, c, c_off, ldc, a, a_off, a_rs, a_cs, b, b_off, b_ks, b_ps, K, accumulate):
        arrays = (c, a, b)
        if not all(isinstance(x, types.Array) and x.layout == "C" for x in arrays):
            raise TypingError("tile: c, a and b must be C-contiguous arrays")
        if not (c.dtype == a.dtype == b.dtype and c.dtype in (types.float32, types.float64)):
            raise TypingError("tile: c, a and b must share a float32 or float64 dtype")
        sig = types.void(c, types.intp, types.intp, a, types.intp, types.intp, types.intp,
                         b, types.intp, types.intp, types.intp, types.intp, types.boolean)

        def codegen(context, builder, signature, args):
            c_arr, c_off, ldc, a_arr, a_off, a_rs, a_cs, b_arr, b_off, b_ks, b_ps, K, accumulate = args
            data = [context.make_array(signature.args[n])(context, builder, v).data
                    for n, v in ((0, c_arr), (3, a_arr), (7, b_arr))]
            elt = data[0].type.pointee
            itemsize = 4 if isinstance(elt, ir.FloatType) else 8
            VW = VECTOR_BYTES // itemsize
            NR = NV * VW
            vec = ir.VectorType(elt, VW)
            intp = c_off.type
            zero = ir.Constant(vec, [0.0] * VW)

            def const(n):
                return ir.Constant(intp, n)

            def vptr(base, offset):
                return builder.bitcast(builder.gep(base, [offset]), vec.as_pointer())

            c0 = builder.gep(data[0], [c_off])
            a0 = builder.gep(data[1], [a_off])
            b0 = builder.gep(data[2], [b_off])
            # accumulators: acc[(i*panels + q)*NV + v] is C[i, q*NR + v*VW : ... + VW]
            c_ptrs, acc0 = [], []
            for i in range(rows):
                row = builder.mul(const(i), ldc)
                for q in range(panels):
                    for v in range(NV):
                        p = vptr(c0, builder.add(row, const(q * NR + v * VW)))
                        c_ptrs.append(p)
                        acc0.append(builder.select(accumulate, builder.load(p, align=itemsize), zero))
            entry = builder.block
            loop = builder.append_basic_block("tile.k")
            done = builder.append_basic_block("tile.done")
            builder.cbranch(builder.icmp_signed(">", K, const(0)), loop, done)

            builder.position_at_end(loop)
            k = builder.phi(intp)
            acc = [builder.phi(vec) for _ in acc0]
            # b[q][v] = B[q, k, v*VW : (v+1)*VW]
            krow = builder.mul(k, b_ks)
            b = []
            for q in range(panels):
                panel = builder.add(builder.mul(const(q), b_ps), krow)
                b.append([builder.load(vptr(b0, builder.add(panel, const(v * VW))), align=itemsize)
                          for v in range(NV)])
            fma_name = f"llvm.fma.v{VW}f{itemsize * 8}"
            fma = builder.module.globals.get(fma_name) or ir.Function(
                builder.module, ir.FunctionType(vec, [vec] * 3), fma_name)
            zeros = ir.Constant(ir.VectorType(ir.IntType(32), VW), [0] * VW)
            undef = ir.Constant(vec, ir.Undefined)
            new = []
            for i in range(rows):
                a_ik = builder.load(builder.gep(a0, [builder.add(builder.mul(const(i), a_rs),
                                                                 builder.mul(k, a_cs))]))
                a_vec = builder.shuffle_vector(builder.insert_element(undef, a_ik, ir.Constant(ir.IntType(32), 0)),
                                               undef, zeros)       # broadcast A[i, k]
                for q in range(panels):
                    for v in range(NV):
                        new.append(builder.call(fma, [a_vec, b[q][v], acc[(i * panels + q) * NV + v]]))
            k_next = builder.add(k, const(1))
            k.add_incoming(const(0), entry)
            k.add_incoming(k_next, loop)
            for phi, start, step in zip(acc, acc0, new):
                phi.add_incoming(start, entry)
                phi.add_incoming(step, loop)
            builder.cbranch(builder.icmp_signed("<", k_next, K), loop, done)

            builder.position_at_end(done)
            results = []
            for start, step in zip(acc0, new):
                phi = builder.phi(vec)
                phi.add_incoming(start, entry)
                phi.add_incoming(step, loop)
                results.append(phi)
            for value, p in zip(results, c_ptrs):
                builder.store(value, p, align=itemsize)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _tile_kernel(MR, 1)
_row_tile = _tile_kernel(1, ROW_PANELS)
_row_panel = _tile_kernel(1, 1)


def panel_width(a):
    """NR, the number of columns in a panel, for arrays of ``a``'s dtype (a constant in njit code)."""
    return NV * (VECTOR_BYTES // a.itemsize)


@overload(panel_width, inline="always")
def _ol_panel_width(a):
    width = NV * (VECTOR_BYTES * 8 // a.dtype.bitwidth)
    return lambda a: width


@njit(**JIT)
def pack(B):
    """Panels of B (K, N) for ``packed_matmul``: (P, K, NR), contiguous copies of row pieces."""
    K, N = B.shape
    NR = panel_width(B)
    P = (N + NR - 1) // NR
    BP = np.empty((P, K, NR), B.dtype)
    flat = BP.reshape(P * K * NR)
    for p in range(P):
        j0 = p * NR
        width = min(NR, N - j0)
        for k in range(K):
            src = B[k]
            o = (p * K + k) * NR
            for j in range(width):
                flat[o + j] = src[j0 + j]
            for j in range(width, NR):             # zero padding of the last panel
                flat[o + j] = 0
    return BP


@njit(**JIT)
def pack_transposed(W):
    """Panels of B = W^T for W (N, K), i.e. for products ``A W^T``: BP[p, k, j] = W[p*NR + j, k]."""
    N, K = W.shape
    NR = panel_width(W)
    P = (N + NR - 1) // NR
    BP = np.zeros((P, K, NR), W.dtype)
    for p in range(P):
        block = W[p * NR: (p + 1) * NR]              # NR rows of W (fewer in the last panel)
        dst = BP[p]
        for k in range(K):
            row = dst[k]
            for j in range(block.shape[0]):
                row[j] = block[j, k]
    return BP


@njit(**JIT)
def _edge_tile(C, A, BP, i0, rows, p, K, accumulate, Apad, Cpad):
    """C[i0:i0+rows, p*NR:...] (+)= A[i0:i0+rows] @ panel p, through zero-padded MR x NR copies."""
    N = C.shape[1]
    NR = BP.shape[2]
    cols = min(NR, N - p * NR)
    Apad.fill(0)
    Cpad.fill(0)
    for i in range(rows):
        for k in range(K):
            Apad[i, k] = A[i0 + i, k]
        if accumulate:
            for j in range(cols):
                Cpad[i, j] = C[i0 + i, p * NR + j]
    _tile(Cpad, 0, NR, Apad, 0, K, 1, BP, p * K * NR, NR, K * NR, K, True)
    for i in range(rows):
        for j in range(cols):
            C[i0 + i, p * NR + j] = Cpad[i, j]


@njit(**JIT)
def _row_product(C, A, BP, i, K, accumulate, Apad, Cpad):
    """C[i] (+)= A[i] @ B, four panels at a time (eight independent FMA chains per k)."""
    N = C.shape[1]
    P, _, NR = BP.shape
    full = N // NR                                  # panels whose columns are all inside C
    p = 0
    while p + ROW_PANELS <= full:
        _row_tile(C, i * N + p * NR, N, A, i * K, K, 1, BP, p * K * NR, NR, K * NR, K, accumulate)
        p += ROW_PANELS
    while p < full:
        _row_panel(C, i * N + p * NR, N, A, i * K, K, 1, BP, p * K * NR, NR, K * NR, K, accumulate)
        p += 1
    if p < P:
        _edge_tile(C, A, BP, i, 1, p, K, accumulate, Apad, Cpad)


@njit(**JIT)
def packed_matmul(C, A, BP, accumulate):
    """C (M, N) = A (M, K) @ B, or ``+=`` with ``accumulate``; BP = ``pack(B)`` / ``pack_transposed``.
    C and A must be C-contiguous (every per-step slice of a time-major buffer is)."""
    M, K = A.shape
    N = C.shape[1]
    P, _, NR = BP.shape
    Apad = np.empty((MR, K), A.dtype)
    Cpad = np.empty((MR, NR), A.dtype)
    full = N // NR
    i0 = 0
    while i0 + MR <= M:                             # whole MR-row tiles
        for p in range(full):
            _tile(C, i0 * N + p * NR, N, A, i0 * K, K, 1, BP, p * K * NR, NR, K * NR, K, accumulate)
        if full < P:
            _edge_tile(C, A, BP, i0, MR, full, K, accumulate, Apad, Cpad)
        i0 += MR
    rest = M - i0
    if 4 * rest > MR:                               # a good part of a tile: pad it
        for p in range(P):
            _edge_tile(C, A, BP, i0, rest, p, K, accumulate, Apad, Cpad)
    else:                                           # a row or two: one at a time
        for i in range(i0, M):
            _row_product(C, A, BP, i, K, accumulate, Apad, Cpad)


# K block of ``matmul_tn``: the (KC, MR) copy of A's tile stays in L1 (8 KB in float32) while it meets
# every panel of B, whose (KC, N) block stays in L2.
KC = 256


@njit(**JIT)
def matmul_tn(C, A, B):
    """C (M, N) += A^T B for A (K, M) and B (K, N), all C-contiguous: the weight gradients
    ``sum_t dgates_t^T h_{t-1}`` over every (step, sample) row at once (K = T*B, thousands).
    A's columns are strided (M apart), so each MR-column tile of A is first copied into a contiguous
    (KC, MR) block. When N is not a whole number of panels but M is (W_hh's gradient at H=16:
    M = 4H = 64, N = 16), C^T += B^T A is computed instead, without padding."""
    K, M = A.shape
    N = B.shape[1]
    NR = panel_width(A)
    if N % NR != 0 and M % NR == 0:
        Ct = np.zeros((N, M), C.dtype)
        _matmul_tn(Ct, B, A)
        for i in range(M):
            for j in range(N):
                C[i, j] += Ct[j, i]
    else:
        _matmul_tn(C, A, B)


@njit(**JIT)
def _matmul_tn(C, A, B):
    K, M = A.shape
    N = B.shape[1]
    NR = panel_width(A)
    P = (N + NR - 1) // NR
    if N % NR == 0:                                 # B's rows read in place: panel p = columns p*NR..
        b, b_ks, b_ps = B.reshape(K * N), N, NR
        Cw = C
    else:                                           # zero-padded panels, and C through a padded copy
        b, b_ks, b_ps = pack(B).reshape(P * K * NR), NR, K * NR
        Cw = np.zeros((M, P * NR), C.dtype)
    ldc = Cw.shape[1]
    At = np.empty((KC, MR), A.dtype)
    for k0 in range(0, K, KC):
        kb = min(KC, K - k0)
        i0 = 0
        while i0 + MR <= M:
            for k in range(kb):                     # At[k, i] = A[k0 + k, i0 + i] = A^T[i0 + i, k0 + k]
                src, dst = A[k0 + k], At[k]
                for i in range(MR):
                    dst[i] = src[i0 + i]
            for p in range(P):
                _tile(Cw, i0 * ldc + p * NR, ldc, At, 0, 1, MR, b, p * b_ps + k0 * b_ks, b_ks, b_ps, kb, True)
            i0 += MR
        for i in range(i0, M):                      # leftover rows of C, one at a time, in place
            for p in range(P):
                _row_panel(Cw, i * ldc + p * NR, ldc, A, k0 * M + i, 1, M, b, p * b_ps + k0 * b_ks,
                           b_ks, b_ps, kb, True)
    if N % NR != 0:
        for i in range(M):
            for j in range(N):
                C[i, j] += Cw[i, j]
