"""tsrnn.sktime.TsrnnForecaster: sktime's own conformance suite, and what the adapter adds on real data."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sktime.datasets import load_airline  # noqa: E402
from sktime.forecasting.base import ForecastingHorizon  # noqa: E402

from tsrnn import Forecaster  # noqa: E402
from tsrnn.sktime import TsrnnForecaster  # noqa: E402

TINY = dict(hidden_size=8, ensemble_size=1, max_epochs=3, samples_per_epoch=256, random_state=0)


def test_sktime_check_estimator_passes_every_test():
    from sktime.utils.estimator_checks import check_estimator

    results = check_estimator(TsrnnForecaster, raise_exceptions=False, verbose=False)
    failed = {k: v for k, v in results.items() if v != "PASSED"}
    assert len(results) > 500 and not failed, failed


def test_forecasts_are_the_wrapped_forecasters_on_any_index_type():
    y = load_airline()                                         # PeriodIndex, monthly
    model = TsrnnForecaster(season_length=12, **TINY).fit(y, fh=np.arange(1, 13))
    direct = Forecaster(season_length=12, horizon=12, progress=False, **TINY).fit(y.to_numpy())
    expected = direct.predict(12).to_numpy()
    pred = model.predict()
    assert isinstance(pred.index, pd.PeriodIndex) and str(pred.index[0]) == "1961-01" and pred.name == y.name
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=1e-6)
    # absolute fh, a subset of the steps: the same values at those steps
    fh = ForecastingHorizon(pd.PeriodIndex(["1961-03", "1961-07"], freq="M"), is_relative=False)
    np.testing.assert_allclose(model.predict(fh).to_numpy(), expected[[2, 6]], rtol=1e-6)
    # beyond the horizon: recursively, as the wrapped model does
    np.testing.assert_allclose(model.predict(fh=np.arange(1, 25)).to_numpy(), direct.predict(24).to_numpy(),
                               rtol=1e-6)


def test_fill_lets_sktime_pass_missing_values_and_forecasts_as_the_filled_series():
    y = load_airline()
    gappy = y.copy()
    gappy.iloc[[20, 21, 90]] = np.nan
    assert not TsrnnForecaster(**TINY).get_tag("capability:missing_values")
    with pytest.raises(ValueError, match="cannot handle missing data"):                 # sktime says so
        TsrnnForecaster(season_length=12, **TINY).fit(gappy, fh=[1, 2, 3])
    model = TsrnnForecaster(season_length=12, fill="interpolate", **TINY)
    assert model.get_tag("capability:missing_values")
    by_hand = TsrnnForecaster(season_length=12, **TINY).fit(gappy.interpolate(), fh=[1, 2, 3])
    np.testing.assert_allclose(model.fit(gappy, fh=[1, 2, 3]).predict().to_numpy(), by_hand.predict().to_numpy())
    assert gappy.isna().sum() == 3                              # the caller's series untouched


def test_quantiles_and_intervals_are_the_conformal_intervals():
    y = load_airline()
    model = TsrnnForecaster(season_length=12, **TINY).fit(y, fh=[1, 2, 3])
    direct = Forecaster(season_length=12, horizon=3, progress=False, **TINY).fit(y.to_numpy())
    ref = direct.predict(3, level=[80])
    q = model.predict_quantiles(alpha=[0.1, 0.5, 0.9])
    np.testing.assert_allclose(q.iloc[:, 0], ref.yhat_lo_80, rtol=1e-6)
    np.testing.assert_allclose(q.iloc[:, 1], ref.yhat, rtol=1e-6)
    np.testing.assert_allclose(q.iloc[:, 2], ref.yhat_hi_80, rtol=1e-6)
    iv = model.predict_interval(coverage=[0.8, 0.95])
    assert (iv.iloc[:, 2] < iv.iloc[:, 0]).all() and (iv.iloc[:, 3] > iv.iloc[:, 1]).all()   # 95 % wider


def test_exogenous_x_is_a_future_covariate_and_predict_needs_it():
    rng = np.random.default_rng(0)
    n = 300
    driver = rng.normal(size=n + 4)
    index = pd.date_range("2020-01-01", periods=n + 4, freq="D")
    y = pd.Series(10 + 3 * driver[:n] + 0.1 * rng.normal(size=n), index=index[:n], name="sales")
    X = pd.DataFrame({"promo": driver}, index=index)
    settings = dict(TINY, max_epochs=80, hidden_size=16, samples_per_epoch=1024)
    with_x = TsrnnForecaster(**settings).fit(y, X=X.iloc[:n], fh=[1, 2, 3, 4])
    without = TsrnnForecaster(**settings).fit(y, fh=[1, 2, 3, 4])
    truth = 10 + 3 * driver[n:]
    err_x = np.abs(with_x.predict(X=X.iloc[n:]).to_numpy() - truth).mean()
    err = np.abs(without.predict().to_numpy() - truth).mean()
    assert err_x < 0.5 * err
    with pytest.raises(ValueError, match="predict needs X"):
        with_x.predict()
    with pytest.raises(ValueError, match="no rows for 2 of the 4 steps"):
        with_x.predict(X=X.iloc[n:n + 2])


def test_update_without_params_forecasts_from_the_new_data_without_training():
    y = load_airline()
    model = TsrnnForecaster(season_length=12, **TINY).fit(y.iloc[:-12], fh=[1, 2, 3])
    weights = model.forecaster_.networks_[0].params.copy()
    model.update(y.iloc[-12:], update_params=False)
    assert str(model.cutoff[0]) == "1960-12"
    np.testing.assert_array_equal(model.forecaster_.networks_[0].params, weights)
    direct = model.forecaster_.predict(3, y=y.to_numpy()).to_numpy()
    np.testing.assert_allclose(model.predict().to_numpy(), direct, rtol=1e-6)


def test_several_columns_are_series_of_one_global_model():
    y = load_airline()
    both = pd.DataFrame({"a": y.to_numpy(), "b": 2 * y.to_numpy()}, index=y.index)
    model = TsrnnForecaster(season_length=12, **TINY).fit(both, fh=[1, 2])
    pred = model.predict()
    assert list(pred.columns) == ["a", "b"] and len(model.forecaster_.networks_) == 1
    assert np.isfinite(pred.to_numpy()).all()


def test_grid_search_over_a_tsrnn_parameter():
    from sktime.forecasting.model_selection import ForecastingGridSearchCV
    from sktime.split import ExpandingWindowSplitter

    y = load_airline()
    cv = ExpandingWindowSplitter(initial_window=108, step_length=12, fh=[1, 2, 3])
    search = ForecastingGridSearchCV(TsrnnForecaster(season_length=12, **TINY), cv=cv,
                                     param_grid={"hidden_size": [4, 8]})
    search.fit(y, fh=[1, 2, 3])
    assert search.best_params_["hidden_size"] in (4, 8) and len(search.cv_results_) == 2
    assert len(search.predict()) == 3


def test_history_limit_reaches_the_wrapped_forecaster():
    model = TsrnnForecaster(history_limit=None, **TINY).fit(load_airline(), fh=[1, 2])
    assert model.get_params()["history_limit"] is None and model.forecaster_.history_limit is None
    assert TsrnnForecaster().history_limit == Forecaster().history_limit == "auto"
