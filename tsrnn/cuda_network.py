"""The recurrent network on an NVIDIA GPU: the CPU :class:`~tsrnn.network.Network`'s API, layout and
initialisation, with parameters, gradients, optimizer state and activations kept on the device.

Only ``Forecaster(device="cuda")`` and tests need this module; it imports ``numba.cuda`` (the
``tsrnn[cuda]`` extra). Parameters are initialised by a CPU ``Network`` with the same seed and copied
over, and dropout masks come from the same seeded generator, so CPU and GPU runs start identical and
differ only by float32 rounding.
"""
from __future__ import annotations

import numpy as np

from .kernels.cuda import cuda_kernels, unavailable_reason
from .network import Network

__all__ = ["CudaNetwork"]


def _cuda():
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"device='cuda' was requested but {reason}; use device='cpu' or 'auto'")
    from numba import cuda

    return cuda


def _on_device(a) -> bool:
    """A numba device array (or the simulator's stand-in for one)."""
    return hasattr(a, "copy_to_host")


class CudaNetwork:
    """Stacked RNN/GRU/LSTM + linear head on the GPU (float32). Same arguments as ``Network``.

    Example (needs a GPU)
    ---------------------
    >>> net = CudaNetwork("lstm", 1, 32, 12, seed=0)            # doctest: +SKIP
    >>> loss = net.train_step(x, y, tsrnn.optim.Adam())           # doctest: +SKIP
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, dtype="float32", seed: int | None = None,
                 n_threads: int = 1, head: str = "direct"):
        if np.dtype(dtype) != np.float32:
            raise ValueError("the CUDA kernels are float32 only")
        if head != "direct":
            raise ValueError("the CUDA network has the direct multi-output head only; use device='cpu' for seq2seq")
        self.cuda = _cuda()
        from .kernels.cuda import common

        self.k = common
        self.host = Network(cell, input_size, hidden_size, output_size, num_layers, bidirectional, dropout,
                            "float32", seed)
        for name in ("head", "cell", "spec", "input_size", "hidden_size", "output_size", "num_layers", "bidirectional",
                     "dropout", "dtype", "num_directions", "layout", "num_parameters", "rng"):
            setattr(self, name, getattr(self.host, name))
        self._forward_kernel, self._backward_kernel = cuda_kernels(cell)
        self.d_params = self.cuda.to_device(self.host.params)
        self.d_grads = self.cuda.device_array_like(self.d_params)
        self._adam: dict = {}
        self._tape = None

    loss = staticmethod(Network.loss)

    # ----------------------------------------------------------------------------------------------
    @property
    def params(self) -> np.ndarray:
        return self.d_params.copy_to_host()

    @params.setter
    def params(self, value) -> None:
        self.d_params.copy_to_device(np.ascontiguousarray(value, dtype=np.float32))

    @property
    def grads(self) -> np.ndarray:
        return self.d_grads.copy_to_host()

    def view(self, name: str, buffer=None):
        offset, shape = self.layout[name]
        size = int(np.prod(shape))
        return (self.d_params if buffer is None else buffer)[offset: offset + size].reshape(shape)

    def _layer(self, layer, d, buffer=None):
        return tuple(self.view(self.host._pname(layer, d, key), buffer) for key in ("W_ih", "W_hh", "b_ih", "b_hh"))

    # ----------------------------------------------------------------------------------------------
    def stage(self, a: np.ndarray):
        """Put a whole data set on the device once (for :meth:`batch`)."""
        return self.cuda.to_device(np.ascontiguousarray(a, dtype=np.float32))

    def batch(self, x_dev, y_dev, idx: np.ndarray):
        """Samples ``idx`` of staged time-major inputs (T, N, I) and targets (N, O), gathered on the device."""
        d_idx = self.cuda.to_device(np.ascontiguousarray(idx, dtype=np.int64))
        xb = self.cuda.device_array((x_dev.shape[0], len(idx), x_dev.shape[2]), np.float32)
        yb = self.cuda.device_array((len(idx), y_dev.shape[1]), np.float32)
        self.k.launch_1d(self.k.gather_columns_kernel, xb.size, x_dev, d_idx, xb)
        self.k.launch_1d(self.k.gather_rows_kernel, yb.size, y_dev, d_idx, yb)
        return xb, yb

    def _device(self, a, name):
        if _on_device(a):
            return a
        return self.cuda.to_device(np.ascontiguousarray(self.host._check_x(a) if name == "x" else a,
                                                        dtype=np.float32))

    def _zeros(self, shape):
        return self.cuda.to_device(np.zeros(shape, np.float32))

    # ----------------------------------------------------------------------------------------------
    def forward(self, x, training: bool = False):
        """x (T, B, I), host or device; returns the head output (B, O) on the device."""
        cuda, k = self.cuda, self.k
        x = self._device(x, "x")
        T, B, _ = x.shape
        H, D, G = self.hidden_size, self.num_directions, self.spec.gates
        masks = self.host._draw_masks(T, B) if training else [None] * self.num_layers
        h0 = self._zeros((B, H))
        tape = {"x": x, "h0": h0, "inputs": [], "masks": [], "outs": [], "auxs": [], "gates": []}
        inp = x
        for layer in range(self.num_layers):
            if masks[layer] is not None:
                mask = cuda.to_device(masks[layer])
                dropped = cuda.device_array_like(inp)
                k.launch_1d(k.mul_kernel, inp.size, k.flat(inp), k.flat(mask), k.flat(dropped))
                inp = dropped
                tape["masks"].append(mask)
            else:
                tape["masks"].append(None)
            tape["inputs"].append(inp)
            outs, auxs, gates = [], [], []
            for d in range(D):
                out = cuda.device_array((T, B, H), np.float32)
                aux = cuda.device_array((T, B, H), np.float32)
                gate = cuda.device_array((T, B, G * H), np.float32)
                self._forward_kernel(out, aux, gate, inp, h0, h0, *self._layer(layer, d), bool(d))
                outs.append(out)
                auxs.append(aux)
                gates.append(gate)
            tape["outs"].append(outs)
            tape["auxs"].append(auxs)
            tape["gates"].append(gates)
            inp = outs[0] if D == 1 else self._concat(outs[0], outs[1])
        top = tape["outs"][-1]
        last = top[0][T - 1] if D == 1 else self._concat(top[0][T - 1], top[1][T - 1])
        tape["last"] = last
        y = cuda.device_array((B, self.output_size), np.float32)
        k.gemm(last, self.view("head.W"), y, trans_b=True)
        k.add_bias(y, self.view("head.b"))
        self._tape = tape
        return y

    def _concat(self, a, b):
        """Concatenate the two directions along the last axis."""
        shape = tuple(a.shape)
        n, h = int(np.prod(shape[:-1])), shape[-1]
        out = self.cuda.device_array(shape[:-1] + (2 * h,), np.float32)
        self.k.launch_1d(self.k.concat_kernel, n * h, a.reshape(n, h), b.reshape(n, h), out.reshape(n, 2 * h))
        return out

    def backward(self, dy) -> None:
        """Backprop dL/dy (B, O) (host or device) through the last forward; fills the device gradients."""
        cuda, k, tape = self.cuda, self.k, self._tape
        if tape is None:
            raise RuntimeError("backward() needs a forward() first")
        dy = dy if _on_device(dy) else cuda.to_device(np.ascontiguousarray(dy, np.float32))
        T, B, _ = tape["x"].shape
        H, D, G = self.hidden_size, self.num_directions, self.spec.gates
        grads = self.d_grads
        k.launch_1d(k.fill_kernel, grads.size, grads, np.float32(0.0))
        k.gemm(dy, tape["last"], self.view("head.W", grads), trans_a=True)
        k.colsum_add(dy, self.view("head.b", grads))
        dlast = cuda.device_array((B, H * D), np.float32)
        k.gemm(dy, self.view("head.W"), dlast)
        douts = [self._zeros((T, B, H)) for _ in range(D)]
        if D == 1:
            douts[0][T - 1].copy_to_device(dlast)
        else:
            k.launch_1d(k.split_kernel, B * H, dlast, douts[0][T - 1], douts[1][T - 1])
        h0 = tape["h0"]
        dh0 = cuda.device_array((B, H), np.float32)
        dgates = cuda.device_array((T, B, G * H), np.float32)
        dgates_h = cuda.device_array_like(dgates) if self.cell == "gru" else dgates
        for layer in range(self.num_layers - 1, -1, -1):
            inp = tape["inputs"][layer]
            dinp = self._zeros(inp.shape)
            dx = cuda.device_array(inp.shape, np.float32)
            for d in range(D):
                W_ih, W_hh, _, _ = self._layer(layer, d)
                dW_ih, dW_hh, db_ih, db_hh = self._layer(layer, d, grads)
                self._backward_kernel(dx, dh0, dh0, dW_ih, dW_hh, db_ih, db_hh, dgates, dgates_h, douts[d], inp,
                                      h0, h0, W_ih, W_hh, tape["outs"][layer][d], tape["auxs"][layer][d],
                                      tape["gates"][layer][d], bool(d))
                k.launch_1d(k.add_kernel, dinp.size, k.flat(dinp), k.flat(dx))
            if tape["masks"][layer] is not None:
                k.launch_1d(k.mul_kernel, dinp.size, k.flat(dinp), k.flat(tape["masks"][layer]), k.flat(dinp))
            if layer > 0:
                if D == 1:
                    douts = [dinp]
                else:
                    douts = [cuda.device_array((T, B, H), np.float32) for _ in range(2)]
                    k.launch_1d(k.split_kernel, T * B * H, dinp.reshape(T * B, 2 * H), douts[0].reshape(T * B, H),
                                douts[1].reshape(T * B, H))

    def train_step(self, x, y, optimizer, loss: str = "mse", clip_norm: float | None = None) -> float:
        """forward (dropout on) + loss + backward + clipping + Adam, all on the device; returns the loss."""
        from .optim import Adam

        if not isinstance(optimizer, Adam):
            raise ValueError("the CUDA network supports the Adam optimizer only")
        pred = self.forward(x, training=True)
        y = y if _on_device(y) else self.cuda.to_device(np.ascontiguousarray(y, np.float32))
        value, dy = self.k.loss(pred, y, loss)
        self.backward(dy)
        if clip_norm is not None:
            self.k.clip_by_global_norm(self.d_grads, float(clip_norm))
        state = self._adam.setdefault(id(optimizer), {"m": self._zeros(self.num_parameters),
                                                      "v": self._zeros(self.num_parameters), "t": 0})
        state["t"] += 1
        self.k.adam_update(self.d_params, self.d_grads, state["m"], state["v"], optimizer.lr, optimizer.beta1,
                           optimizer.beta2, optimizer.eps, optimizer.weight_decay, state["t"])
        return value

    def predict(self, x) -> np.ndarray:
        """Inference (no dropout); returns the head output (B, O) on the host."""
        y = self.forward(x, training=False).copy_to_host()
        self._tape = None
        return y
