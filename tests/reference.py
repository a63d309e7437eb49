"""Plain-NumPy float64 reference of the recurrent network, written straight from the equations in
the kernel docstrings (no shared code with tsrnn's kernels)."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cell_step(cell, x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    if cell == "rnn":
        return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh), c
    if cell == "gru":
        gi = x @ W_ih.T + b_ih
        gh = h @ W_hh.T + b_hh
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, c
    g = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, gg, o = sigmoid(g[:, :H]), sigmoid(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sigmoid(g[:, 3 * H:])
    c_new = f * c + i * gg
    return o * np.tanh(c_new), c_new


def network_forward(net, x, h0=None, c0=None, masks=None):
    """Forward of a tsrnn Network (its params read by name), x (T, B, I) -> (B, O).

    seq2seq head: a decoder of the same cell and depth runs O steps on one-hot step inputs, layer l
    starting from the encoder layer l's last hidden state (zero cell state), and a shared linear map
    reads output k from decoder step k."""
    T, B, _ = x.shape
    H, D, L = net.hidden_size, net.num_directions, net.num_layers
    h0 = np.zeros((L * D, B, H)) if h0 is None else h0
    c0 = np.zeros((L * D, B, H)) if c0 is None else c0
    inp = x.astype(np.float64)
    finals = []
    for layer in range(L):
        if masks is not None and masks[layer] is not None:
            inp = inp * masks[layer]
        outs = []
        for d in range(D):
            W = [net.view(f"l{layer}{'_reverse' if d else ''}.{k}").astype(np.float64)
                 for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
            h, c = h0[layer * D + d].astype(np.float64), c0[layer * D + d].astype(np.float64)
            out = np.zeros((T, B, H))
            steps = range(T - 1, -1, -1) if d else range(T)
            for t in steps:
                h, c = cell_step(net.cell, inp[t], h, c, *W)
                out[t] = h
            outs.append(out)
        finals.append(outs[0][T - 1])
        inp = np.concatenate(outs, axis=2)
    if net.head == "direct":
        return inp[T - 1] @ net.view("head.W").astype(np.float64).T + net.view("head.b")
    O = net.output_size
    dec_in = np.repeat(np.eye(O)[:, None, :], B, axis=1)
    for layer in range(L):
        W = [net.view(f"dec{layer}.{k}").astype(np.float64) for k in ("W_ih", "W_hh", "b_ih", "b_hh")]
        h, c = finals[layer], np.zeros((B, H))
        out = np.zeros((O, B, H))
        for k in range(O):
            h, c = cell_step(net.cell, dec_in[k], h, c, *W)
            out[k] = h
        dec_in = out
    return (dec_in @ net.view("head.W")[0].astype(np.float64)).T + net.view("head.b")[0]
