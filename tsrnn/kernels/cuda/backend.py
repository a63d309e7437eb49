"""The CUDA backend of :class:`tsrnn.network.Network` (the twin of ``cpu/backend.py``): device arrays
(float32) and the few whole-array operations the network's layer loops and heads need besides the cell
kernels. Everything stays on the device; the only host transfers are inputs, masks, the loss value and
the gradient norm.
"""
from __future__ import annotations

import numpy as np
from numba import cuda, float32

from . import optim
from .activations import _ONE, _ZERO
from .gemm import gemm, launch_1d, transposed
from .recurrent import add_bias, column_sums

__all__ = ["CudaBackend"]


@cuda.jit
def fill_kernel(x, value):
    i = cuda.grid(1)
    if i < x.size:
        x[i] = value


@cuda.jit
def mul_kernel(x, y, out):
    """out = x * y elementwise (flat views)."""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = x[i] * y[i]


@cuda.jit
def add_kernel(x, y):
    """x += y elementwise (flat views)."""
    i = cuda.grid(1)
    if i < x.size:
        x[i] += y[i]


@cuda.jit
def concat_kernel(a, b, out):
    """out[:, :Ha] = a, out[:, Ha:] = b for (N, Ha), (N, Hb) views; one thread per element of out."""
    i = cuda.grid(1)
    N, Ha = a.shape
    W = Ha + b.shape[1]
    if i < N * W:
        r = i // W
        j = i % W
        if j < Ha:
            out[r, j] = a[r, j]
        else:
            out[r, j] = b[r, j - Ha]


@cuda.jit
def split_kernel(x, a, b):
    """a = x[:, :H], b = x[:, H:] for (N, 2H) -> (N, H) views."""
    i = cuda.grid(1)
    N, H = a.shape
    if i < N * H:
        r = i // H
        j = i % H
        a[r, j] = x[r, j]
        b[r, j] = x[r, H + j]


@cuda.jit
def loss_kernel(pred, target, dy, total, kind):
    """kind 0: MSE, 1: MAE. dy = dL/dpred for the mean loss; total[0] += sum of the elementwise losses."""
    i = cuda.grid(1)
    n = pred.size
    if i < n:
        d = pred[i] - target[i]
        if kind == 0:
            dy[i] = float32(2.0) * d / float32(n)
            cuda.atomic.add(total, 0, d * d)
        else:
            dy[i] = (_ONE if d > 0 else (-_ONE if d < 0 else _ZERO)) / float32(n)
            cuda.atomic.add(total, 0, abs(d))


def _flat(a):
    return a.reshape(a.size)


def _rows(a):
    """(..., H) -> (N, H) view."""
    H = tuple(a.shape)[-1]                 # a tuple: the simulator's shapes take no negative index
    return a.reshape(a.size // H, H)


class CudaBackend:
    """Device arrays and whole-array operations on an NVIDIA GPU (float32 only)."""
    name = "cuda"
    threads = False                    # one chunk: the GPU parallelises within a pass

    def __init__(self):
        self.dtype = np.dtype(np.float32)

    # arrays
    def empty(self, shape):
        return cuda.device_array(tuple(shape), np.float32)

    def zeros(self, shape):
        a = self.empty(shape)
        if a.size:
            launch_1d(fill_kernel, a.size, _flat(a), float32(0.0))
        return a

    def owns(self, a) -> bool:
        """A numba device array (or the simulator's stand-in for one, which lacks ``is_cuda_array``)."""
        return hasattr(a, "copy_to_host")

    def asarray(self, a):
        """A host array (or a device array) as a contiguous float32 device array."""
        if self.owns(a):
            return a
        return cuda.to_device(np.ascontiguousarray(a, dtype=np.float32))

    def to_host(self, a) -> np.ndarray:
        return a.copy_to_host()

    def copy_into(self, dst, src) -> None:
        dst.copy_to_device(src)

    # elementwise
    def zero_(self, a) -> None:
        if a.size:
            launch_1d(fill_kernel, a.size, _flat(a), float32(0.0))

    def mul(self, x, y):
        out = self.empty(x.shape)
        launch_1d(mul_kernel, x.size, _flat(x), _flat(y), _flat(out))
        return out

    def imul(self, x, y) -> None:
        launch_1d(mul_kernel, x.size, _flat(x), _flat(y), _flat(x))

    def iadd(self, x, y) -> None:
        launch_1d(add_kernel, x.size, _flat(x), _flat(y))

    def concat(self, parts):
        """Join two arrays along the last axis (the two directions of a layer; a decoder's step
        indicators and future inputs)."""
        if len(parts) == 1:
            return parts[0]
        a, b = parts
        shape = tuple(a.shape)
        out = self.empty(shape[:-1] + (shape[-1] + tuple(b.shape)[-1],))
        launch_1d(concat_kernel, out.size, _rows(a), _rows(b), _rows(out))
        return out

    def split(self, x, n: int) -> list:
        """The inverse of ``concat``: n equal contiguous parts of the last axis."""
        if n == 1:
            return [x]
        shape = tuple(x.shape)
        H = shape[-1] // 2
        a, b = self.empty(shape[:-1] + (H,)), self.empty(shape[:-1] + (H,))
        launch_1d(split_kernel, a.size, _rows(x), _rows(a), _rows(b))
        return [a, b]

    def transpose(self, a):
        return transposed(a)

    # the linear head: y = x W^T + b
    def linear(self, x, W, b):
        y = self.empty((x.shape[0], W.shape[0]))
        gemm(x, W, y, trans_b=True)
        add_bias(y, b)
        return y

    def linear_backward(self, dy, x, W, dW, db):
        """dW = dy^T x and db = column sums of dy (written); returns dL/dx = dy W."""
        gemm(dy, x, dW, trans_a=True)
        self.zero_(db)
        column_sums(dy, db)
        dx = self.empty((dy.shape[0], W.shape[1]))
        gemm(dy, W, dx)
        return dx

    # training
    def loss(self, pred, target, kind: str):
        """(mean loss as a Python float, dL/dpred on the device)."""
        dy = self.empty(tuple(pred.shape))
        total = cuda.to_device(np.zeros(1, np.float32))
        launch_1d(loss_kernel, pred.size, _flat(pred), _flat(target), _flat(dy), total, 0 if kind == "mse" else 1)
        return float(total.copy_to_host()[0]) / pred.size, dy

    def clip_by_global_norm(self, grads, max_norm: float) -> float:
        return optim.clip_by_global_norm(grads, max_norm)

    def adam_update(self, *args) -> None:
        optim.adam_update(*args)

    def sgd_update(self, *args) -> None:
        optim.sgd_update(*args)
