"""Every public function and class has a docstring with an example, and every example runs."""
import doctest
import importlib
import inspect

import pytest

# the modules users call (the API reference of the docs site); tsrnn.data, the validation layer under
# them, is internal, its examples run all the same
PUBLIC = ["tsrnn", "tsrnn.forecaster", "tsrnn.backtesting", "tsrnn.baselines", "tsrnn.pipeline", "tsrnn.metrics",
          "tsrnn.network", "tsrnn.optim", "tsrnn.datasets", "tsrnn.plot", "tsrnn.cluster", "tsrnn.sktime",
          "tsrnn.intervals", "tsrnn._base"]


def _public_objects():
    for name in PUBLIC:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


def test_every_public_function_and_class_has_an_example():
    missing = sorted({label for label, obj in _public_objects() if ">>>" not in (inspect.getdoc(obj) or "")})
    assert not missing, f"no example in the docstring of {missing}"


def test_every_public_method_has_a_docstring():
    bare = []
    for label, obj in _public_objects():
        if inspect.isclass(obj) and obj.__module__.startswith("tsrnn"):
            for key, value in vars(obj).items():
                func = getattr(value, "__func__", value)
                if not key.startswith("_") and inspect.isfunction(func) and not inspect.getdoc(func):
                    bare.append(f"{label}.{key}")
    assert not bare, f"public methods without a docstring: {bare}"


@pytest.mark.parametrize("name", [m for m in PUBLIC if m != "tsrnn"] + ["tsrnn.data", "tsrnn.covariates"])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)                     # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"
