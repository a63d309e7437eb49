"""The CPU backend of :class:`tsrnn.network.Network` (the twin of ``cuda/backend.py``): NumPy arrays
and the few whole-array operations the network's layer loops and heads need besides the cell kernels.
Arrays are the caller's dtype (float32 or float64); nothing is copied that need not be.
"""
from __future__ import annotations

import numpy as np

from . import linear, optim

__all__ = ["CpuBackend"]


class CpuBackend:
    """NumPy arrays and whole-array operations on the host."""
    name = "cpu"
    threads = True                     # a pass may be cut into batch chunks, one thread each

    def __init__(self, dtype=np.float32):
        self.dtype = np.dtype(dtype)

    # arrays
    def empty(self, shape) -> np.ndarray:
        return np.empty(shape, self.dtype)

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, self.dtype)

    def owns(self, a) -> bool:
        return isinstance(a, np.ndarray)

    def asarray(self, a) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=self.dtype)

    def to_host(self, a) -> np.ndarray:
        return a

    def copy_into(self, dst, src) -> None:
        dst[...] = src

    # elementwise
    def zero_(self, a) -> None:
        a[...] = 0

    def mul(self, x, y):
        return x * y

    def imul(self, x, y) -> None:
        x *= y

    def iadd(self, x, y) -> None:
        x += y

    def concat(self, parts):
        """Join arrays along the last axis (the two directions of a layer)."""
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def split(self, x, n: int) -> list:
        """The inverse of ``concat``: n equal contiguous parts of the last axis."""
        if n == 1:
            return [x]
        H = x.shape[-1] // n
        return [np.ascontiguousarray(x[..., d * H:(d + 1) * H]) for d in range(n)]

    def transpose(self, a):
        return np.ascontiguousarray(a.T)

    # the linear head: y = x W^T + b (``linear.py``: our GEMM, not OpenBLAS's threads)
    def linear(self, x, W, b):
        return linear.linear(np.ascontiguousarray(x), W, b)

    def linear_backward(self, dy, x, W, dW, db):
        """dW = dy^T x and db = column sums of dy (written); returns dL/dx = dy W."""
        return linear.linear_backward(np.ascontiguousarray(dy), np.ascontiguousarray(x), W, dW, db)

    # training
    def loss(self, pred, target, kind: str):
        """(mean loss, dL/dpred). mse: mean((p - y)^2); mae: mean(|p - y|) (subgradient 0 at 0)."""
        diff = pred - target
        n = diff.size
        if kind == "mse":
            return float(np.mean(diff.astype(np.float64) ** 2)), ((2.0 / n) * diff).astype(diff.dtype)
        return float(np.mean(np.abs(diff), dtype=np.float64)), (np.sign(diff) / n).astype(diff.dtype)

    def clip_by_global_norm(self, grads, max_norm: float) -> float:
        return float(optim.clip_by_global_norm(grads, max_norm))

    def adam_update(self, *args) -> None:
        optim.adam_update(*args)

    def sgd_update(self, *args) -> None:
        optim.sgd_update(*args)
