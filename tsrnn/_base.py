"""scikit-learn's estimator contract without importing scikit-learn (it costs ~0.7 s at import):
``get_params``/``set_params`` read the ``__init__`` signature, so ``sklearn.base.clone`` works."""
from __future__ import annotations

import inspect


__all__ = ["NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """Raised when predict (or save) is called before fit. Subclasses ValueError and AttributeError
    like scikit-learn's exception of the same name.

    Example
    -------
    >>> import tsrnn
    >>> try:
    ...     tsrnn.Forecaster().predict(3)
    ... except tsrnn.NotFittedError as exc:
    ...     print(type(exc).__name__)
    NotFittedError
    """


class BaseEstimator:
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) is not v
                   and not (isinstance(v, (int, float, str)) and defaults.get(k) == v)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_is_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")
