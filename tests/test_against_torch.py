"""Optional: same weights in torch.nn.RNN/GRU/LSTM give the same outputs and gradients (float32).
Skipped when torch is not installed (it is only a benchmark extra: pip install -e .[bench])."""
import itertools

import numpy as np
import pytest

from tsrnn.network import Network

torch = pytest.importorskip("torch")


def to_torch(net):
    cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[net.cell]
    rnn = cls(net.input_size, net.hidden_size, num_layers=net.num_layers, bidirectional=net.bidirectional)
    head = torch.nn.Linear(net.hidden_size * net.num_directions, net.output_size)
    with torch.no_grad():
        for name, p in rnn.named_parameters():          # e.g. weight_ih_l1_reverse
            kind, which, layer = name.split("_")[:3]
            key = ("W_" if kind == "weight" else "b_") + which
            p.copy_(torch.from_numpy(net.view(f"{layer}{'_reverse' if name.endswith('reverse') else ''}.{key}")))
        head.weight.copy_(torch.from_numpy(net.view("head.W")))
        head.bias.copy_(torch.from_numpy(net.view("head.b")))
    return rnn, head


def close(a, b, tol=1e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() <= tol * max(1.0, np.abs(b).max())


@pytest.mark.parametrize("cell,layers,bidirectional", list(itertools.product(["rnn", "gru", "lstm"], [1, 2], [False, True])))
def test_outputs_and_gradients_match_torch(cell, layers, bidirectional):
    torch.manual_seed(0)
    T, B, I, H, O = 24, 16, 3, 32, 4
    net = Network(cell, I, H, O, num_layers=layers, bidirectional=bidirectional, seed=1)
    rnn, head = to_torch(net)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(T, B, I)).astype(np.float32)
    h0 = (rng.normal(size=(layers * net.num_directions, B, H)) * 0.5).astype(np.float32)
    c0 = (rng.normal(size=h0.shape) * 0.5).astype(np.float32)
    dy = rng.normal(size=(B, O)).astype(np.float32)

    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0).requires_grad_()
    c0t = torch.from_numpy(c0).requires_grad_()
    out, _ = rnn(xt, (h0t, c0t) if cell == "lstm" else h0t)
    yt = head(out[-1])
    (yt * torch.from_numpy(dy)).sum().backward()

    y = net.forward(x, h0, c0 if cell == "lstm" else None)
    grads = net.backward(dy)
    assert close(y, yt.detach().numpy())
    assert close(grads["x"], xt.grad.numpy())
    assert close(grads["h0"], h0t.grad.numpy())
    if cell == "lstm":
        assert close(grads["c0"], c0t.grad.numpy())
    for name, p in rnn.named_parameters():
        kind, which, layer = name.split("_")[:3]
        key = ("W_" if kind == "weight" else "b_") + which
        ours = net.view(f"{layer}{'_reverse' if name.endswith('reverse') else ''}.{key}", net.grads)
        assert close(ours, p.grad.numpy()), name
    assert close(net.view("head.W", net.grads), head.weight.grad.numpy())
    assert close(net.view("head.b", net.grads), head.bias.grad.numpy())
