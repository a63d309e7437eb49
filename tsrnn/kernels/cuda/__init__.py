"""CUDA kernels (``numba.cuda``, from the optional ``numba-cuda`` package: ``pip install tsrnn[cuda]``).

Same mathematics, gate order and parameter layout as ``tsrnn.kernels.cpu``; float32.

Design (small recurrent networks, H <= 1024):

* **Input side as GEMMs.** ``W_ih x_t + b`` for all T steps is one tiled matrix product
  (``gemm.gemm``, 16x16 shared-memory tiles), and so are the weight gradients after BPTT
  (``dW_ih += dG^T X``, ``dW_hh += dG^T H_prev``) and ``dX = dG W_ih``.
* **Recurrence as one persistent launch per layer and direction.** ``<cell>_forward_kernel`` runs the
  whole time loop inside a single launch: one thread block per batch row, one thread per hidden unit.
  ``h_{t-1}`` lives in shared memory, the cell state in a register; each step every thread computes the
  G dot products of its unit with ``h_{t-1}``, the gate activations and its new state, then the block
  synchronises (``syncthreads``) and publishes ``h_t``. No launch per time step (cuDNN's per-step
  launches are what leaves a GPU idle on small networks), no grid-wide synchronisation (batch rows are
  independent). The recurrent weights are read from global memory through the L1/L2 caches: a block
  reuses them T times, and for H <= 128 they fit in L2 many times over. The forward kernel reads a
  transposed copy ``W_hh^T`` so that neighbouring threads read neighbouring addresses.
* **BPTT the same way.** ``<cell>_backward_kernel`` walks t = T-1..0 in one launch per layer and
  direction: each thread forms the pre-activation gradients of its unit, the block stages them in shared
  memory, and each thread then forms ``dh_{t-1}[j] = sum_r dG[r] W_hh[r, j]`` (coalesced over j).

Files as on the CPU: ``activations``, ``gemm``, ``recurrent`` (the products shared by the cells),
``optim``, one module per cell, and ``backend`` (the network's whole-array operations).

Importing ``tsrnn`` never imports this package; ``is_available()`` says whether a GPU can be used.
Under ``NUMBA_ENABLE_CUDASIM=1`` the kernels run in numba's simulator (for tests on tiny shapes).
"""
from __future__ import annotations

__all__ = ["is_available", "unavailable_reason"]


def unavailable_reason() -> str | None:
    """None when a CUDA device can be used, else why not (missing package, driver or GPU)."""
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba always has the cuda module
        return f"numba.cuda cannot be imported ({exc})"
    try:
        if cuda.is_available():
            return None
        return "no CUDA GPU or driver found (numba.cuda.is_available() is False)"
    except Exception as exc:  # noqa: BLE001 - any driver problem means: not available
        return f"CUDA is not usable: {exc}"


def is_available() -> bool:
    return unavailable_reason() is None
