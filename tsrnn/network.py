"""A stacked (optionally bidirectional) recurrent network with a linear head, over one flat parameter
buffer, built on the cell kernels. The Forecaster trains this; nothing here knows about time series.

Layout of ``params`` (and of ``grads``, identically), in this order, for layer l = 0..L-1 and
direction d (``""`` forward, ``"_reverse"`` backward, PyTorch's names and shapes)::

    l{l}{d}.W_ih (G*H, I_l)   l{l}{d}.W_hh (G*H, H)   l{l}{d}.b_ih (G*H,)   l{l}{d}.b_hh (G*H,)
    head.W (O, D*H)           head.b (O,)           [head.V (O, O*F)]

The ``"direct"`` head reads the top layer's output at the last time step, ``out[T-1]`` (both
directions concatenated), like ``nn.Linear(D*H, O)(rnn(x)[0][:, -1])`` in PyTorch, and emits all O
outputs at once. With F = ``future_size`` > 0 it adds a linear projection of the O steps' future inputs
``x_future`` (O, B, F), flattened step by step: y = out[T-1] W^T + b + vec(x_future) V^T.

The ``"seq2seq"`` head (encoder-decoder, unidirectional only) adds a decoder of the same cell and depth,
``dec{l}.W_ih (G*H, I_l)`` ... with I_0 = O + F, that runs O steps: its input at step k is the one-hot
vector of k followed by the F future inputs of step k (``x_future`` (O, B, F): the forecaster's
known-in-advance covariates of the horizon), its layer l starts from the encoder layer l's last hidden
state (an LSTM decoder's cell state starts at zero), and a shared ``head.W (1, H)``, ``head.b (1,)``
reads output k from decoder step k. The decoder is causal: output k depends on the future inputs of
steps 0..k only.

Data are time-major: ``x`` has shape (T, B, I). Inter-layer dropout (on the inputs of layers >= 1, as
in PyTorch) draws its masks from the network's own seeded generator, for the whole batch at once, so a
run is reproducible whatever the number of threads.

Backends: ``device="cpu"`` (numba.njit kernels on NumPy arrays, float32 or float64) or ``device="cuda"``
(numba.cuda kernels on device arrays, float32; ``pip install tsrnn[cuda]``). The layout, initialisation,
dropout masks, layer loops, heads and losses below are written once, over the few whole-array
operations a backend provides (``tsrnn/kernels/{cpu,cuda}/backend.py``); the cells' kernels have one
signature on both. Parameters start identical on both backends (initialised on the host from the seed),
dropout masks come from the same seeded generator on the host, so CPU and GPU runs differ only by
float32 rounding.

Threads (CPU): ``n_threads`` is how many cores a pass may use (``Network._plan``): the batch is cut into up to
``n_threads`` contiguous chunks, each running its whole forward and backward pass in its own thread (the
kernels release the GIL and call no BLAS), and the chunks' gradients are summed. Passes too small to
repay the thread hand-over run as one chunk.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_array, check_float_dtype, check_fraction, check_positive_int
from .kernels import backend as make_backend
from .kernels import cell_kernels, get_spec
from .kernels.cpu.backend import CpuBackend

__all__ = ["Network", "LOSSES", "HEADS", "parameter_count"]

LOSSES = ("mse", "mae")
HEADS = ("direct", "seq2seq")
_HOST = CpuBackend()


def _pname(layer: int, direction, key: str) -> str:
    """l{layer}.{key}, l{layer}_reverse.{key} (direction 1) or dec{layer}.{key} (direction "dec")."""
    if direction == "dec":
        return f"dec{layer}.{key}"
    return f"l{layer}{'_reverse' if direction else ''}.{key}"


def param_shapes(spec, input_size: int, H: int, O: int, num_layers: int, D: int, head: str, future_size: int = 0):
    """(name, shape) of every tensor of the flat layout, in buffer order (see the module docstring)."""
    for layer in range(num_layers):
        in_size = input_size if layer == 0 else H * D
        for d in range(D):
            for key, shape in spec.param_shapes(in_size, H).items():
                yield _pname(layer, d, key), shape
    if head == "seq2seq":
        for layer in range(num_layers):
            in_size = O + future_size if layer == 0 else H
            for key, shape in spec.param_shapes(in_size, H).items():
                yield _pname(layer, "dec", key), shape
        yield "head.W", (1, H)
        yield "head.b", (1,)
        return
    yield "head.W", (O, H * D)
    yield "head.b", (O,)
    if future_size:
        yield "head.V", (O, O * future_size)


@dataclass
class _Chunk:
    """Activations of one batch chunk, kept from forward for backward (llm.c's activation cache)."""
    x: object
    h0: object
    c0: object
    xf: object = None                                  # future inputs: seq2seq (O, Bc, F), direct (Bc, O*F)
    layer_inputs: list = field(default_factory=list)   # [l] (T, Bc, I_l) after dropout
    masks: list = field(default_factory=list)          # [l] dropout mask scaled by 1/(1-p), or None
    outs: list = field(default_factory=list)           # [l][d] (T, Bc, H)
    auxs: list = field(default_factory=list)           # [l][d] (T, Bc, H)
    gates: list = field(default_factory=list)          # [l][d] (T, Bc, G*H)
    last: object = None                                # (Bc, D*H) direct head input
    dec: list = field(default_factory=list)            # seq2seq decoder [l] (inputs, h0, c0, out, aux, gates)
    grads: object = None                               # (P,) this chunk's parameter gradients
    slot: int = 0                                      # which chunk of the batch (workspace key)
    training: bool = False                             # training steps reuse the network's workspace


class Network:
    """Stacked RNN/GRU/LSTM + linear head with forward, backward, loss and train_step, on the CPU or a GPU.

    Parameters
    ----------
    cell : "rnn", "gru" or "lstm"
    input_size, hidden_size, output_size : int
    num_layers : int, default 1
    bidirectional : bool, default False
    dropout : float in [0, 1), default 0; applied between layers during training
    dtype : float32 (fast) or float64 (exact activations; used for gradient checks; CPU only)
    seed : int or None; initial weights (PyTorch's U(-1/sqrt(H), 1/sqrt(H))) and dropout masks
    n_threads : int, default 1; batch chunks processed in parallel (CPU)
    head : "direct" or "seq2seq"
    future_size : int, default 0; inputs per output step given as ``x_future`` (O, B, F): the seq2seq
        decoder's extra inputs, or the direct head's projection
    device : "cpu" (default) or "cuda"

    Notes
    -----
    Inputs and outputs of the public methods are NumPy arrays on both devices (``forward``/``train_step``
    also take device arrays on the GPU); ``params`` and ``grads`` are the flat buffers (on the GPU, host
    copies of them).

    Example
    -------
    >>> import numpy as np
    >>> from tsrnn.network import Network
    >>> from tsrnn.optim import Adam
    >>> net = Network("lstm", input_size=1, hidden_size=8, output_size=2, seed=0)
    >>> x = np.zeros((12, 4, 1), np.float32); y = np.ones((4, 2), np.float32)
    >>> opt = Adam(lr=1e-2)
    >>> first = net.train_step(x, y, opt)
    >>> for _ in range(50): last = net.train_step(x, y, opt)
    >>> bool(last < first)
    True
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, dtype="float32", seed: int | None = None,
                 n_threads: int = 1, head: str = "direct", device: str = "cpu", future_size: int = 0):
        self.spec = get_spec(cell)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if isinstance(future_size, bool) or not isinstance(future_size, (int, np.integer)) or future_size < 0:
            raise ValueError(f"future_size must be a non-negative integer, got {future_size!r}")
        self.future_size = int(future_size)
        if head == "seq2seq" and bidirectional:
            raise ValueError("the seq2seq head needs a unidirectional encoder (bidirectional=False)")
        self.head = head
        self.cell = cell
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.output_size = check_positive_int("output_size", output_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if not isinstance(bidirectional, (bool, np.bool_)):
            raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.bidirectional = bool(bidirectional)
        self.dropout = check_fraction("dropout", dropout)
        self.dtype = check_float_dtype(dtype)
        self.n_threads = check_positive_int("n_threads", n_threads)
        self.num_directions = 2 if self.bidirectional else 1
        self.device = device
        self.backend = make_backend(device, self.dtype)
        self._on_host = self.backend.name == "cpu"   # NumPy inputs are used as they are
        self._forward_kernel, self._backward_kernel = cell_kernels(cell, self.backend.name)

        self.layout: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        for name, shape in self._param_shapes():
            self.layout[name] = (offset, shape)
            offset += int(np.prod(shape))
        self.num_parameters = offset
        self._params = self.backend.zeros((offset,))
        self._grads = self.backend.zeros((offset,))
        self._bind_views()
        self.rng = np.random.default_rng(seed)
        self.reset_parameters()
        self._tape: list[_Chunk] = []
        self._pool: ThreadPoolExecutor | None = None
        self._zeros = None
        self._workspace: dict[tuple, object] = {}

    # ----------------------------------------------------------------------------------------------
    # parameters
    def _param_shapes(self):
        return param_shapes(self.spec, self.input_size, self.hidden_size, self.output_size, self.num_layers,
                            self.num_directions, self.head, self.future_size)

    _pname = staticmethod(_pname)     # l0.W_ih, l0_reverse.W_hh, dec1.b_ih, ...

    def _bind_views(self) -> None:
        """The named views into ``_params`` that the kernels read (rebuilt after unpickling: a pickled
        view comes back as a copy, which the optimizer's updates of ``_params`` would not reach)."""
        self._views = {name: self.view(name, self._params) for name in self.layout}
        self._layer_views = {(layer, d): self._layer_params(layer, d, self._params)
                             for layer in range(self.num_layers) for d in range(self.num_directions)}
        if self.head == "seq2seq":
            self._decoder_views = {layer: self._layer_params(layer, "dec", self._params)
                                   for layer in range(self.num_layers)}

    @property
    def params(self) -> np.ndarray:
        """The flat parameter buffer (P,) (on the GPU: a host copy). Assigning to it copies into the
        buffer, so the named views stay valid."""
        return self.backend.to_host(self._params)

    @params.setter
    def params(self, value) -> None:
        value = check_array("params", np.asarray(value, self.dtype), 1, self.dtype, (self.num_parameters,))
        self.backend.copy_into(self._params, value)

    @property
    def grads(self) -> np.ndarray:
        """The flat gradient buffer (P,) of the last backward (on the GPU: a host copy)."""
        return self.backend.to_host(self._grads)

    def view(self, name: str, buffer=None):
        """A named view into ``params`` (or into another flat buffer with the same layout)."""
        if buffer is None:
            return self._views[name]
        offset, shape = self.layout[name]
        size = 1
        for n in shape:
            size *= n
        return buffer[offset: offset + size].reshape(shape)

    def reset_parameters(self) -> None:
        """PyTorch's default init: every weight and bias ~ U(-k, k), k = 1/sqrt(hidden_size) for the
        recurrent layers and 1/sqrt(fan_in) for the head; drawn on the host, identical on every device."""
        k = 1.0 / np.sqrt(self.hidden_size)
        values = np.empty(self.num_parameters, self.dtype)
        for name, (offset, shape) in self.layout.items():
            fan_in = self.hidden_size * (self.num_directions if self.head == "direct" else 1)
            bound = 1.0 / np.sqrt(fan_in) if name.startswith("head") else k
            size = int(np.prod(shape))
            values[offset: offset + size] = self.rng.uniform(-bound, bound, size)
        self.params = values

    # ----------------------------------------------------------------------------------------------
    # checks
    def _check_x(self, x):
        if isinstance(x, np.ndarray) or not self.backend.owns(x):
            x = check_array("x", x, 3, self.dtype, (None, None, self.input_size))
            if x.shape[0] < 1 or x.shape[1] < 1:
                raise ValueError(f"x must have at least one time step and one sample, got shape {x.shape}")
            return x if self._on_host else self.backend.asarray(x)
        if len(x.shape) != 3 or x.shape[2] != self.input_size or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected (T >= 1, B >= 1, {self.input_size})")
        return x                                   # already a device array

    def _check_y(self, y, batch: int):
        if self.backend.owns(y) and not isinstance(y, np.ndarray):
            if tuple(y.shape) != (batch, self.output_size):
                raise ValueError(f"y has shape {tuple(y.shape)}, expected {(batch, self.output_size)}")
            return y
        return self.backend.asarray(check_array("y", y, 2, self.dtype, (batch, self.output_size)))

    def _check_xf(self, xf, T_batch: int):
        """The decoder's future inputs (O, B, F), or None when the network has none."""
        if not self.future_size:
            if xf is not None:
                raise ValueError("x_future given to a network without future inputs (future_size=0)")
            return None
        if xf is None:
            raise ValueError(f"this network needs x_future of shape ({self.output_size}, B, {self.future_size})")
        shape = (self.output_size, T_batch, self.future_size)
        if self.backend.owns(xf) and not isinstance(xf, np.ndarray):
            if tuple(xf.shape) != shape:
                raise ValueError(f"x_future has shape {tuple(xf.shape)}, expected {shape}")
            if self.head == "seq2seq":
                return xf
            xf = self.backend.to_host(xf)
        xf = check_array("x_future", xf, 3, self.dtype, shape)
        if self.head == "direct":                  # (O, B, F) -> (B, O*F), step by step (on the host)
            xf = np.ascontiguousarray(xf.transpose(1, 0, 2)).reshape(T_batch, -1)
        return self.backend.asarray(xf)

    def _check_state(self, name, s, batch):
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if s is None:                              # kernels only read initial states: share one zero array
            if self._zeros is None or tuple(self._zeros.shape) != shape:
                self._zeros = self.backend.zeros(shape)
            return self._zeros
        return self.backend.asarray(check_array(name, s, 3, self.dtype, shape))

    # ----------------------------------------------------------------------------------------------
    # forward
    def forward(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None,
                training: bool = False, x_future: np.ndarray | None = None) -> np.ndarray:
        """Run the network on ``x`` (T, B, I); returns the head output (B, O).

        h0, c0: initial states (L*D, B, H) as in PyTorch (zeros when None; c0 only for LSTM).
        training: apply dropout. The activations are kept for :meth:`backward`.
        x_future: (O, B, future_size) decoder inputs (seq2seq with ``future_size`` > 0 only).
        """
        return self.backend.to_host(self._forward(x, h0, c0, training, x_future))

    def _forward(self, x, h0, c0, training: bool, x_future=None):
        x = self._check_x(x)
        T, B = x.shape[:2]
        xf = self._check_xf(x_future, B)
        h0 = self._check_state("h0", h0, B)
        c0 = self._check_state("c0", c0, B) if self.spec.has_cell_state else h0   # c0 unused by GRU/RNN
        masks = self._draw_masks(T, B) if training else [None] * self.num_layers
        return self._forward_chunks(x, h0, c0, masks, self._plan(T, B), training, xf)

    def _forward_chunks(self, x, h0, c0, masks, n: int, training: bool, xf=None):
        B = x.shape[1]
        if n == 1:                                 # no copies on the common single-chunk path
            if not self._on_host and training:
                masks = [None if m is None else self.backend.asarray(m) for m in masks]
            self._tape = [_Chunk(x, h0, c0, xf, masks=masks, training=training)]
            self._forward_chunk(self._tape[0])
            return self._head(self._tape[0])
        bounds = [(i * B // n, (i + 1) * B // n) for i in range(n)]   # CPU batch chunks, one thread each
        self._tape = [
            _Chunk(np.ascontiguousarray(x[:, a:b]), np.ascontiguousarray(h0[:, a:b]),
                   np.ascontiguousarray(c0[:, a:b]), None if xf is None else
                   np.ascontiguousarray(xf[a:b] if self.head == "direct" else xf[:, a:b]),
                   masks=[None if m is None else np.ascontiguousarray(m[:, a:b]) for m in masks],
                   slot=i, training=training)
            for i, (a, b) in enumerate(bounds)]
        self._map(self._forward_chunk, self._tape)
        return np.concatenate([self._head(ch) for ch in self._tape], axis=0)

    def _draw_masks(self, T: int, B: int) -> list:
        """Dropout masks on the host from the network's generator, whatever the device."""
        masks = [None]
        keep = 1.0 - self.dropout
        for _ in range(1, self.num_layers):
            if self.dropout > 0:
                m = (self.rng.random((T, B, self.hidden_size * self.num_directions)) < keep)
                masks.append((m / keep).astype(self.dtype))
            else:
                masks.append(None)
        return masks

    # Below this much work per pass (multiply-adds of the recurrent products, plus ~16 per gate unit for
    # the elementwise work) one thread is faster than handing chunks to others.
    CHUNK_MIN_WORK = 1 << 23
    # Fewer samples than this per chunk would leave the GEMM micro-kernel's row tiles half empty.
    CHUNK_MIN_BATCH = 8

    def _plan(self, T: int, B: int) -> int:
        """How many batch chunks (threads) a pass over T steps of B samples uses, at most n_threads
        (always one on the GPU, which parallelises within the pass).

        Chunks parallelise everything (GEMMs and elementwise gate work) but pay ~50-100 us of thread
        hand-over per pass. Measured on the project's 2-core machine (training steps, batch 64): two
        chunks win from LSTM H=32 at T=24 on (1.1-1.5x faster; 2-layer H=256 1.25x) and lose below
        (LSTM H=16 T=24: 0.78 vs 0.63 ms, RNN H=64 T=24: 0.97 vs 0.73 ms).
        """
        units = self.spec.gates * self.hidden_size
        if not self.backend.threads or T * B * units * (self.hidden_size + self.input_size + 16) < self.CHUNK_MIN_WORK:
            return 1
        return max(1, min(self.n_threads, B // self.CHUNK_MIN_BATCH))

    def _map(self, fn, chunks) -> list:
        if len(chunks) == 1:
            return [fn(chunks[0])]
        if self._pool is None or self._pool._max_workers < len(chunks):
            self._pool = ThreadPoolExecutor(max_workers=len(chunks), thread_name_prefix="tsrnn")
        return list(self._pool.map(fn, chunks))

    def _buffer(self, ch: _Chunk, key: tuple, shape: tuple):
        """An uninitialised array for one pass over ``ch``. Training steps take it from the network's
        workspace, allocated once per shape and reused by every later step (fresh multi-megabyte
        arrays cost page faults and cache misses: up to 15 % of an LSTM forward pass at T=96, H=64);
        inference allocates, so that predicting a large panel does not pin its activations in memory."""
        if not ch.training:
            return self.backend.empty(shape)
        key = (ch.slot,) + key
        buf = self._workspace.get(key)
        if buf is None or tuple(buf.shape) != tuple(shape):
            buf = self._workspace[key] = self.backend.empty(shape)
        return buf

    def _forward_chunk(self, ch: _Chunk) -> None:
        T, Bc, _ = ch.x.shape
        H, D, G = self.hidden_size, self.num_directions, self.spec.gates
        ch.layer_inputs, ch.outs, ch.auxs, ch.gates = [], [], [], []
        inp = ch.x
        for layer in range(self.num_layers):
            if ch.masks[layer] is not None:
                inp = self.backend.mul(inp, ch.masks[layer])
            ch.layer_inputs.append(inp)
            outs, auxs, gates = [], [], []
            for d in range(D):
                out = self._buffer(ch, ("out", layer, d), (T, Bc, H))
                aux = self._buffer(ch, ("aux", layer, d), (T, Bc, H))
                gate = self._buffer(ch, ("gates", layer, d), (T, Bc, G * H))
                k = layer * D + d
                self._forward_kernel(out, aux, gate, inp, ch.h0[k], ch.c0[k],
                                     *self._layer_views[layer, d], bool(d))
                outs.append(out)
                auxs.append(aux)
                gates.append(gate)
            ch.outs.append(outs)
            ch.auxs.append(auxs)
            ch.gates.append(gates)
            inp = self.backend.concat(outs)
        ch.last = self.backend.concat([o[T - 1] for o in ch.outs[-1]])
        if self.head == "seq2seq":
            self._decoder_forward(ch)

    def _decoder_inputs(self, ch: _Chunk):
        """(O, B, O + F): one-hot step indicators, then the future inputs of each step."""
        O, batch = self.output_size, ch.x.shape[1]
        steps = self.backend.asarray(np.repeat(np.eye(O, dtype=self.dtype)[:, None, :], batch, axis=1))  # writable
        return steps if ch.xf is None else self.backend.concat([steps, ch.xf])

    def _decoder_forward(self, ch: _Chunk) -> None:
        T, Bc, _ = ch.x.shape
        O, H, G = self.output_size, self.hidden_size, self.spec.gates
        zeros = self.backend.zeros((Bc, H))
        inp = self._decoder_inputs(ch)
        ch.dec = []
        for layer in range(self.num_layers):
            out = self.backend.empty((O, Bc, H))
            aux = self.backend.empty((O, Bc, H))
            gate = self.backend.empty((O, Bc, G * H))
            h0 = ch.outs[layer][0][T - 1]                 # encoder layer l's last hidden state
            self._forward_kernel(out, aux, gate, inp, h0, zeros, *self._decoder_views[layer], False)
            ch.dec.append((inp, h0, zeros, out, aux, gate))
            inp = out

    def _no_bias(self):
        """A zero (O,) bias for the direct head's projection."""
        if getattr(self, "_zero_bias", None) is None:
            self._zero_bias = self.backend.zeros((self.output_size,))
        return self._zero_bias

    def _layer_params(self, layer: int, d, buffer):
        return tuple(self.view(self._pname(layer, d, key), buffer) for key in ("W_ih", "W_hh", "b_ih", "b_hh"))

    def _head(self, ch: _Chunk):
        """direct: y = last W^T + b. seq2seq: y[b, k] = dec_top[k, b] . w + c, the same linear map on the
        (O*B, H) decoder outputs, then (O, B) -> (B, O)."""
        W, b = self.view("head.W"), self.view("head.b")
        if self.head == "direct":
            y = self.backend.linear(ch.last, W, b)
            if ch.xf is not None:                         # + vec(x_future) V^T
                self.backend.iadd(y, self.backend.linear(ch.xf, self.view("head.V"), self._no_bias()))
            return y
        top = ch.dec[-1][3]
        O, Bc, H = top.shape
        return self.backend.transpose(self.backend.linear(top.reshape(O * Bc, H), W, b).reshape(O, Bc))

    # ----------------------------------------------------------------------------------------------
    # backward
    def backward(self, dy: np.ndarray, input_grads: bool = True) -> dict[str, np.ndarray]:
        """Backprop ``dy`` = dL/d(output) (B, O) through the last :meth:`forward`.

        Writes the parameter gradients into ``grads`` (overwriting) and returns the gradients of the
        inputs: ``{"x": (T, B, I), "h0": (L*D, B, H)}`` plus ``"c0"`` for LSTM. With
        ``input_grads=False`` the gradient of ``x`` is skipped (one GEMM less; a training step does not
        need it) and left out of the result.
        """
        if not self._tape:
            raise RuntimeError("backward() needs a forward() first")
        B = sum(ch.x.shape[1] for ch in self._tape)
        if not (self.backend.owns(dy) and not isinstance(dy, np.ndarray)):
            dy = check_array("dy", dy, 2, self.dtype, (B, self.output_size))
        results = self._backward(self.backend.asarray(dy), input_grads)

        def joined(i):
            parts = [self.backend.to_host(r[i]) for r in results]
            return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        out = {"h0": joined(1)}
        if input_grads:
            out["x"] = joined(0)
        if self.spec.has_cell_state:
            out["c0"] = joined(2)
        return out

    def _backward(self, dy, input_grads: bool) -> list:
        offsets = np.cumsum([0] + [ch.x.shape[1] for ch in self._tape])
        if len(self._tape) == 1:
            results = [self._backward_chunk(self._tape[0], dy, input_grads)]
        else:
            results = self._map(lambda item: self._backward_chunk(item[0], dy[item[1]:item[2]], input_grads),
                                [(ch, offsets[i], offsets[i + 1]) for i, ch in enumerate(self._tape)])
        self.backend.copy_into(self._grads, self._tape[0].grads)
        for ch in self._tape[1:]:
            self.backend.iadd(self._grads, ch.grads)
        return results

    def _backward_chunk(self, ch: _Chunk, dy, input_grads: bool):
        T, Bc, _ = ch.x.shape
        H, D = self.hidden_size, self.num_directions
        be = self.backend
        grads = ch.grads = self._buffer(ch, ("grads",), (self.num_parameters,))
        be.zero_(grads)
        # gradients arriving at each encoder layer's last hidden state, (Bc, D*H) per layer
        final = self._head_backward(ch, dy, grads)
        dh0 = be.empty(ch.h0.shape)
        dc0 = be.empty(ch.c0.shape)
        dgates = self._buffer(ch, ("dgates",), (T, Bc, self.spec.gates * H))
        dgates_h = self._buffer(ch, ("dgates_h",), dgates.shape) if self.spec.separate_hidden_grads else dgates
        douts = [self._buffer(ch, ("douts", d), (T, Bc, H)) for d in range(D)]
        for dout in douts:
            be.zero_(dout)
        dinp = None
        for layer in range(self.num_layers - 1, -1, -1):
            if layer in final:
                for d, part in enumerate(be.split(final[layer], D)):
                    be.iadd(douts[d][T - 1], part)
            inp = ch.layer_inputs[layer]
            # layer 0's input gradient goes back to the caller (a new array); the others are scratch
            if layer > 0:
                dinp = self._buffer(ch, ("dinp", layer), inp.shape)
            else:                                          # (T, B, 0): the kernels skip dL/dx
                dinp = be.empty(inp.shape if input_grads else tuple(inp.shape[:2]) + (0,))
            dx_reverse = self._buffer(ch, ("dx_reverse", layer), dinp.shape) if D == 2 else None
            for d in range(D):
                k = layer * D + d
                W_ih, W_hh, _, _ = self._layer_views[layer, d]
                dW_ih, dW_hh, db_ih, db_hh = self._layer_params(layer, d, grads)
                self._backward_kernel(dx_reverse if d else dinp, dh0[k], dc0[k], dW_ih, dW_hh, db_ih, db_hh,
                                      dgates, dgates_h, douts[d], inp, ch.h0[k], ch.c0[k], W_ih, W_hh,
                                      ch.outs[layer][d], ch.auxs[layer][d], ch.gates[layer][d], bool(d))
            if D == 2 and dinp.size:
                be.iadd(dinp, dx_reverse)
            if ch.masks[layer] is not None:
                be.imul(dinp, ch.masks[layer])
            if layer > 0:
                douts = be.split(dinp, D)
        return dinp, dh0, dc0

    def _head_backward(self, ch: _Chunk, dy, grads) -> dict:
        """Head (and decoder) gradients into ``grads``; returns {layer: dL/d(last hidden state)}."""
        be = self.backend
        W, dW, db = self.view("head.W"), self.view("head.W", grads), self.view("head.b", grads)
        if self.head == "direct":                         # y = last W^T + b [+ vec(x_future) V^T]
            if ch.xf is not None:                         # dV = dy^T vec(x_future) (no bias: its slot is scratch)
                be.linear_backward(dy, ch.xf, self.view("head.V"), self.view("head.V", grads),
                                   be.empty((self.output_size,)))
            return {self.num_layers - 1: be.linear_backward(dy, ch.last, W, dW, db)}
        # seq2seq: the head's linear map on the (O*B, H) decoder outputs, then the decoder backwards
        top = ch.dec[-1][3]
        O, Bc, H = top.shape
        dout = be.linear_backward(be.transpose(dy).reshape(O * Bc, 1), top.reshape(O * Bc, H), W, dW, db)
        dout = dout.reshape(O, Bc, H)
        final = {}
        dgates = be.empty((O, Bc, self.spec.gates * H))
        dgates_h = be.empty(dgates.shape) if self.spec.separate_hidden_grads else dgates
        for layer in range(self.num_layers - 1, -1, -1):
            inp, h0, c0, out, aux, gate = ch.dec[layer]
            dx = be.empty(inp.shape)
            dh0, dc0 = be.empty((Bc, H)), be.empty((Bc, H))
            W_ih, W_hh, _, _ = self._decoder_views[layer]
            self._backward_kernel(dx, dh0, dc0, *self._layer_params(layer, "dec", grads), dgates, dgates_h,
                                  dout, inp, h0, c0, W_ih, W_hh, out, aux, gate, False)
            final[layer] = dh0                            # the decoder's start is the encoder's end
            dout = dx
        return final

    # ----------------------------------------------------------------------------------------------
    # loss and training
    @staticmethod
    def loss(y_pred: np.ndarray, y_true: np.ndarray, kind: str = "mse") -> tuple[float, np.ndarray]:
        """Mean loss over all elements and its gradient dL/dy_pred (host arrays).

        mse: mean((y_pred - y_true)^2); mae: mean(|y_pred - y_true|) (subgradient 0 at 0).
        """
        _check_loss(kind)
        if y_pred.shape != y_true.shape:
            raise ValueError(f"y has shape {y_true.shape}, expected {y_pred.shape}")
        return _HOST.loss(y_pred, y_true, kind)

    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer, loss: str = "mse",
                   clip_norm: float | None = None, h0=None, c0=None, x_future=None) -> float:
        """forward (with dropout) + loss + backward + optional clipping + ``optimizer.step``, all on the
        network's device. Returns the loss before the update."""
        _check_loss(loss)
        if not callable(getattr(optimizer, "step", None)):
            raise ValueError(f"optimizer must be an optimizer such as tsrnn.optim.Adam(), got {optimizer!r}")
        if clip_norm is not None and (isinstance(clip_norm, bool) or not float(clip_norm) > 0):
            raise ValueError(f"clip_norm must be a positive number or None, got {clip_norm!r}")
        x = self._check_x(x)
        y = self._check_y(y, x.shape[1])
        y_pred = self._forward(x, h0, c0, training=True, x_future=x_future)
        value, dy = self.backend.loss(y_pred, y, loss)
        self._backward(dy, input_grads=False)
        if clip_norm is not None:
            self.backend.clip_by_global_norm(self._grads, float(clip_norm))
        optimizer.step(self._params, self._grads, self.backend)
        return value

    # Inference runs in batches of at most this many samples: a pass keeps every step's activations,
    # (T, B, G*H) floats (an LSTM with 32 units over 36 steps: 75 MB at B = 4,096). Each sample's forward
    # is independent of the others in its batch; only its float32 rounding can differ by an ulp when it
    # lands in a row tile of another shape (the GEMM's one-row kernel sums in another order).
    PREDICT_BATCH = 2048

    def predict(self, x: np.ndarray, h0=None, c0=None, x_future=None) -> np.ndarray:
        """Inference (no dropout, activations freed afterwards); returns (B, O)."""
        B = x.shape[1]
        if B <= self.PREDICT_BATCH:
            y = self.forward(x, h0, c0, training=False, x_future=x_future)
            self._tape = []
            return y
        parts = []
        for a in range(0, B, self.PREDICT_BATCH):
            b = min(a + self.PREDICT_BATCH, B)
            part = x if (a, b) == (0, B) else x[:, a:b]
            states = [None if s is None else s[:, a:b] for s in (h0, c0, x_future)]
            parts.append(self.forward(part, states[0], states[1], training=False, x_future=states[2]))
            self._tape = []
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)

    def __getstate__(self):  # thread pools do not copy; a copy gets its own
        state = self.__dict__.copy()
        state["_pool"] = None
        state["_tape"] = []
        state["_workspace"] = {}
        state["_zero_bias"] = None
        for views in ("_views", "_layer_views", "_decoder_views"):
            state.pop(views, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._bind_views()


def parameter_count(cell: str, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1,
                    bidirectional: bool = False, head: str = "direct", future_size: int = 0) -> int:
    """Size of the flat parameter buffer of such a network, computed without allocating it.

    >>> parameter_count("lstm", 1, 32, 12)
    4876
    """
    D = 2 if bidirectional else 1
    total = 0
    for _, shape in param_shapes(get_spec(cell), input_size, hidden_size, output_size, num_layers, D, head,
                                 future_size):
        size = 1
        for n in shape:
            size *= int(n)
        total += size
    return total


def _check_loss(kind) -> None:
    if kind not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")
