"""Baselines: M4's Naive2 exactly, every model through every input form, failures recorded not fatal."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.baselines import ARIMA, ETS, SES, AutoARIMA, Naive, Naive2, SeasonalNaive, Theta

DATA = Path(__file__).resolve().parent.parent / "data" / "m4"


@pytest.mark.parametrize("freq,m,h", [("Yearly", 1, 6), ("Quarterly", 4, 8), ("Monthly", 12, 18),
                                      ("Weekly", 1, 13), ("Hourly", 24, 48)])
def test_naive2_reproduces_the_published_m4_forecasts(freq, m, h):
    train = pd.read_csv(DATA / f"train-{freq}.csv")
    published = pd.read_csv(DATA / f"forecasts-{freq}.csv")
    ours = Naive2(season_length=m).fit(train).predict(h)
    ours["step"] = ours.groupby("unique_id").cumcount() + 1
    merged = ours.merge(published[["unique_id", "step", "naive2"]], on=["unique_id", "step"])
    assert len(merged) == len(published)
    np.testing.assert_allclose(merged.yhat, merged.naive2, rtol=2e-8)   # published with 10 significant digits


def series(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.Series(50 + 0.5 * t + 5 * np.sin(2 * np.pi * t / 4) + rng.normal(size=n),
                     index=pd.period_range("2000Q1", periods=n, freq="Q"))


@pytest.mark.parametrize("model", [Naive(), SeasonalNaive(season_length=4), Naive2(season_length=4),
                                   SES(season_length=4), ARIMA(order=(1, 1, 1)), AutoARIMA(season_length=4),
                                   ETS(season_length=4), Theta(season_length=4)], ids=lambda m: type(m).__name__)
def test_every_baseline_forecasts_series_and_long_frames(model):
    y = series()
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # a clean series must not warn (fallbacks warn)
        f = model.fit(y).predict(8)
    assert isinstance(f, pd.Series) and len(f) == 8 and str(f.index[0]) == "2015Q1"
    assert np.isfinite(f).all() and 40 < f.mean() < 120
    assert model.fallbacks_ == {}
    long = pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(60), "y": series(seed=k).to_numpy()})
                      for k in range(3)])
    out = type(model)(**model.get_params()).fit(long).predict(5)
    assert list(out.columns) == ["unique_id", "ds", "yhat"] and len(out) == 15


def test_simple_benchmarks_by_hand():
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    assert Naive().fit(y).predict(3).tolist() == [8, 8, 8]
    assert SeasonalNaive(season_length=3).fit(y).predict(4).tolist() == [6, 7, 8, 6]


def test_a_failing_series_falls_back_to_naive2_and_is_recorded():
    ok = pd.DataFrame({"unique_id": "ok", "ds": np.arange(40), "y": series(40).to_numpy()})
    tiny = pd.DataFrame({"unique_id": "tiny", "ds": np.arange(3), "y": [5.0, 6, 8]})
    model = ETS()                                   # statsmodels cannot fit any ETS form on 3 points
    with pytest.warns(UserWarning, match=r"1 of 2 series fell back to Naive2 \(first: 'tiny'"):
        f = model.fit(pd.concat([ok, tiny])).predict(4)
    assert list(model.fallbacks_) == ["tiny"]
    np.testing.assert_allclose(f[f.unique_id == "tiny"].yhat, [8.0] * 4)
    assert np.isfinite(f.yhat).all()
    never = pd.DataFrame({"unique_id": "never", "ds": np.arange(40), "y": 0.0})    # a never-sold product
    with pytest.warns(UserWarning, match=r"first: 'never': constant: its value \(the history does not vary\)"):
        f = model.fit(pd.concat([ok, never])).predict(4, level=[95])               # before: no ETS form could be fitted
    assert (f[f.unique_id == "never"][["yhat", "yhat_lo_95", "yhat_hi_95"]] == 0).all().all()


def test_auto_arima_rejects_degenerate_fits():
    """M4 series Q20383 (smooth growth, 88 quarters): statsmodels 'converges' for ARIMA(1,1,0)(1,1,0)4 to
    AR coefficients -1 and +1 with a degenerate likelihood (AIC 6), which won the AICc search and
    forecast 140x the series' level. Such fits must not be chosen."""
    df = pd.read_csv(DATA.parent / "m4-quarterly-40.csv")
    y = df[df.unique_id == "Q20383"].y.to_numpy()
    train, test = y[:88], y[88:]
    model = AutoARIMA(season_length=4)
    f = model.fit(pd.Series(train)).predict(8).to_numpy()
    assert model.last_order_ != ((1, 1, 0), (1, 1, 0, 4))
    assert np.max(np.abs(f / test - 1)) < 0.1
    # that order forced on the series: no absurd forecast. Whether statsmodels degenerates on it depends
    # on its version and the BLAS build (some machines converge to a sane fit); when it does, the fit is
    # rejected with a recorded, announced fall-back to Naive2
    fixed = ARIMA(order=(1, 1, 0), seasonal_order=(1, 1, 0), season_length=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = fixed.fit(pd.Series(train)).predict(8).to_numpy()
    if fixed.fallbacks_:
        assert "degenerate" in fixed.fallbacks_[0]
        assert any("fell back to Naive2" in str(w.message) for w in caught)
    assert np.max(np.abs(g / test - 1)) < 0.2


def test_auto_arima_fits_a_constant_series_or_one_that_differencing_makes_constant():
    """KPSS divides by the variance: on a constant series (or a straight line once differenced) it
    failed with 'cannot convert float NaN to integer' and the series fell back to Naive2 for that
    reason. A constant series needs no (more) differencing."""
    for y in (np.full(60, 5.0), 5.0 + 0.5 * np.arange(60.0)):
        model = AutoARIMA(season_length=12)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = model.fit(pd.Series(y)).predict(3, level=[80])
        assert not model.fallbacks_
        np.testing.assert_allclose(f.yhat, y[-1] + (y[-1] - y[-2]) * np.arange(1, 4), rtol=1e-3)


def test_baseline_argument_checks():
    with pytest.raises(ValueError, match="season_length"):
        Naive2(season_length=0).fit(series())
    with pytest.raises(ValueError, match="order"):
        ARIMA(order=(1, 1)).fit(series())
    model = Naive().fit(series())
    with pytest.raises(ValueError, match="h must be"):
        model.predict(0)
    with pytest.raises(ValueError, match="level must be a coverage"):
        model.predict(2, level=[150])


@pytest.mark.parametrize("name", ["naive", "snaive", "naive2", "ses", "arima", "ets", "theta"])
def test_every_baseline_gives_nested_intervals_around_its_forecast(name):
    from tsrnn.backtesting import make_model

    df = pd.read_csv(DATA.parent / "m4-quarterly-40.csv")
    df = df[df.unique_id.isin(df.unique_id.unique()[:6])]
    point = make_model(name, horizon=8, season_length=4).fit(df).predict(8)
    fc = make_model(name, horizon=8, season_length=4).fit(df).predict(8, level=[80, 95])
    np.testing.assert_allclose(fc.yhat.to_numpy(), point.yhat.to_numpy())      # the same point forecast
    assert (fc.yhat_lo_95 <= fc.yhat_lo_80).all() and (fc.yhat_lo_80 <= fc.yhat).all()
    assert (fc.yhat <= fc.yhat_hi_80).all() and (fc.yhat_hi_80 <= fc.yhat_hi_95).all()
    assert (fc.yhat_hi_95 > fc.yhat_lo_95).all()


def test_naive_intervals_cover_random_walks_at_their_level():
    rng = np.random.default_rng(1)
    n, h = 400, 6
    walks = np.cumsum(rng.normal(size=(n, 60 + h)), axis=1)
    df = pd.DataFrame({"unique_id": np.repeat(np.arange(n), 60), "ds": np.tile(np.arange(60), n),
                       "y": walks[:, :60].ravel()})
    fc = Naive().fit(df).predict(h, level=[80, 95])
    actual = walks[:, 60:].ravel()
    for lv, lo, hi in [(80, fc.yhat_lo_80, fc.yhat_hi_80), (95, fc.yhat_lo_95, fc.yhat_hi_95)]:
        inside = ((actual >= lo.to_numpy()) & (actual <= hi.to_numpy())).mean()
        assert abs(inside - lv / 100) < 0.03, (lv, inside)


@pytest.mark.parametrize("name", ["naive", "snaive", "ets", "theta"])
def test_nonnegative_baselines_clip_at_zero_and_refuse_negative_data(name):
    from tsrnn.backtesting import make_model

    rng = np.random.default_rng(0)
    t = np.arange(96)
    df = pd.DataFrame({"unique_id": "rentals", "ds": t,
                       "y": rng.poisson(1 + 30 * np.maximum(np.sin(2 * np.pi * t / 24), 0)).astype(float)})
    free = make_model(name, horizon=24, season_length=24).fit(df).predict(24, level=[95])
    model = make_model(name, horizon=24, season_length=24, nonnegative=True)     # as a backtest passes it
    assert model.get_params()["nonnegative"] is True
    clipped = model.fit(df).predict(24, level=[95])
    columns = ["yhat", "yhat_lo_95", "yhat_hi_95"]
    assert (clipped[columns] >= 0).all().all()
    np.testing.assert_allclose(clipped[columns].to_numpy(), np.maximum(free[columns].to_numpy(), 0.0))
    with pytest.raises(ValueError, match="series 'rentals' has values below 0"):
        model.fit(df.assign(y=df.y - 5))


def test_new_series_too_short_to_show_their_frequency_take_the_fitted_one():
    """Two monthly stamps cannot show their frequency (pandas needs three); a fitted model knows it."""
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2015-01", periods=40, freq="MS"),
                       "y": series(40).to_numpy()})
    new = pd.DataFrame({"unique_id": "new", "ds": pd.date_range("2019-11", periods=2, freq="MS"), "y": [1.0, 2.0]})
    fc = Naive(season_length=1).fit(df).predict(2, y=new)
    assert list(fc.ds) == list(pd.date_range("2020-01", periods=2, freq="MS")) and list(fc.yhat) == [2.0, 2.0]
    with pytest.raises(ValueError, match="off the frequency grid of MS"):
        Naive(season_length=1).fit(df).predict(2, y=new.assign(ds=pd.to_datetime(["2019-11-01", "2019-11-15"])))
