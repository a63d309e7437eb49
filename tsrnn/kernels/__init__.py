"""Recurrent kernels. ``spec`` describes the cells; ``cpu`` holds the numba.njit kernels; ``cuda`` (an
optional extra) the numba.cuda ones. Importing this package compiles nothing."""
from .spec import SPECS, CellSpec, get_spec

__all__ = ["SPECS", "CellSpec", "get_spec", "cpu_kernels"]


def cpu_kernels(cell: str):
    """(forward, backward) njit kernels of ``cell`` ("rnn", "gru" or "lstm")."""
    get_spec(cell)
    if cell == "lstm":
        from .cpu.lstm import lstm_backward, lstm_forward
        return lstm_forward, lstm_backward
    if cell == "gru":
        from .cpu.gru import gru_backward, gru_forward
        return gru_forward, gru_backward
    from .cpu.rnn import rnn_backward, rnn_forward
    return rnn_forward, rnn_backward
