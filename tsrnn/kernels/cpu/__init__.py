"""CPU kernels (``numba.njit``): one module per cell with its forward and backward side by side."""
