"""CUDA kernels without a GPU: numba's simulator against the CPU kernels (tiny shapes, in a subprocess
because the simulator must be switched on before numba is imported), and PTX for real GPUs
(``numba.cuda.compile_ptx`` for compute capability 8.0 and 9.0, assembled with ``ptxas`` when present)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


NETWORKS = ["lstm", "gru", "rnn", "gru:seq2seq", "lstm:direct:future", "gru:seq2seq:future"]
_RUNS: dict = {}


def _start(what: str) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    return subprocess.Popen([sys.executable, str(HERE / "cuda" / "sim_check.py"), what], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def simulate(what: str) -> dict:
    """The simulator's report for ``what``. The simulations are single-threaded Python and take most of
    a minute each, so the first call starts all of them at once (one process each, all cores busy) and
    later calls only wait for theirs: the same checks in about half the wall time on 2 cores."""
    if not _RUNS:
        _RUNS.update({w: _start(w) for w in ["kernels", *NETWORKS]})
    out, err = _RUNS[what].communicate(timeout=900)
    assert _RUNS[what].returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module", autouse=True)
def _no_orphans():
    yield
    for proc in _RUNS.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_simulated_kernels_match_the_cpu_kernels():
    report = simulate("kernels")
    assert set(report) == {f"{c}{r}" for c in ("lstm", "gru", "rnn") for r in ("", "_reverse")}
    for name, (fwd, bwd) in report.items():
        assert fwd <= 1e-5 and bwd <= 1e-5, (name, fwd, bwd)


@pytest.mark.parametrize("what", NETWORKS)
def test_simulated_network_trains_like_the_cpu_network(what):
    """One Network class on both backends. 2 layers, bidirectional (seq2seq: unidirectional), dropout
    (same seeded masks), Adam with clipping: same start, losses, weights and forecasts; the same API:
    forward with initial states, backward returning the input gradients; the Adam state on the device."""
    report = simulate(what)
    assert report["same_start"] == 0.0
    assert report["network_loss"] <= 1e-5
    assert report["network_params"] <= 1e-5
    assert report["network_predict"] <= 1e-5
    assert report["optimizer_state_on_device"]
    assert report["forward_with_states"] <= 1e-5 and report["backward_params"] <= 1e-5
    assert report["backward_keys_match"] and max(report["backward_inputs"].values()) <= 1e-5


def _kernels_and_signatures():
    from tsrnn.kernels.cuda import backend, gemm, gru, lstm, optim, recurrent, rnn

    a1, a2, a3 = "float32[::1]", "float32[:, ::1]", "float32[:, :, ::1]"
    f, b = "float32", "boolean"
    return {
        "gemm": (gemm.gemm_kernel, f"void({a2}, {a2}, {a2}, {b}, {b}, {b})"),
        "transpose": (gemm.transpose_kernel, f"void({a2}, {a2})"),
        "add_bias": (recurrent.add_bias_kernel, f"void({a2}, {a1}, {a1}, {b})"),
        "colsum": (recurrent.colsum_kernel, f"void({a2}, {a1})"),
        "shift": (recurrent.shift_kernel, f"void({a3}, {a2}, {a3}, {b})"),
        "fill": (backend.fill_kernel, f"void({a1}, {f})"),
        "mul": (backend.mul_kernel, f"void({a1}, {a1}, {a1})"),
        "add": (backend.add_kernel, f"void({a1}, {a1})"),
        "concat": (backend.concat_kernel, f"void({a2}, {a2}, {a2})"),
        "split": (backend.split_kernel, f"void({a2}, {a2}, {a2})"),
        "loss": (backend.loss_kernel, f"void({a1}, {a1}, {a1}, {a1}, int64)"),
        "sumsq": (optim.sumsq_kernel, f"void({a1}, {a1})"),
        "scale": (optim.scale_kernel, f"void({a1}, {f})"),
        "adam": (optim.adam_kernel, f"void({a1}, {a1}, {a1}, {a1}, {f}, {f}, {f}, {f}, {f}, {f}, {f})"),
        "sgd": (optim.sgd_kernel, f"void({a1}, {a1}, {a1}, {f}, {f}, {f})"),
        "lstm_forward": (lstm.lstm_forward_kernel, f"void({a3}, {a3}, {a3}, {a2}, {a2}, {a2}, {b})"),
        "lstm_backward": (lstm.lstm_backward_kernel, f"void({a3}, {a2}, {a2}, {a3}, {a3}, {a3}, {a2}, {a2}, {b})"),
        "gru_forward": (gru.gru_forward_kernel, f"void({a3}, {a3}, {a3}, {a2}, {a2}, {a1}, {b})"),
        "gru_backward": (gru.gru_backward_kernel, f"void({a3}, {a3}, {a2}, {a3}, {a3}, {a3}, {a2}, {a3}, {a2}, {b})"),
        "rnn_forward": (rnn.rnn_forward_kernel, f"void({a3}, {a3}, {a2}, {a2}, {b})"),
        "rnn_backward": (rnn.rnn_backward_kernel, f"void({a3}, {a2}, {a3}, {a3}, {a2}, {b})"),
    }


@pytest.mark.parametrize("cc", [(8, 0), (9, 0)])
def test_every_kernel_compiles_to_ptx_for_real_gpus(cc, tmp_path):
    cuda = pytest.importorskip("numba.cuda")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("PTX generation needs the real CUDA target, not the simulator")
    kernels = _kernels_and_signatures()
    ptxas = shutil.which("ptxas")
    for name, (kernel, sig) in kernels.items():
        ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc, fastmath=True)
        assert f".target sm_{cc[0]}{cc[1]}" in ptx and ".entry" in ptx, name
        if ptxas:
            src = tmp_path / f"{name}.ptx"
            src.write_text(ptx)
            res = subprocess.run([ptxas, f"-arch=sm_{cc[0]}{cc[1]}", str(src), "-o", str(tmp_path / f"{name}.cubin")],
                                 capture_output=True, text=True)
            assert res.returncode == 0, (name, res.stderr)


def test_device_auto_uses_the_cpu_and_cuda_fails_clearly_without_a_gpu():
    from tsrnn import Forecaster
    from tsrnn.kernels.cuda import is_available

    y = 10 + np.sin(np.arange(40) / 3)
    model = Forecaster(hidden_size=4, max_epochs=2, device="auto", progress=False, random_state=0).fit(y)
    assert model.device_ == ("cuda" if is_available() else "cpu")
    if not is_available():
        with pytest.raises(RuntimeError, match="device='cuda' was requested but no CUDA GPU"):
            Forecaster(device="cuda", progress=False).fit(y)


def test_import_tsrnn_does_not_import_cuda():
    code = "import sys, tsrnn; from tsrnn import Forecaster, network; print('numba.cuda' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "False", res.stderr
