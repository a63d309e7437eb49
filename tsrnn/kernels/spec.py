"""What each recurrent cell looks like from outside: gate count and order, states, weight shapes.

Pure Python, shared by the CPU and CUDA backends. Weight layout per layer and direction is PyTorch's
(``weight_ih_l{k}[_reverse]`` etc.), so weights can be copied to and from ``torch.nn.RNN/GRU/LSTM``:

    W_ih (G*H, I_l)   W_hh (G*H, H)   b_ih (G*H,)   b_hh (G*H,)

with I_0 = input_size, I_l = H * num_directions for l > 0, and the G gate blocks stacked in the row
order given by ``gate_names``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellSpec:
    name: str
    gate_names: tuple[str, ...]
    has_cell_state: bool

    @property
    def gates(self) -> int:
        return len(self.gate_names)

    def param_shapes(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        gh = self.gates * hidden_size
        return {"W_ih": (gh, input_size), "W_hh": (gh, hidden_size), "b_ih": (gh,), "b_hh": (gh,)}


SPECS = {
    "rnn": CellSpec("rnn", ("h",), has_cell_state=False),
    "gru": CellSpec("gru", ("r", "z", "n"), has_cell_state=False),
    "lstm": CellSpec("lstm", ("i", "f", "g", "o"), has_cell_state=True),
}


def get_spec(cell: str) -> CellSpec:
    try:
        return SPECS[cell]
    except (KeyError, TypeError):
        raise ValueError(f"cell must be one of {sorted(SPECS)}, got {cell!r}") from None
