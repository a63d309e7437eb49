"""Activations and their derivatives as CUDA device functions (the GPU twin of ``cpu/activations.py``).

    sigmoid(x) = 1 / (1 + exp(-x))      sigmoid'(x) = y (1 - y)   with y = sigmoid(x)
    tanh(x)                             tanh'(x)    = 1 - y^2     with y = tanh(x)

The derivatives take the activation's *output* y, which the forward pass caches. float32 throughout:
``_ONE`` and ``_ZERO`` are the float32 constants every CUDA module uses (a bare 1.0 would promote the
arithmetic to float64, which is 1/64 the speed on consumer GPUs).
"""
from __future__ import annotations

import math

from numba import cuda, float32

_ONE = float32(1.0)
_ZERO = float32(0.0)


@cuda.jit(device=True, inline=True)
def sigmoid(x):
    return _ONE / (_ONE + math.exp(-x))


@cuda.jit(device=True, inline=True)
def tanh(x):
    return math.tanh(x)


@cuda.jit(device=True, inline=True)
def sigmoid_grad(y):
    return y * (_ONE - y)


@cuda.jit(device=True, inline=True)
def tanh_grad(y):
    return _ONE - y * y
