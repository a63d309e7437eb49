"""Recurrent kernels. ``spec`` is the cell registry; ``cpu`` holds the numba.njit kernels and the CPU
backend of the network; ``cuda`` (an optional extra) the numba.cuda ones and the CUDA backend. Importing
this package compiles nothing."""
from .spec import CELLS, SPECS, CellSpec, cell_kernels, get_spec

__all__ = ["CELLS", "SPECS", "CellSpec", "get_spec", "cell_kernels", "backend"]


def backend(device: str = "cpu", dtype="float32"):
    """The array backend of a network on ``device`` ("cpu" or "cuda"; the GPU computes in float32)."""
    if device == "cpu":
        from .cpu.backend import CpuBackend

        return CpuBackend(dtype)
    if device == "cuda":
        import numpy as np

        from .cuda import unavailable_reason

        if np.dtype(dtype) != np.float32:
            raise ValueError("the CUDA kernels are float32 only")
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"device='cuda' was requested but {reason}; use device='cpu' or 'auto'")
        from .cuda.backend import CudaBackend

        return CudaBackend()
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
