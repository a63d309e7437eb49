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
* ``1 x 4 panels``: a row or two (single-series inference), where an MR-row tile would multiply
  mostly padding; four panels give eight independent FMA chains per k (``1 x 1 panel`` for the
  panels left over).
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


def _no_unroll(module):
    """Loop metadata ``!0 = !{!0, !{"llvm.loop.unroll.disable"}}``: the k loop is already as wide as
    the registers allow, and unrolled copies of it (LLVM made 3-4 per call site) only cost compile
    time, which numba pays again in every function that links this code."""
    loop_id = module.add_metadata([ir.MetaDataString(module, f"tsrnn.tile.{len(module.metadata)}")])
    loop_id.operands = (loop_id, module.add_metadata([ir.MetaDataString(module, "llvm.loop.unroll.disable")]))
    return loop_id


def _tile_kernel(rows: int, panels: int):
    """An intrinsic ``tile(c, c_off, ldc, a, a_off, a_rs, a_cs, b, b_off, b_ks, b_ps, K)``::

        for i < rows, q < panels, j < NR:
            C[i, q*NR + j] += sum_{k < K} A[i, k] * B[q, k, j]
        with C[i, n]    = c.flat[c_off + i*ldc + n]
             A[i, k]    = a.flat[a_off + i*a_rs + k*a_cs]
             B[q, k, j] = b.flat[b_off + q*b_ps + k*b_ks + j]

    Packed panels have b_ks = NR, b_ps = K*NR; a row-major (K, N) matrix read in place has b_ks = N,
    b_ps = NR. The caller guarantees that every address this implies is inside the arrays."""

    @intrinsic
    def tile(typingctx, c, c_off, ldc, a, a_off, a_rs, a_cs, b, b_off, b_ks, b_ps, K):
        arrays = (c, a, b)
        if not all(isinstance(x, types.Array) and x.layout == "C" for x in arrays):
            raise TypingError("tile: c, a and b must be C-contiguous arrays")
        if not (c.dtype == a.dtype == b.dtype and c.dtype in (types.float32, types.float64)):
            raise TypingError("tile: c, a and b must share a float32 or float64 dtype")
        sig = types.void(c, types.intp, types.intp, a, types.intp, types.intp, types.intp,
                         b, types.intp, types.intp, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            c_arr, c_off, ldc, a_arr, a_off, a_rs, a_cs, b_arr, b_off, b_ks, b_ps, K = args
            data = [context.make_array(signature.args[n])(context, builder, v).data
                    for n, v in ((0, c_arr), (3, a_arr), (7, b_arr))]
            elt = data[0].type.pointee
            itemsize = 4 if isinstance(elt, ir.FloatType) else 8
            VW = VECTOR_BYTES // itemsize
            NR = NV * VW
            vec = ir.VectorType(elt, VW)
            intp = c_off.type

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
                        acc0.append(builder.load(p, align=itemsize))
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
            latch = builder.cbranch(builder.icmp_signed("<", k_next, K), loop, done)
            latch.set_metadata("llvm.loop", _no_unroll(builder.module))

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


@njit(inline="always", **JIT)
def _panels(N, NR):
    """Panels allocated for N columns: whole ROW_PANELS groups, so the single-row kernel may always
    read ROW_PANELS of them (the extra ones are zeros)."""
    P = (N + NR - 1) // NR
    return (P + ROW_PANELS - 1) // ROW_PANELS * ROW_PANELS


@njit(**JIT)
def pack(B):
    """Panels of B (K, N) for ``packed_matmul``: (P, K, NR), contiguous copies of row pieces."""
    K, N = B.shape
    NR = panel_width(B)
    BP = np.zeros((_panels(N, NR), K, NR), B.dtype)
    for p in range((N + NR - 1) // NR):
        j0 = p * NR
        width = min(NR, N - j0)
        for k in range(K):
            src, dst = B[k], BP[p, k]
            for j in range(width):
                dst[j] = src[j0 + j]
    return BP


@njit(inline="always", **JIT)
def pack_transposed(W):
    """Panels of B = W^T for W (N, K), i.e. for products ``A W^T``: ``pack`` of the transposed view."""
    return pack(W.T)


# Compile time shapes this code: numba links a callee's LLVM IR into every caller and optimises it
# again there, so the drivers stay small, with few micro-kernel call sites (edges go through padded
# copies at a shared call) and no constant arguments that numba would compile separate copies for.
@njit(**JIT)
def packed_matmul(C, A, BP):
    """C (M, N) += A (M, K) @ B with BP = ``pack(B)`` or ``pack_transposed(B^T)`` (clear C first for
    ``=``). C and A must be C-contiguous (every per-step slice of a time-major buffer is).

    MR-row tiles, one panel at a time; a row or two left over (single-series inference) use the
    single-row kernel, ROW_PANELS panels at a time. Tiles that stick out of A or C run on zero-padded
    copies (Apad, Cpad), allocated only when some tile needs them."""
    M, K = A.shape
    N = C.shape[1]
    NR = BP.shape[2]
    width = ROW_PANELS * NR
    rest = M % MR
    single_rows = 0 < 4 * rest <= MR
    padded_rows = rest and not single_rows
    Apad = np.zeros((MR, K), A.dtype) if padded_rows else A                    # (A, C: stand-ins
    edges = padded_rows or N % NR                                               # never touched)
    Cpad = np.zeros((MR, width), C.dtype) if edges else C
    for i0 in range(0, M - rest if single_rows else M, MR):
        rows = min(MR, M - i0)
        a, a_off = A, i0 * K
        if rows < MR:
            a, a_off = Apad, 0
            for i in range(rows):
                for k in range(K):
                    Apad[i, k] = A[i0 + i, k]
        for p in range((N + NR - 1) // NR):
            cols = min(NR, N - p * NR)
            edge = rows < MR or cols < NR
            c, c_off, ldc = C, i0 * N + p * NR, N
            if edge:
                c, c_off, ldc = Cpad, 0, width
                for i in range(rows):
                    for j in range(cols):
                        Cpad[i, j] = C[i0 + i, p * NR + j]
            _tile(c, c_off, ldc, a, a_off, K, 1, BP, p * K * NR, NR, K * NR, K)
            if edge:
                for i in range(rows):
                    for j in range(cols):
                        C[i0 + i, p * NR + j] = Cpad[i, j]
    if single_rows:                                         # a row or two: single-row kernels
        for i in range(M - rest, M):
            p = 0
            while p < (N + NR - 1) // NR:
                group = ROW_PANELS if (p + ROW_PANELS) * NR <= N else 1
                cols = min(group * NR, N - p * NR)
                c, c_off, ldc = C, i * N + p * NR, N
                if cols < group * NR:                       # the last panel sticks out of C's row
                    c, c_off, ldc = Cpad, 0, width
                    for j in range(cols):
                        Cpad[0, j] = C[i, p * NR + j]
                if group == ROW_PANELS:
                    _row_tile(c, c_off, ldc, A, i * K, K, 1, BP, p * K * NR, NR, K * NR, K)
                else:
                    _row_panel(c, c_off, ldc, A, i * K, K, 1, BP, p * K * NR, NR, K * NR, K)
                if cols < group * NR:
                    for j in range(cols):
                        C[i, p * NR + j] = Cpad[0, j]
                p += group


# K block of ``matmul_tn``: the (KC, MR) copy of A's tile stays in L1 (8 KB in float32) while it meets
# every panel of B, whose (KC, N) block stays in L2.
KC = 256


@njit(**JIT)
def matmul_tn(C, A, B):
    """C (M, N) += A^T B for A (K, M) and B (K, N), all C-contiguous: the weight gradients
    ``sum_t dgates_t^T h_{t-1}`` over every (step, sample) row at once (K = T*B, thousands).

    A's columns are strided (M apart), so each MR-column tile of A is first copied into a contiguous
    (KC, MR) block. B's rows are read in place when N is a whole number of panels; otherwise, when M
    is (W_hh's gradient at H=16: M = 4H = 64, N = 16), C^T += B^T A is computed instead, else B is
    packed with zero padding. C is updated in place when M and N fill whole tiles, else through a
    padded copy."""
    K, M = A.shape
    N = B.shape[1]
    NR = panel_width(A)
    swap = N % NR != 0 and M % NR == 0
    if swap:
        A, B = B, A
        M, N = N, M
    P = (N + NR - 1) // NR
    if N % NR == 0:                                 # B's rows read in place: panel p = columns p*NR..
        b, b_ks, b_ps = B.reshape(K * N), N, NR
    else:
        BP = pack(B)
        b, b_ks, b_ps = BP.reshape(BP.size), NR, K * NR
    direct = N % NR == 0 and M % MR == 0 and not swap
    Cw = C if direct else np.zeros(((M + MR - 1) // MR * MR, P * NR), C.dtype)
    ldc = Cw.shape[1]
    At = np.zeros((KC, MR), A.dtype)
    for k0 in range(0, K, KC):
        kb = min(KC, K - k0)
        for i0 in range(0, M, MR):
            for k in range(kb):                     # At[k, i] = A[k0 + k, i0 + i] = A^T[i0 + i, k0 + k]
                src, dst = A[k0 + k], At[k]
                if i0 + MR <= M:
                    for i in range(MR):             # (a constant trip count: one vector copy)
                        dst[i] = src[i0 + i]
                else:                               # a partial last tile leaves stale columns: they
                    for i in range(M - i0):         # only reach Cw's padding rows
                        dst[i] = src[i0 + i]
            for p in range(P):
                _tile(Cw, i0 * ldc + p * NR, ldc, At, 0, 1, MR, b, p * b_ps + k0 * b_ks, b_ks, b_ps, kb)
    if not direct:
        for i in range(C.shape[0]):
            for j in range(C.shape[1]):
                C[i, j] += Cw[j, i] if swap else Cw[i, j]
