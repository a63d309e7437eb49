"""Optimizer kernels over one flat parameter buffer on the GPU (the twin of ``cpu/optim.py``), one thread
per parameter:

    m = b1 m + (1 - b1) g
    v = b2 v + (1 - b2) g^2
    p -= lr * ( m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps) + wd * p )

SGD with momentum: v = mu v + g + wd p; p -= lr v. Gradient clipping by global norm:
g *= min(1, max_norm / ||g||_2) (the norm's one float is the only host transfer).
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32

from .activations import _ONE
from .gemm import launch_1d


@cuda.jit
def adam_kernel(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, bc1, bc2):
    k = cuda.grid(1)
    if k < params.size:
        g = grads[k]
        m[k] = beta1 * m[k] + (_ONE - beta1) * g
        v[k] = beta2 * v[k] + (_ONE - beta2) * g * g
        m_hat = m[k] / bc1
        v_hat = v[k] / bc2
        params[k] -= lr * (m_hat / (math.sqrt(v_hat) + eps) + weight_decay * params[k])


def adam_update(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """In-place Adam(W) step number ``step`` (1-based), as ``cpu.optim.adam_update``."""
    f = np.float32
    launch_1d(adam_kernel, params.size, params, grads, m, v, f(lr), f(beta1), f(beta2), f(eps), f(weight_decay),
              f(1 - beta1 ** step), f(1 - beta2 ** step))


@cuda.jit
def sgd_kernel(params, grads, velocity, lr, momentum, weight_decay):
    k = cuda.grid(1)
    if k < params.size:
        velocity[k] = momentum * velocity[k] + grads[k] + weight_decay * params[k]
        params[k] -= lr * velocity[k]


def sgd_update(params, grads, velocity, lr, momentum, weight_decay):
    """In-place SGD step with (heavy-ball) momentum, as ``cpu.optim.sgd_update``."""
    f = np.float32
    launch_1d(sgd_kernel, params.size, params, grads, velocity, f(lr), f(momentum), f(weight_decay))


@cuda.jit
def sumsq_kernel(x, total):
    i = cuda.grid(1)
    if i < x.size:
        cuda.atomic.add(total, 0, x[i] * x[i])


@cuda.jit
def scale_kernel(x, factor):
    i = cuda.grid(1)
    if i < x.size:
        x[i] *= factor


def clip_by_global_norm(grads, max_norm: float) -> float:
    """Scale grads in place so their global L2 norm is at most max_norm; returns the norm before."""
    total = cuda.to_device(np.zeros(1, np.float32))
    launch_1d(sumsq_kernel, grads.size, grads, total)
    norm = math.sqrt(float(total.copy_to_host()[0]))
    if norm > max_norm > 0:
        launch_1d(scale_kernel, grads.size, grads, float32(max_norm / norm))
    return norm
