"""Optimizers over a flat parameter buffer: the state is flat too, the update is one fused kernel.

The state lives in the optimizer, on the parameters' device: ``step(params, grads, backend)`` allocates
it with the backend that holds ``params`` (``Network.train_step`` passes its own; plain NumPy arrays need
none) and runs that backend's update kernel.
"""
from __future__ import annotations

from ._validation import check_fraction, check_positive
from .kernels.cpu.backend import CpuBackend
from .kernels.cpu.optim import clip_by_global_norm

__all__ = ["Adam", "SGD", "clip_by_global_norm"]


def _state(current, params, backend):
    """``current`` if it matches ``params`` (shape, dtype, device), else a fresh zero buffer."""
    if current is not None and backend.owns(current) and tuple(current.shape) == tuple(params.shape) \
            and current.dtype == params.dtype:
        return current, False
    return backend.zeros(params.shape), True


class Adam:
    """Adam / AdamW over a flat buffer.

    Example
    -------
    >>> import numpy as np
    >>> p = np.ones(3, np.float32); g = np.full(3, 0.5, np.float32)
    >>> opt = Adam(lr=0.1)
    >>> opt.step(p, g)
    >>> bool((p < 1).all())
    True
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.lr = check_positive("lr", lr)
        self.beta1 = check_fraction("betas[0]", betas[0])
        self.beta2 = check_fraction("betas[1]", betas[1])
        self.eps = check_positive("eps", eps)
        self.weight_decay = check_fraction("weight_decay", weight_decay, high_inclusive=True)
        self.t = 0
        self.m = None                 # state on the parameters' device, allocated by the first step
        self.v = None

    def step(self, params, grads, backend=None) -> None:
        """Update ``params`` in place from ``grads`` (same shape and dtype, on ``backend``'s device)."""
        backend = backend or CpuBackend(params.dtype)
        self.m, fresh = _state(self.m, params, backend)
        if fresh:
            self.v = backend.zeros(params.shape)
            self.t = 0
        self.t += 1
        backend.adam_update(params, grads, self.m, self.v, self.lr, self.beta1, self.beta2, self.eps,
                            self.weight_decay, self.t)


class SGD:
    """Stochastic gradient descent with optional momentum and weight decay.

    Example
    -------
    >>> import numpy as np
    >>> p = np.ones(2); SGD(lr=0.5).step(p, np.ones(2)); p.tolist()
    [0.5, 0.5]
    """

    def __init__(self, lr: float = 1e-2, momentum: float = 0.0, weight_decay: float = 0.0):
        self.lr = check_positive("lr", lr)
        self.momentum = check_fraction("momentum", momentum)
        self.weight_decay = check_fraction("weight_decay", weight_decay, high_inclusive=True)
        self.velocity = None

    def step(self, params, grads, backend=None) -> None:
        """Update ``params`` in place from ``grads`` (same shape and dtype, on ``backend``'s device)."""
        backend = backend or CpuBackend(params.dtype)
        self.velocity, _ = _state(self.velocity, params, backend)
        backend.sgd_update(params, grads, self.velocity, self.lr, self.momentum, self.weight_decay)
