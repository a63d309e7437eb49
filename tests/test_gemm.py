"""The GEMM micro-kernel against NumPy, over shapes that hit every edge path: rows that do not fill a
tile (padded tile, single-row kernels), columns that do not fill a panel, K = 1, K-blocks."""
import numpy as np
import pytest

from tsrnn.kernels.cpu.gemm import MR, matmul_tn, pack, pack_transposed, packed_matmul, panel_width

DTYPES = [(np.float64, 1e-12), (np.float32, 2e-6)]


def _rel_err(got, ref):
    return np.abs(got - ref).max() / max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("dtype,tol", DTYPES)
@pytest.mark.parametrize("M", [1, 2, 3, MR - 1, MR, MR + 1, 2 * MR + 3, 64])
def test_packed_matmul_matches_numpy(dtype, tol, M):
    rng = np.random.default_rng(M)
    for K in (1, 5, 64):
        for N in (1, 7, 32, 33, 100, 256):
            A = rng.normal(size=(M, K)).astype(dtype)
            W = rng.normal(size=(N, K)).astype(dtype)
            C0 = rng.normal(size=(M, N)).astype(dtype)
            ref = A.astype(np.float64) @ W.T.astype(np.float64)
            for BP in (pack_transposed(W), pack(np.ascontiguousarray(W.T))):
                C = C0.copy()
                packed_matmul(C, A, BP)
                assert _rel_err(C, C0 + ref) <= tol, (M, K, N)


@pytest.mark.parametrize("dtype,tol", DTYPES)
def test_matmul_tn_matches_numpy(dtype, tol):
    rng = np.random.default_rng(1)
    for K in (1, 3, 300, 700):                          # 700 = several K blocks
        for M in (1, 5, MR, 12, 64):
            for N in (1, 16, 33, 64):
                A = rng.normal(size=(K, M)).astype(dtype)
                B = rng.normal(size=(K, N)).astype(dtype)
                C = rng.normal(size=(M, N)).astype(dtype)
                ref = C + A.T.astype(np.float64) @ B.astype(np.float64)
                matmul_tn(C, A, B)
                assert _rel_err(C, ref) <= tol, (K, M, N)


def test_packed_layout():
    W = np.arange(3 * 40, dtype=np.float32).reshape(40, 3)   # B = W^T: K = 3, N = 40
    NR = panel_width(W)
    BP = pack_transposed(W)
    assert BP.shape[1:] == (3, NR) and BP.shape[0] >= -(-40 // NR)   # (+ zero panels, see _panels)
    for p in range(BP.shape[0]):
        for j in range(NR):
            col = p * NR + j
            expected = W[col] if col < 40 else np.zeros(3, np.float32)   # zero padding
            np.testing.assert_array_equal(BP[p, :, j], expected)
    np.testing.assert_array_equal(pack(np.ascontiguousarray(W.T)), BP)


def test_portable_target_uses_narrow_vectors(tmp_path):
    """With NUMBA_CPU_NAME set (a cache shared across machines) the kernel uses 16-byte vectors and
    4-row tiles, and still computes the right products."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from tsrnn.kernels.cpu.gemm import VECTOR_BYTES, MR, matmul_tn, pack_transposed, packed_matmul\n"
        "assert (VECTOR_BYTES, MR) == (16, 4), (VECTOR_BYTES, MR)\n"
        "rng = np.random.default_rng(0)\n"
        "A = rng.normal(size=(6, 10)).astype(np.float32); W = rng.normal(size=(13, 10)).astype(np.float32)\n"
        "C = np.zeros((6, 13), np.float32); packed_matmul(C, A, pack_transposed(W))\n"
        "assert np.abs(C - A @ W.T).max() < 1e-5\n"
        "D = np.zeros((10, 13), np.float32); matmul_tn(D, A, rng.normal(size=(6, 13)).astype(np.float32))\n"
        "print('ok')\n")
    env = dict(os.environ, NUMBA_CPU_NAME="generic", NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("dtype,tol", DTYPES)
def test_the_linear_head_forward_and_backward_match_numpy(dtype, tol):
    """``kernels/cpu/linear.py``: y = x W^T + b, dW = dy^T x, db = column sums, dx = dy W, on the head's
    shapes (one row: single-series forecasts; N = 1: the seq2seq head; K = 216: 24 steps x 9 future
    inputs) and ragged ones."""
    from tsrnn.kernels.cpu.linear import linear, linear_backward

    rng = np.random.default_rng(2)
    for M, K, N in ((1, 32, 24), (7, 5, 1), (128, 216, 24), (MR + 3, 33, 13), (64, 32, 1)):
        x, W, b = (rng.normal(size=s).astype(dtype) for s in ((M, K), (N, K), (N,)))
        dy = rng.normal(size=(M, N)).astype(dtype)
        x64, W64, dy64 = (a.astype(np.float64) for a in (x, W, dy))
        assert _rel_err(linear(x, W, b), x64 @ W64.T + b) <= tol
        dW, db = np.full((N, K), np.nan, dtype), np.full(N, np.nan, dtype)   # written, not added to
        dx = linear_backward(dy, x, W, dW, db)
        assert _rel_err(dW, dy64.T @ x64) <= tol * 10 and _rel_err(db, dy64.sum(axis=0)) <= tol * 10
        assert _rel_err(dx, dy64 @ W64) <= tol
