"""Optimizer kernels over one flat parameter buffer and its flat gradient buffer (llm.c style: the
update is a single loop over every parameter, whatever layer it belongs to).

Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov & Hutter 2019):

    m = b1 m + (1 - b1) g
    v = b2 v + (1 - b2) g^2
    p -= lr * ( m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps) + wd * p )

Gradient clipping by global norm: g *= min(1, max_norm / ||g||_2).
"""
from __future__ import annotations

import math

from numba import njit

from ..._config import FASTMATH, JIT


@njit(fastmath=FASTMATH, **JIT)
def adam_update(params, grads, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """In-place Adam(W) step number ``step`` (1-based). params, grads, m, v: (P,) same dtype."""
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    for k in range(params.shape[0]):
        g = grads[k]
        m[k] = beta1 * m[k] + (1.0 - beta1) * g
        v[k] = beta2 * v[k] + (1.0 - beta2) * g * g
        m_hat = m[k] / bc1
        v_hat = v[k] / bc2
        params[k] -= lr * (m_hat / (math.sqrt(v_hat) + eps) + weight_decay * params[k])


@njit(fastmath=FASTMATH, **JIT)
def sgd_update(params, grads, velocity, lr, momentum, weight_decay):
    """In-place SGD step with (heavy-ball) momentum: v = mu v + g + wd p; p -= lr v."""
    for k in range(params.shape[0]):
        velocity[k] = momentum * velocity[k] + grads[k] + weight_decay * params[k]
        params[k] -= lr * velocity[k]


@njit(fastmath=FASTMATH, **JIT)
def global_norm(grads):
    """||grads||_2 accumulated in float64."""
    total = 0.0
    for k in range(grads.shape[0]):
        total += float(grads[k]) * float(grads[k])
    return math.sqrt(total)


@njit(fastmath=FASTMATH, **JIT)
def clip_by_global_norm(grads, max_norm):
    """Scale grads in place so their global L2 norm is at most max_norm; returns the norm before."""
    norm = global_norm(grads)
    if norm > max_norm and norm > 0.0:
        scale = max_norm / norm
        for k in range(grads.shape[0]):
            grads[k] *= scale
    return norm
