"""``df.pipe(tsrnn.forecast, h=12, model="lstm")``: fit a model on a frame and return its forecasts."""
from __future__ import annotations

from .backtesting import make_model

__all__ = ["forecast"]


def forecast(data, h: int, model="lstm", level=None, season_length: int = 1, future=None, **kwargs):
    """Fit ``model`` (a name such as "lstm", "gru", "arima", "arimax", "ets", "theta", "naive2", or an
    object with fit/predict) on ``data`` and return the ``h``-step forecasts in the data's form (for a
    long frame: ``unique_id, ds, yhat``, or the ``id_col`` and ``time_col`` given, plus
    ``yhat_lo_<l>``/``yhat_hi_<l>`` per ``level``).

    Extra keyword arguments go to a named model: a neural one takes any ``Forecaster`` parameter (e.g.
    ``random_state=0``, ``hidden_size=32``, ``future_covariates=["price"]``), a baseline only those it
    reads (``backtesting.baseline_params``: ``id_col``, ``fill``, ..., ARIMAX's covariates); any other is
    an error, as are keyword arguments beside a model object. ``future`` is the frame of future
    covariate values that ``predict`` then needs.

    Example
    -------
    >>> import numpy as np, pandas as pd, tsrnn
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(30), "y": np.arange(30.0)})
    >>> df.pipe(tsrnn.forecast, h=2, model="naive").yhat.tolist()
    [29.0, 29.0]
    """
    if not isinstance(model, str):
        if kwargs:
            raise TypeError(f"forecast's keyword arguments {sorted(kwargs)} go to a named model (such as \"lstm\"); "
                            "set them on the model object itself")
        estimator = model
    else:
        estimator = make_model(model, horizon=h, season_length=season_length, strict=True, **kwargs)
    fitted = estimator.fit(data)
    extra = {} if level is None else {"level": level}
    if future is not None:
        extra["future"] = future
    return fitted.predict(h, **extra)
