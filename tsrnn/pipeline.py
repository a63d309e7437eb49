"""``df.pipe(tsrnn.forecast, h=12, model="lstm")``: fit a model on a frame and return its forecasts."""
from __future__ import annotations

from .backtesting import make_model


def forecast(data, h: int, model="lstm", level=None, season_length: int = 1, **kwargs):
    """Fit ``model`` (a name such as "lstm", "gru", "arima", "ets", "theta", "naive2", or an object with
    fit/predict) on ``data`` and return the ``h``-step forecasts in the data's form (for a long frame:
    ``unique_id, ds, yhat`` plus ``yhat_lo_<l>``/``yhat_hi_<l>`` per ``level``).

    Extra keyword arguments go to a named neural model (e.g. ``random_state=0``, ``hidden_size=32``).

    Example
    -------
    >>> import numpy as np, pandas as pd, tsrnn
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(30), "y": np.arange(30.0)})
    >>> df.pipe(tsrnn.forecast, h=2, model="naive").yhat.tolist()
    [29.0, 29.0]
    """
    estimator = make_model(model, horizon=h, season_length=season_length, **kwargs) if isinstance(model, str) \
        else model
    fitted = estimator.fit(data)
    return fitted.predict(h, level=level) if level is not None else fitted.predict(h)
