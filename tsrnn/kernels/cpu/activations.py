"""Activation functions for the kernels, chosen by precision at compile time.

* float64: exact ``math.tanh`` / logistic, so float64 runs are the reference for gradient checks.
* float32: a branch-free rational approximation of tanh (the [13/6] minimax fit used by Eigen's
  ``ptanh_float``), built only from mul/add/div/min/max so LLVM can vectorise the gate loops; scalar
  libm calls would not vectorise and cost 1.2-2.4x on a training step (perf-anchors section 2).
  Absolute error against exact tanh is below 5e-7 over the whole float32 line (tested in
  ``tests/test_activations.py``); sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 inherits the bound halved.

Use ``tanh``, ``sigmoid`` and their output-side derivatives ``tanh_grad(y) = 1 - y^2`` and
``sigmoid_grad(y) = y (1 - y)`` inside njit code; the float32 versions keep every constant in float32
so nothing is silently promoted to float64.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

# tanh(x) ~ x * P(x^2) / Q(x^2) on [-C, C], saturating outside (tanh(7.905) rounds to 1 in float32).
_CLAMP = np.float32(7.90531110763549805)
_A1, _A3, _A5, _A7 = (np.float32(4.89352455891786e-03), np.float32(6.37261928875436e-04),
                      np.float32(1.48572235717979e-05), np.float32(5.12229709037114e-08))
_A9, _A11, _A13 = (np.float32(-8.60467152213735e-11), np.float32(2.00018790482477e-13),
                   np.float32(-2.76076847742355e-16))
_B0, _B2, _B4, _B6 = (np.float32(4.89352518554385e-03), np.float32(2.26843463243900e-03),
                      np.float32(1.18534705686654e-04), np.float32(1.19825839466702e-06))
_HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)


def tanh(x):
    """tanh; in njit code float32 uses the rational approximation."""
    return math.tanh(x)


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + math.exp(-x))


def tanh_grad(y):
    """d tanh / dx expressed with the output y = tanh(x): 1 - y^2."""
    return 1.0 - y * y


def sigmoid_grad(y):
    """d sigmoid / dx expressed with the output y = sigmoid(x): y (1 - y)."""
    return y * (1.0 - y)


def _is_f32(x) -> bool:
    return isinstance(x, types.Float) and x.bitwidth == 32


def _tanh_f32_impl(x):
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    p = p * x2 + _A9
    p = p * x2 + _A7
    p = p * x2 + _A5
    p = p * x2 + _A3
    p = p * x2 + _A1
    q = x2 * _B6 + _B4
    q = q * x2 + _B2
    q = q * x2 + _B0
    return x * p / q


_tanh_f32 = njit(inline="always")(_tanh_f32_impl)


@overload(tanh, inline="always")
def _ol_tanh(x):
    if _is_f32(x):
        return _tanh_f32_impl
    return lambda x: math.tanh(x)


@overload(sigmoid, inline="always")
def _ol_sigmoid(x):
    if _is_f32(x):
        return lambda x: _HALF32 * _tanh_f32(_HALF32 * x) + _HALF32

    def impl(x):
        # split by sign so exp never overflows
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    return impl


@overload(tanh_grad, inline="always")
def _ol_tanh_grad(y):
    if _is_f32(y):
        return lambda y: _ONE32 - y * y
    return lambda y: 1.0 - y * y


@overload(sigmoid_grad, inline="always")
def _ol_sigmoid_grad(y):
    if _is_f32(y):
        return lambda y: y * (_ONE32 - y)
    return lambda y: y * (1.0 - y)
