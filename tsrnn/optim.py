"""Optimizers over a flat parameter buffer: the state is flat too, the update is one fused kernel."""
from __future__ import annotations

import numpy as np

from ._validation import check_fraction, check_positive
from .kernels.cpu.optim import adam_update, clip_by_global_norm, sgd_update

__all__ = ["Adam", "SGD", "clip_by_global_norm"]


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
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place from ``grads`` (same shape and dtype)."""
        if self.m is None or self.m.shape != params.shape or self.m.dtype != params.dtype:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            self.t = 0
        self.t += 1
        adam_update(params, grads, self.m, self.v, self.lr, self.beta1, self.beta2, self.eps,
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
        self.velocity: np.ndarray | None = None

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        if self.velocity is None or self.velocity.shape != params.shape or self.velocity.dtype != params.dtype:
            self.velocity = np.zeros_like(params)
        sgd_update(params, grads, self.velocity, self.lr, self.momentum, self.weight_decay)
