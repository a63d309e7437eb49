"""tsrnn.datasets: the bundled files read as documented, with clear errors."""
import numpy as np
import pandas as pd
import pytest

from tsrnn.datasets import M4_FREQUENCIES, load_air_passengers, load_bikesharing, load_m4

M4_FACTS = {"Yearly": (200, 6, 1), "Quarterly": (200, 8, 4), "Monthly": (200, 18, 12), "Weekly": (50, 13, 1),
            "Hourly": (50, 48, 24)}


@pytest.mark.parametrize("freq", M4_FREQUENCIES)
def test_m4_dev_sample_has_its_series_horizons_and_test_values(freq):
    n, horizon, m = M4_FACTS[freq]
    data = load_m4(freq.lower())
    assert (data.train.unique_id.nunique(), data.horizon, data.season_length) == (n, horizon, m)
    assert list(data.train.columns) == ["unique_id", "ds", "y"]
    assert (data.test.groupby("unique_id").size() == horizon).all()
    assert set(data.test.unique_id) == set(data.train.unique_id) == set(data.info.unique_id)
    last = data.train.groupby("unique_id").ds.max()
    first_test = data.test.groupby("unique_id").ds.min()
    assert (first_test == last + 1).all()                    # test steps continue each series' count
    assert np.isfinite(data.train.y).all()


def test_m4_demo_sample_is_the_make_demo_input():
    demo = load_m4("Quarterly", sample="demo")
    assert demo.train.unique_id.nunique() == 40 and demo.test.unique_id.nunique() == 40
    with pytest.raises(ValueError, match="Quarterly series only"):
        load_m4("Monthly", sample="demo")


@pytest.mark.parametrize("args, message", [(("Daily",), "unknown M4 frequency 'Daily'"),
                                           (("Yearly", "full"), "github.com/Mcompetitions")])
def test_m4_errors_name_the_choices(args, message):
    with pytest.raises(ValueError, match=message):
        load_m4(*args)


def test_air_passengers_is_a_monthly_series():
    y = load_air_passengers()
    assert len(y) == 144 and y.index.freqstr == "MS" and y.index[0] == pd.Timestamp("1949-01-01")
    assert y.iloc[:3].tolist() == [112.0, 118.0, 132.0]


def test_bikesharing_is_hourly_with_its_weather():
    df = load_bikesharing()
    assert df.shape == (17520, 6) and df.ds.diff().dropna().eq(pd.Timedelta("1h")).all()
    assert df[["y", "tmin", "tmax", "pn"]].notna().all().all()
