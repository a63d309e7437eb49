"""Forward against the NumPy reference and BPTT against central finite differences (float64)."""
import itertools

import numpy as np
import pytest

from reference import network_forward
from tsrnn.network import Network

CASES = [(c, n, bi, p, "direct") for c, n, bi, p in itertools.product(["rnn", "gru", "lstm"], [1, 2], [False, True],
                                                                       [0.0, 0.3])]
CASES += [(c, n, False, p, "seq2seq") for c, n, p in itertools.product(["rnn", "gru", "lstm"], [1, 2], [0.0, 0.3])]
# More than SMALL_INPUT (8) input features take the kernels' other input path (one packed product over
# all steps instead of the per-step loop), in the first layer and, bidirectional, in the second.
CASES += [(c, 2, True, 0.0, "direct", 10) for c in ["rnn", "gru", "lstm"]]
T, B, I, H, O = 4, 3, 2, 3, 2


def make(cell, layers, bidirectional, dropout, dtype="float64", seed=0, head="direct", input_size=I, future_size=0):
    hidden = H if input_size == I else 5                 # wide inputs: 2H = 10 features into layer 2
    return Network(cell, input_size, hidden, O, num_layers=layers, bidirectional=bidirectional,
                   dropout=dropout, dtype=dtype, seed=seed, head=head, future_size=future_size)


def inputs(net, rng):
    x = rng.normal(size=(T, B, net.input_size))
    shape = (net.num_layers * net.num_directions, B, net.hidden_size)
    h0 = rng.normal(size=shape) * 0.5
    c0 = rng.normal(size=shape) * 0.5 if net.cell == "lstm" else None
    return x, h0, c0


def test_a_wrong_gradient_is_reported_by_tensor_name(monkeypatch):
    """The per-tensor check names the tensor: corrupt one (the head's bias) and see it named alone."""
    net = make("gru", 2, True, 0.0)
    offset, shape = net.layout["head.b"]
    original = Network._backward

    def corrupt(self, dy, input_grads):
        out = original(self, dy, input_grads)
        self._grads[offset] += 1.0
        return out
    monkeypatch.setattr(Network, "_backward", corrupt)
    with pytest.raises(AssertionError, match=r"relative error per tensor: \{'head\.b': '"):
        _check_gradients(("gru", 2, True, 0.0, "direct"))


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


def case_id(case):
    return "-".join(str(v) for v in case)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_matches_numpy_reference(case):
    cell, layers, bidirectional, dropout, head, *wide = case
    net = make(cell, layers, bidirectional, dropout, head=head, input_size=(wide or [I])[0])
    rng = np.random.default_rng(1)
    x, h0, c0 = inputs(net, rng)
    net.rng = np.random.default_rng(7)
    y = net.forward(x, h0, c0, training=True)
    net.rng = np.random.default_rng(7)
    masks = net._draw_masks(T, B)
    expected = network_forward(net, x, h0, c0, masks)
    assert np.abs(y - expected).max() <= 1e-10


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_match_finite_differences(case):
    _check_gradients(case)


# Future inputs of the horizon (x_future): the direct head's projection head.V, the seq2seq decoder's inputs
FUTURE_CASES = [(c, 2, bi, 0.0, head) for c in ["rnn", "gru", "lstm"]
                for bi, head in ((False, "direct"), (True, "direct"), (False, "seq2seq"))]


@pytest.mark.parametrize("case", FUTURE_CASES, ids=case_id)
def test_gradients_with_future_inputs_match_finite_differences(case):
    _check_gradients(case, future_size=2)


def _check_gradients(case, future_size=0):
    cell, layers, bidirectional, dropout, head, *wide = case
    net = make(cell, layers, bidirectional, dropout, head=head, input_size=(wide or [I])[0], future_size=future_size)
    rng = np.random.default_rng(2)
    x, h0, c0 = inputs(net, rng)
    xf = rng.normal(size=(O, B, future_size)) if future_size else None
    weights = rng.normal(size=(B, O))           # L = sum(weights * y): dL/dy = weights

    def loss():
        net.rng = np.random.default_rng(11)     # the same dropout masks on every evaluation
        return float(np.sum(weights * net.forward(x, h0, c0, training=True, x_future=xf)))

    loss()
    got = net.backward(weights)
    analytic = {"params": net.grads.copy(), "x": got["x"], "h0": got["h0"]}
    variables = {"params": net.params, "x": x, "h0": h0}
    if cell == "lstm":
        analytic["c0"] = got["c0"]
        variables["c0"] = c0
    eps = 1e-6
    for name, var in variables.items():
        numeric = np.zeros(var.size)
        flat = var.reshape(-1)
        for k in range(var.size):
            old = flat[k]
            flat[k] = old + eps
            up = loss()
            flat[k] = old - eps
            down = loss()
            flat[k] = old
            numeric[k] = (up - down) / (2 * eps)
        if name != "params":
            err = rel_err(analytic[name].reshape(-1), numeric)
            assert err <= 1e-6, f"{name}: relative error {err:.2e}"
            continue
        failed = {}                             # every named tensor of the layout on its own
        for tensor, (offset, shape) in net.layout.items():
            size = int(np.prod(shape))
            a, n = analytic["params"][offset:offset + size], numeric[offset:offset + size]
            err = np.linalg.norm(a - n) / max(np.linalg.norm(n), 1e-7)
            if err > 1e-6:
                failed[tensor] = f"{err:.2e}"
        assert not failed, f"relative error per tensor: {failed}"


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_float32_stays_within_1e5_of_float64(cell):
    net64 = make(cell, 2, True, 0.0, dtype="float64", seed=3)
    net32 = make(cell, 2, True, 0.0, dtype="float32", seed=3)
    net32.params[:] = net64.params.astype(np.float32)
    net64.params[:] = net32.params.astype(np.float64)    # identical (float32-representable) weights
    rng = np.random.default_rng(4)
    x = rng.normal(size=(24, 16, I))
    y64 = net64.forward(x)
    y32 = net32.forward(x.astype(np.float32))
    assert np.abs(y32 - y64).max() <= 1e-5
    dy = rng.normal(size=y64.shape)
    net64.backward(dy)
    net32.backward(dy.astype(np.float32))
    assert np.abs(net32.grads - net64.grads).max() <= 1e-5 * max(1.0, np.abs(net64.grads).max())


def test_two_threads_give_the_same_gradients_as_one():
    """Two threads (two batch chunks) give the same gradients as one, up to summation order; a pass too
    small to split, or a batch too small to give each chunk a row tile, runs as one chunk."""
    rng = np.random.default_rng(5)
    for T, B, chunks in ((64, 72, 2), (3, 48, 1), (64, 12, 1)):
        x = rng.normal(size=(T, B, I)).astype(np.float32)
        dy = rng.normal(size=(B, O)).astype(np.float32)
        one = Network("lstm", I, 32, O, num_layers=2, bidirectional=True, seed=6)
        two = Network("lstm", I, 32, O, num_layers=2, bidirectional=True, seed=6, n_threads=2)
        assert two._plan(T, B) == chunks
        for net in (one, two):
            net.forward(x, training=True)
            net.backward(dy)
        assert len(two._tape) == chunks
        np.testing.assert_allclose(one.grads, two.grads, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_predict_in_batches_equals_one_pass(cell, monkeypatch):
    """Inference runs PREDICT_BATCH samples at a time (bounded activations); each sample's forward is
    independent of its batch, so the result is the same up to float32 rounding (a lone row takes the
    GEMM's one-row kernel), initial states included."""
    net = Network(cell, I, 8, O, num_layers=2, bidirectional=True, seed=0)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(5, 7, I)).astype(np.float32)
    h0 = rng.normal(size=(4, 7, 8)).astype(np.float32)
    whole = net.forward(x, h0, h0 if cell == "lstm" else None)
    monkeypatch.setattr(Network, "PREDICT_BATCH", 3)
    np.testing.assert_allclose(net.predict(x, h0, h0 if cell == "lstm" else None), whole, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("head", ["direct", "seq2seq"])
def test_a_pickled_or_copied_network_keeps_training_its_own_weights(head):
    """Views into the flat buffer are rebuilt after unpickling: a copy trains exactly like the original."""
    import copy
    import pickle

    from tsrnn.optim import Adam

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(T, B, I)).astype(np.float32), rng.normal(size=(B, O)).astype(np.float32)
    nets = [make("lstm", 2, False, 0.0, dtype="float32", head=head)]
    nets += [pickle.loads(pickle.dumps(nets[0])), copy.deepcopy(nets[0])]
    opts = [Adam(lr=0.05) for _ in nets]
    for _ in range(3):
        losses = [net.train_step(x, y, opt) for net, opt in zip(nets, opts)]
        assert losses[0] == losses[1] == losses[2]
    assert losses[0] < nets[0].loss(np.zeros_like(y), y)[0] * 10
    np.testing.assert_array_equal(nets[0].predict(x), nets[1].predict(x))
