"""The cell registry: what each recurrent cell looks like from outside (gate count and order, states,
weight shapes, per-cell flags) and where its kernels live on each backend.

Pure Python, shared by the CPU and CUDA backends; importing it compiles nothing. Weight layout per layer
and direction is PyTorch's (``weight_ih_l{k}[_reverse]`` etc.), so weights can be copied to and from
``torch.nn.RNN/GRU/LSTM``:

    W_ih (G*H, I_l)   W_hh (G*H, H)   b_ih (G*H,)   b_hh (G*H,)

with I_0 = input_size, I_l = H * num_directions for l > 0, and the G gate blocks stacked in the row
order given by ``gate_names``.

Adding a cell (docs/architecture.md has the checklist): a ``CellSpec`` entry in ``CELLS`` below, and
``<name>_forward``/``<name>_backward`` in ``cpu/<name>.py`` and ``cuda/<name>.py`` with the common
signature. Nothing outside ``tsrnn/kernels`` names a cell.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["CellSpec", "CELLS", "SPECS", "get_spec", "cell_kernels"]


@dataclass(frozen=True)
class CellSpec:
    name: str
    gate_names: tuple[str, ...]
    has_cell_state: bool                 # LSTM: c_t next to h_t (c0 is an input, dc0 an output)
    separate_hidden_grads: bool = False  # GRU: the hidden side's pre-activation gradients differ from the
    #                                      input side's (r multiplies W_hn h + b_hn), so backward needs a
    #                                      second (T, B, G*H) buffer

    @property
    def gates(self) -> int:
        return len(self.gate_names)

    def param_shapes(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        gh = self.gates * hidden_size
        return {"W_ih": (gh, input_size), "W_hh": (gh, hidden_size), "b_ih": (gh,), "b_hh": (gh,)}


# name: (spec, CPU kernel module, CUDA kernel module); each module defines <name>_forward, <name>_backward
CELLS: dict[str, tuple[CellSpec, str, str]] = {
    "lstm": (CellSpec("lstm", ("i", "f", "g", "o"), has_cell_state=True), "tsrnn.kernels.cpu.lstm",
             "tsrnn.kernels.cuda.lstm"),
    "gru": (CellSpec("gru", ("r", "z", "n"), has_cell_state=False, separate_hidden_grads=True),
            "tsrnn.kernels.cpu.gru", "tsrnn.kernels.cuda.gru"),
    "rnn": (CellSpec("rnn", ("h",), has_cell_state=False), "tsrnn.kernels.cpu.rnn", "tsrnn.kernels.cuda.rnn"),
}
SPECS = {name: entry[0] for name, entry in CELLS.items()}


def get_spec(cell: str) -> CellSpec:
    try:
        return SPECS[cell]
    except (KeyError, TypeError):
        raise ValueError(f"cell must be one of {sorted(SPECS)}, got {cell!r}") from None


def cell_kernels(cell: str, backend: str = "cpu"):
    """(forward, backward) of ``cell`` on ``backend`` ("cpu": numba.njit kernels; "cuda": host launchers
    of numba.cuda kernels). Imports the module on first use."""
    spec = get_spec(cell)
    _, cpu_module, cuda_module = CELLS[cell]
    module = importlib.import_module({"cpu": cpu_module, "cuda": cuda_module}[backend])
    return getattr(module, f"{spec.name}_forward"), getattr(module, f"{spec.name}_backward")
