"""Activations, optimizers, argument checks, training and the numba cache fallback."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from tsrnn._config import choose_cache_dir
from tsrnn.kernels.cpu.activations import sigmoid, tanh
from tsrnn.kernels.cpu.optim import clip_by_global_norm
from tsrnn.network import Network
from tsrnn.optim import SGD, Adam


@njit
def _apply(x, out_t, out_s):
    for k in range(x.shape[0]):
        out_t[k] = tanh(x[k])
        out_s[k] = sigmoid(x[k])


def test_float32_rational_tanh_error_is_bounded():
    x = np.concatenate([np.linspace(-20, 20, 400001), [0.0, 1e-30, -1e-30, 88.0, -88.0]]).astype(np.float32)
    t, s = np.empty_like(x), np.empty_like(x)
    _apply(x, t, s)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(t - exact).max() < 5e-7
    assert np.abs(s - 1 / (1 + np.exp(-x.astype(np.float64)))).max() < 5e-7
    assert np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))


def test_float64_activations_are_exact():
    x = np.linspace(-40, 40, 1001)
    t, s = np.empty_like(x), np.empty_like(x)
    _apply(x, t, s)
    np.testing.assert_allclose(t, np.tanh(x), rtol=0, atol=1e-15)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-15, atol=1e-300)


def test_adam_matches_the_textbook_update():
    rng = np.random.default_rng(0)
    p = rng.normal(size=10)
    ref = p.copy()
    m = np.zeros(10)
    v = np.zeros(10)
    opt = Adam(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    for t in range(1, 4):
        g = rng.normal(size=10)
        opt.step(p, g)
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        ref -= 0.01 * ((m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-6) + 0.1 * ref)
    np.testing.assert_allclose(p, ref, rtol=1e-12)


def test_sgd_momentum_and_clipping():
    p = np.zeros(2)
    opt = SGD(lr=0.1, momentum=0.5)
    opt.step(p, np.array([1.0, 2.0]))
    opt.step(p, np.array([1.0, 2.0]))
    np.testing.assert_allclose(p, [-0.25, -0.5])
    g = np.array([3.0, 4.0])
    assert clip_by_global_norm(g, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(g, [0.6, 0.8])
    g = np.array([0.3, 0.4])
    clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(g, [0.3, 0.4])


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_training_fits_a_sine(cell):
    """End to end: the network learns to continue a sine wave from 12 lags."""
    t = np.arange(400, dtype=np.float32)
    series = np.sin(2 * np.pi * t / 12)
    idx = np.arange(300)[:, None] + np.arange(13)
    windows = series[idx]                                  # (300, 13)
    x = np.ascontiguousarray(windows[:, :12].T[:, :, None])  # (12, 300, 1)
    y = windows[:, 12:]
    net = Network(cell, 1, 16, 1, seed=0)
    opt = Adam(lr=0.01)
    first = net.train_step(x, y, opt)
    for _ in range(300):
        last = net.train_step(x, y, opt)
    assert last < 0.01 * first and last < 5e-3


@pytest.mark.parametrize("kwargs,match", [
    (dict(cell="transformer"), "cell"),
    (dict(hidden_size=0), "hidden_size"),
    (dict(num_layers=1.5), "num_layers"),
    (dict(dropout=1.0), "dropout"),
    (dict(dtype="int32"), "dtype"),
    (dict(bidirectional="yes"), "bidirectional"),
])
def test_bad_network_arguments(kwargs, match):
    args = dict(cell="lstm", input_size=1, hidden_size=4, output_size=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Network(**args)


def test_bad_arrays_are_rejected_before_any_kernel_runs():
    net = Network("lstm", 2, 4, 1)
    good = np.zeros((5, 3, 2), np.float32)
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        net.forward(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="x must have dtype float32"):
        net.forward(good.astype(np.float64))
    with pytest.raises(ValueError, match=r"x has shape \(5, 3, 1\)"):
        net.forward(np.zeros((5, 3, 1), np.float32))
    bad = good.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"x contains non-finite values \(first at index \(2, 1, 0\)\)"):
        net.forward(bad)
    with pytest.raises(ValueError, match="h0 has shape"):
        net.forward(good, h0=np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="x must be a numpy array"):
        net.forward([[[0.0, 0.0]]])
    with pytest.raises(ValueError, match=r"y has shape \(3, 2\)"):
        net.train_step(good, np.zeros((3, 2), np.float32), Adam())
    with pytest.raises(ValueError, match="y contains non-finite"):
        net.train_step(good, np.full((3, 1), np.inf, np.float32), Adam())
    with pytest.raises(RuntimeError, match="forward"):
        Network("gru", 2, 4, 1).backward(np.zeros((3, 1), np.float32))


def test_cache_dir_falls_back_when_nothing_default_is_writable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")                      # a path *under a file* cannot be created, even by root
    env = {"NUMBA_CACHE_DIR": str(blocker / "sub"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cache_dir, enabled = choose_cache_dir(env, package_dir=blocker / "pkg")
    assert enabled and cache_dir == str(tmp_path / "xdg" / "tsrnn" / "numba")
    assert choose_cache_dir({}, package_dir=tmp_path) == (None, True)   # writable install: numba's default


def test_unwritable_cache_dir_does_not_crash_a_training_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = ("import numpy as np; from tsrnn.network import Network; from tsrnn.optim import Adam;"
            "n = Network('gru', 1, 4, 1, seed=0);"
            "print(n.train_step(np.zeros((3, 2, 1), np.float32), np.ones((2, 1), np.float32), Adam()))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(blocker / "numba"), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert float(res.stdout) > 0


def test_import_is_light():
    """``import tsrnn`` must not load numba, pandas, statsmodels or torch (they cost seconds)."""
    code = "import sys, tsrnn; print(sorted(m for m in ('numba', 'pandas', 'statsmodels', 'torch', 'scipy') if m in sys.modules))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).parent)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


_FIT = ("import numpy as np, pandas as pd\nfrom tsrnn import Forecaster\n"
        "y = pd.Series(50 + 10 * np.sin(np.arange(80) / 2), index=pd.date_range('2000-01', periods=80, freq='MS'))\n"
        "f = Forecaster(hidden_size=4, max_epochs=2, ensemble_size=1, season_length=12, horizon=6, random_state=0, "
        "progress=False, n_threads=1).fit(y).predict(6)\n")


def test_nowhere_to_cache_means_no_function_tries_to(tmp_path):
    """A read-only install with no writable cache anywhere (simulated: every probe file fails): the
    Forecaster still fits, and none of tsrnn's compiled functions (kernels, store, preprocessing) is set
    to cache (numba would raise 'cannot cache function' for one that is)."""
    code = ("import tempfile\n"
            "def refuse(*a, **k): raise PermissionError('read-only')\n"
            "tempfile.NamedTemporaryFile = refuse\n"
            "import tsrnn._config as c; assert c.CACHE is False and c.CACHE_DIR is None\n"
            + _FIT +
            "import tsrnn.store, tsrnn.preprocessing, tsrnn.kernels.cpu.lstm as k\n"
            "fns = [getattr(m, n) for m in (tsrnn.store, tsrnn.preprocessing, k) for n in dir(m)"
            " if hasattr(getattr(m, n), '_cache')]\n"
            "print(len(fns), sorted({type(f._cache).__name__ for f in fns}), float(f.iloc[0]))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    count, kinds, value = res.stdout.split(" ", 1)[0], res.stdout.split("[")[1].split("]")[0], res.stdout.split()[-1]
    assert int(count) >= 8 and kinds == "'NullCache'" and np.isfinite(float(value))


def test_overloads_saved_from_a_stale_index_keep_their_own_data_files(tmp_path):
    """Two processes that read a function's cache index before either wrote it, then each add another
    overload: numba numbered both data files 1, one overwrote the other, and the index could send a
    signature to the other's machine code. With tsrnn's hardened cache each key has its own file."""
    import tsrnn._config as config
    from numba.core.caching import IndexDataCacheFile

    config.harden_numba_cache()
    first, second = (IndexDataCacheFile(str(tmp_path), "fn-1.py311", ("stamp", 1)) for _ in range(2))
    first.save(("sig_a", "cpu"), {"code": "a"})
    stale = second._load_index
    second._load_index = lambda: {}             # it read the index before the first save landed
    second.save(("sig_b", "cpu"), {"code": "b"})
    second._load_index = stale
    assert len(list(tmp_path.glob("fn-1.py311.*.nbc"))) == 2
    fresh = IndexDataCacheFile(str(tmp_path), "fn-1.py311", ("stamp", 1))
    assert fresh.load(("sig_b", "cpu")) == {"code": "b"}
    assert fresh.load(("sig_a", "cpu")) in (None, {"code": "a"})   # dropped from the index at worst
    first.save(("sig_a", "cpu"), {"code": "a"})          # a later run adds it back, beside b
    assert fresh.load(("sig_a", "cpu")) == {"code": "a"} and fresh.load(("sig_b", "cpu")) == {"code": "b"}


def test_two_processes_compiling_into_one_cache_at_once_and_a_corrupted_cache(tmp_path):
    """The numba cache under stress: two processes fill an empty cache directory at the same time, then
    every cache file is corrupted; each run works (at worst recompiling) and gives the same forecast."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    code = _FIT + "print(repr(f.to_numpy().tolist()))"
    runs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in runs]
    assert all(p.returncode == 0 for p in runs), outs[0][1][-3000:] + outs[1][1][-3000:]
    assert outs[0][0] == outs[1][0]
    files = [p for p in (tmp_path / "cache").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert files
    for p in files:
        p.write_bytes(b"\x00garbage" * 7)
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout == outs[0][0]
