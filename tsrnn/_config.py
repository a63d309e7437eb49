"""Compile flags and the numba cache location, decided once at import.

Imports nothing from tsrnn. Kernels read these values at decoration time only (numba freezes globals
into compiled code, so nothing here may change afterwards).

Cache location: numba's ``cache=True`` writes next to the source file, which fails on a read-only
install (site-packages owned by root, a shared cluster, a container image). Before any kernel is
decorated we pick the first writable directory among

1. ``$NUMBA_CACHE_DIR`` if the user set it,
2. the package's own ``__pycache__`` (numba's default, nothing to set),
3. ``$XDG_CACHE_HOME/tsrnn/numba`` (``~/.cache/tsrnn/numba``),
4. ``<tempdir>/tsrnn-numba-<user>``,

and point ``NUMBA_CACHE_DIR`` at it when it is not numba's default. If none is writable, caching is
turned off (kernels compile in every process) instead of crashing.
"""
from __future__ import annotations

import getpass
import hashlib
import os
import tempfile
from pathlib import Path

# LLVM fast-math flags for the kernels: everything except "nnan"/"ninf", so that a diverging run still
# produces NaN/inf (and is caught) instead of undefined values. "afn" lets LLVM use approximate
# division/sqrt, "reassoc"/"contract" allow vectorised reductions and FMAs.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

_PACKAGE_DIR = Path(__file__).resolve().parent


def _is_writable_dir(path: Path) -> bool:
    """True if ``path`` exists or can be created and a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".tsrnn-probe-", delete=True)
        probe.close()
        return True
    except OSError:
        return False


def _user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def choose_cache_dir(environ: dict | None = None, package_dir: Path = _PACKAGE_DIR) -> tuple[str | None, bool]:
    """Return ``(cache_dir, enabled)``: the directory to give numba (None = numba's default, next to
    the sources) and whether caching can be used at all."""
    env = os.environ if environ is None else environ
    user_dir = env.get("NUMBA_CACHE_DIR")
    if user_dir and _is_writable_dir(Path(user_dir)):
        return user_dir, True
    if _is_writable_dir(package_dir / "__pycache__"):
        return None, True
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (Path(xdg) / "tsrnn" / "numba",
                      Path(tempfile.gettempdir()) / f"tsrnn-numba-{_user_name()}"):
        if _is_writable_dir(candidate):
            return str(candidate), True
    return None, False


CACHE_DIR, CACHE = choose_cache_dir()


def _apply_cache_dir(cache_dir: str | None) -> None:
    """Make numba use ``cache_dir`` (None: its default, next to the sources)."""
    import sys

    if cache_dir is None:
        os.environ.pop("NUMBA_CACHE_DIR", None)   # an unusable user setting must not reach numba
    else:
        os.environ["NUMBA_CACHE_DIR"] = cache_dir
    if "numba" in sys.modules:                    # numba read its config at import: update it too
        sys.modules["numba"].config.CACHE_DIR = cache_dir or ""


if os.environ.get("NUMBA_CACHE_DIR") != CACHE_DIR:
    _apply_cache_dir(CACHE_DIR)

_JIT = dict(cache=CACHE, nogil=True, error_model="numpy")
# ``JIT``: keyword arguments for every ``numba.njit`` function of tsrnn. ``error_model="numpy"``: division
# by zero gives inf/NaN instead of raising, which removes a branch per division and lets LLVM vectorise
# the gate loops (the rational tanh divides); with Python's error model none of them vectorise.
#
# ``from tsrnn._config import JIT`` is how every compiling module gets it, after importing numba: the
# first such import also hardens numba's cache (below), before anything compiles, while ``import tsrnn``
# itself still loads no numba.
_HARDENED = False


def harden_numba_cache() -> None:
    """Make numba's cache safe for several processes and damaged files.

    1. A damaged cache file means "not cached" (recompile, then overwrite it) instead of an error. numba
       0.6x unpickles its cache index and data files without a guard: a file truncated by a killed
       process, or corrupted on a shared filesystem, raised ``UnpicklingError`` in every later run.
    2. Each compiled overload gets a data file of its own, named by a hash of its key (signature, CPU,
       bytecode), written before the index names it. numba numbers the files instead: two processes
       that add different overloads of one function at once (Dask workers, pytest's CUDA-simulator
       processes on a fresh cache) both take "the next free number", and the index can end up pointing
       one signature at the other's machine code (a CI run on a fresh cache, most likely this: a
       simulated RNN that matched the CPU in every loss ended 0.014 apart in its weights). Now the
       worst a race does is drop an index entry, which costs one recompilation.

    ``tests/test_kernels_misc.py`` reproduces both. Wraps ``IndexDataCacheFile._load_index``, ``load`` and
    ``save``; does nothing if numba's internals are not the expected ones."""
    global _HARDENED
    if _HARDENED:
        return
    _HARDENED = True
    try:
        from numba.core.caching import IndexDataCacheFile
        load_index, load, save = IndexDataCacheFile._load_index, IndexDataCacheFile.load, IndexDataCacheFile.save
    except (ImportError, AttributeError):
        return

    def _load_index(self):
        try:
            return load_index(self)
        except Exception:  # noqa: BLE001 - a damaged index is an empty one; the next save rewrites it
            return {}

    def _load(self, key):
        try:
            return load(self, key)
        except Exception:  # noqa: BLE001 - a damaged data file: compile again
            return None

    def _save(self, key, data):
        index_name = getattr(self, "_index_name", "")
        if not index_name.endswith(".nbi"):           # not the internals we know: numba's own save
            return save(self, key, data)
        name = f"{index_name[:-4]}.{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.nbc"
        self._save_data(name, data)                   # atomic (a temporary file renamed into place)
        overloads = self._load_index()                # read as late as possible: fewer lost entries
        if overloads.get(key) != name:
            overloads[key] = name
            self._save_index(overloads)

    IndexDataCacheFile._load_index, IndexDataCacheFile.load, IndexDataCacheFile.save = _load_index, _load, _save


def __getattr__(name: str):
    if name == "JIT":
        harden_numba_cache()
        return _JIT
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
