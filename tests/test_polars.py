"""polars in, polars out: the same numbers as the pandas path, polars never imported unless given."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pl = pytest.importorskip("polars")

import tsrnn  # noqa: E402
from tsrnn import Forecaster  # noqa: E402
from tsrnn.datasets import load_bikesharing, load_m4  # noqa: E402

FAST = dict(hidden_size=8, ensemble_size=1, max_epochs=3, random_state=0, progress=False)


def _polars(df: pd.DataFrame):
    return pl.DataFrame({c: (df[c].tolist() if df[c].dtype == object else df[c].to_numpy()) for c in df.columns})


def test_a_polars_frame_gives_a_polars_frame_with_the_pandas_numbers(tmp_path):
    train = load_m4("Quarterly", sample="demo").train
    model = Forecaster(season_length=4, **FAST).fit(_polars(train))
    out = model.predict(8, level=[80])
    assert isinstance(out, pl.DataFrame) and out.columns == ["unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80"]
    ref = Forecaster(season_length=4, **FAST).fit(train).predict(8, level=[80])
    np.testing.assert_array_equal(out["yhat"].to_numpy(), ref.yhat.to_numpy())
    assert out["unique_id"].to_list() == ref.unique_id.tolist() and out["ds"].to_list() == ref.ds.tolist()
    model.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m").predict(8)
    assert isinstance(again, pl.DataFrame)
    assert isinstance(tsrnn.Naive().fit(_polars(train)).predict(2), pl.DataFrame)


def test_covariates_and_the_future_frame_may_be_polars():
    df = load_bikesharing().iloc[-24 * 40:]
    train, future = df.iloc[:-24], df.iloc[-24:].drop(columns="y")
    settings = dict(FAST, season_length=24, horizon=24, future_covariates=["tmin", "tmax", "pn"], calendar=True)
    out = Forecaster(**settings).fit(_polars(train)).predict(24, future=_polars(future))
    ref = Forecaster(**settings).fit(train).predict(24, future=future)
    assert isinstance(out, pl.DataFrame) and out["ds"].dtype == pl.Datetime
    np.testing.assert_array_equal(out["yhat"].to_numpy(), ref.yhat.to_numpy())


def test_a_polars_frame_without_the_long_columns_is_a_clear_error():
    with pytest.raises(ValueError, match="polars DataFrame must be a long frame"):
        Forecaster(**FAST).fit(pl.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))


def test_import_tsrnn_and_a_pandas_fit_do_not_import_polars():
    code = ("import sys, numpy as np, tsrnn\n"
            "tsrnn.Naive().fit(np.arange(5.0)).predict(2)\n"
            "print('polars' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
