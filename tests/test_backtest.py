"""Rolling-origin backtests: windows, no leakage, several models on identical windows, pipe steps."""
import importlib.util

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster
from tsrnn.baselines import Naive, Naive2


def panel(n_series=3, n=40):
    rng = np.random.default_rng(0)
    return pd.concat([pd.DataFrame({"unique_id": f"s{k}", "ds": pd.date_range("2020-01-01", periods=n + k, freq="D"),
                                    "y": 10 + k + np.cumsum(rng.normal(size=n + k))}) for k in range(n_series)],
                     ignore_index=True)


class _Mean:
    """A model of the user's own, which reads and writes the caller's column names."""

    def fit(self, df):
        self.means_, self.last_ = df.groupby("store").sales.mean(), df.groupby("store").day.max()
        return self

    def predict(self, h):
        steps = pd.to_timedelta(np.arange(1, h + 1), "D")
        return pd.DataFrame({"store": np.repeat(self.means_.index, h),
                             "day": np.concatenate([self.last_[s] + steps for s in self.means_.index]),
                             "yhat": np.repeat(self.means_.to_numpy(), h)})


def test_results_keep_the_data_column_names():
    df = panel().rename(columns={"unique_id": "store", "ds": "day", "y": "sales"})
    df = pd.concat([df, pd.DataFrame({"store": "tiny", "day": pd.date_range("2020-01-01", periods=9), "sales": 1.0})])
    names = dict(id_col="store", time_col="day", target_col="sales")
    res = tsrnn.backtest({"naive": Naive(), "own": _Mean()}, df, horizon=4, n_windows=2, progress=False, **names)
    assert list(res.forecasts.columns) == ["store", "day", "cutoff", "sales", "yhat", "model"]
    assert "store" in res.series_metrics.columns and list(res.skipped.columns) == ["store", "window", "n_obs"]
    assert set(res.skipped.store) == {"tiny"} and "tiny" in res.notes()[0]
    own = res.forecasts[(res.forecasts.model == "own") & (res.forecasts.store == "s0")]
    assert own.yhat.iloc[0] == pytest.approx(df[df.store == "s0"].sales.iloc[:-8].mean())   # the first window's fit
    assert res.metrics.series.tolist() == [4, 4]                 # tiny in the second window only
    if importlib.util.find_spec("matplotlib"):
        fig = res.plot(history=df)
        assert len(fig.axes[3].lines) > 3                      # history, actual and both models drawn
    with pytest.raises(ValueError, match=r"columns of their own named \['yhat'\]"):
        tsrnn.backtest(Naive(), df.rename(columns={"sales": "yhat"}), horizon=4, progress=False,
                       id_col="store", time_col="day", target_col="yhat")


def test_flat_series_are_scored_without_dividing_by_zero():
    """Naive2 forecasts a flat series exactly: its errors are 0, and OWA's ratios follow MASE's rule for
    a zero scale (before: ZeroDivisionError). An exact forecast rounded (5.000000000000001 for 5, from a
    log scale) is no error: MASE and OWA 0, not inf."""
    for value in (0.0, 5.0):
        res = tsrnn.backtest(["naive", "naive2", "lstm"], pd.Series(np.full(30, value)), horizon=3, n_windows=2,
                             progress=False, level=[80], max_epochs=2, hidden_size=4)
        table = res.metrics.set_index("model")
        assert (table.owa == 0).all() and (table.mase == 0).all()
        assert table.msis_80["naive2"] == 0 and table.msis_80["lstm"] == np.inf      # a nonzero width over a 0 scale
    assert tsrnn.metrics.owa(1.0, 0.1, 0.0, 0.0) == np.inf


def test_flat_histories_beside_varying_ones_leave_the_scaled_means_and_the_report_finite():
    """A never-sold product beside selling ones: its scaled errors are 0 or inf (a scale of 0), and one
    inf made the model's MSIS and SPL inf, and the CLI's report failed ("Axis limits cannot be NaN or
    Inf"). The scaled means run over the series-windows with a positive scale, a note says how many,
    and a table that holds inf still plots (its bar to the axis' edge)."""
    never = pd.DataFrame({"unique_id": "never", "ds": pd.date_range("2020-01-01", periods=40, freq="D"), "y": 0.0})
    res = tsrnn.backtest(["naive", "lstm"], pd.concat([panel(), never]), horizon=3, n_windows=2, progress=False,
                         level=[80], max_epochs=2, hidden_size=4)
    per = res.series_metrics
    flat = per.unique_id == "never"
    assert (per[flat].scale == 0).all() and (per[~flat].scale > 0).all()
    assert np.isinf(per[flat & (per.model == "lstm")].msis_80).all()        # the constant rule's borrowed width
    assert np.isfinite(res.metrics[["mase", "owa", "msis_80", "spl"]].to_numpy()).all()
    assert res.metrics.set_index("model").msis_80.to_dict() == pytest.approx(
        per[~flat].groupby("model").msis_80.mean().to_dict())
    assert any(line.startswith("2 of 8 series-windows have a flat training history") for line in res.notes())
    assert any(line.startswith("25% of the test values are 0: sMAPE") for line in res.notes())
    assert not any("test values are 0" in line for line in tsrnn.backtest("naive", panel(), horizon=3,
                                                                          progress=False).notes())
    if importlib.util.find_spec("matplotlib"):
        res.metrics.loc[0, "msis_80"] = np.inf
        fig = res.plot()
        axis = fig.axes[4]                                      # OWA, sMAPE, MASE, coverage, MSIS
        assert axis.get_xlim()[1] == pytest.approx(max(p.get_width() for p in axis.patches))


class _Zero(_Mean):
    """Forecasts 0: the median of a product that sells on fewer than half the days."""

    def predict(self, h):
        return super().predict(h).assign(yhat=0.0)


def test_intermittent_sales_are_ranked_by_rmsse_when_asked():
    """On products that sell on about a quarter of the days, OWA (through sMAPE, which scores a forecast
    of a zero 200 % unless exact) and MASE (whose best forecast is the median) rank a forecast of 0
    first, and a note says so; RMSSE (M5's metric) ranks the mean first. Its value per series-window is
    ``metrics.rmsse``; a ranking it cannot compute is refused before any model is fitted."""
    rng = np.random.default_rng(0)
    day = pd.date_range("2021-01-01", periods=60, freq="D")
    sales = pd.concat([pd.DataFrame({"store": f"p{k}", "day": day, "sales": rng.poisson(0.3, 60).astype(float)})
                       for k in range(20)], ignore_index=True)
    options = dict(horizon=7, n_windows=2, progress=False, id_col="store", time_col="day", target_col="sales")
    models = {"zero": _Zero(), "mean": _Mean()}
    by_owa = tsrnn.backtest(models, sales, **options)
    by_rmsse = tsrnn.backtest(models, sales, rank_by="rmsse", **options)
    assert list(by_owa.metrics.model) == ["zero", "mean"] and list(by_rmsse.metrics.model) == ["mean", "zero"]
    table = by_owa.metrics.set_index("model")
    assert table.mase["zero"] < table.mase["mean"] and table.rmsse["mean"] < table.rmsse["zero"]
    assert any("rank by RMSSE" in line for line in by_owa.notes())
    assert not any("test values are 0" in line for line in by_rmsse.notes())
    one = by_rmsse.series_metrics.iloc[0]
    cut = sales[(sales.store == one.store) & (sales.day <= one.cutoff)].sales
    test = sales[(sales.store == one.store) & (sales.day > one.cutoff)].sales[:7]
    guess = by_rmsse.forecasts.query("model == @one.model and store == @one.store and cutoff == @one.cutoff").yhat
    assert one.rmsse == pytest.approx(tsrnn.metrics.rmsse(test, guess, cut))
    with pytest.raises(ValueError, match=r"rank_by must be one of \['owa', 'mase', 'rmsse'.*got 'msis_80'.*need level"):
        tsrnn.backtest(models, sales, rank_by="msis_80", **options)
    assert by_owa.rank_by == "owa"


def test_windows_cutoffs_and_no_leakage():
    df = panel()
    res = tsrnn.backtest(Naive(), df, horizon=4, n_windows=3, step=2, progress=False)
    fc = res.forecasts
    assert set(fc.columns) == {"unique_id", "ds", "cutoff", "y", "yhat", "model"}
    for uid, g in fc.groupby("unique_id"):
        series = df[df.unique_id == uid].set_index("ds").y
        cutoffs = sorted(g.cutoff.unique())
        assert len(cutoffs) == 3
        assert cutoffs[-1] == series.index[-5] and (cutoffs[1] - cutoffs[0]) == pd.Timedelta(days=2)
        for cutoff, w in g.groupby("cutoff"):
            assert (w.ds > cutoff).all() and len(w) == 4
            # the naive forecast is the last value the model saw: exactly the value at the cutoff
            assert np.allclose(w.yhat, series[cutoff])
            np.testing.assert_allclose(w.y, series[w.ds].to_numpy())


def test_a_fill_trains_on_filled_histories_but_never_scores_a_made_up_value():
    df = panel()
    gappy = df.drop(index=df.index[(df.unique_id == "s0") & (df.ds == "2020-02-07")])     # in s0's last window
    gappy.loc[(gappy.unique_id == "s1") & (gappy.ds == "2020-01-20"), "y"] = np.nan       # in s1's history
    gappy.loc[(gappy.unique_id == "s2") & (gappy.ds >= "2020-02-07"), "y"] = np.nan       # s2's last window: all
    with pytest.raises(ValueError, match="3 of 3 series have bad data"):
        tsrnn.backtest(Naive(), gappy, horizon=4, n_windows=2, progress=False)
    res = tsrnn.backtest([Naive(), "naive2", "theta"], gappy, horizon=4, n_windows=2, fill="interpolate",
                         progress=False, level=[80])
    fc = res.forecasts
    made = fc.y.isna()
    assert set(map(tuple, fc.loc[made, ["unique_id", "ds"]].astype(str).drop_duplicates().to_numpy())) == \
        {("s0", "2020-02-07")} | {("s2", str(d.date())) for d in pd.date_range("2020-02-07", "2020-02-11")}
    filled = df.set_index(["unique_id", "ds"]).y.copy()                 # what the models trained on
    filled[("s0", pd.Timestamp("2020-02-07"))] = np.nan
    filled[("s1", pd.Timestamp("2020-01-20"))] = np.nan
    filled = filled.groupby(level=0).transform(lambda s: s.interpolate())
    naive = fc[(fc.model == "naive") & ~made]
    np.testing.assert_allclose(naive.y, df.set_index(["unique_id", "ds"]).y[list(zip(naive.unique_id, naive.ds))])
    s1 = fc[(fc.model == "naive") & (fc.unique_id == "s1")]
    np.testing.assert_allclose(s1.yhat, filled["s1"][s1.cutoff].to_numpy())     # the last value it saw
    scores = res.series_metrics[res.series_metrics.model == "naive"].set_index(["unique_id", "window"])
    w = fc[(fc.model == "naive") & (fc.unique_id == "s0")].tail(4)                       # s0's last window
    assert w.y.isna().sum() == 1
    assert scores.loc[("s0", 2), "mae"] == pytest.approx(np.nanmean(np.abs(w.y - w.yhat)))   # its 3 observed points
    assert np.isnan(scores.loc[("s2", 2), ["mae", "smape", "mase", f"coverage_80", "msis_80"]].astype(float)).all()
    assert np.isfinite(res.metrics[["owa", "mae", "coverage_80"]].to_numpy()).all()


def test_several_models_identical_windows_and_owa():
    df = panel()
    res = tsrnn.backtest({"naive": Naive(), "m4": Naive2(), "net": Forecaster(hidden_size=8, max_epochs=3, progress=False,
                                                                               random_state=0)},
                         df, horizon=5, n_windows=2, progress=False)
    keys = {name: set(map(tuple, g[["unique_id", "ds", "cutoff"]].to_numpy())) for name, g in
            res.forecasts.groupby("model")}
    assert keys["naive"] == keys["m4"] == keys["net"]
    table = res.metrics.set_index("model")
    assert table.loc["m4", "owa"] == pytest.approx(1.0)
    assert list(res.metrics["rank"]) == [1, 2, 3] and res.metrics.owa.is_monotonic_increasing
    assert set(res.series_metrics.columns) >= {"model", "unique_id", "cutoff", "window", "smape", "mase", "mae", "rmse"}
    assert (table.windows == 2).all() and (table.series == 3).all()


def test_refit_false_fits_once_and_forecasts_from_longer_history():
    df = panel()
    model = Forecaster(hidden_size=8, max_epochs=2, progress=False, random_state=0)
    res = tsrnn.backtest(model, df, horizon=3, n_windows=3, refit=False, progress=False)
    assert res.forecasts.cutoff.nunique() >= 3 and np.isfinite(res.forecasts.yhat).all()
    assert not hasattr(model, "networks_")               # the caller's model is never fitted in place


def test_refit_every_n_windows_fits_on_every_nth_and_forecasts_the_others_from_that_fit():
    """refit=2 over 4 windows: windows 1 and 3 are fresh fits (as refit=True's), window 2 is window 1's
    fit forecasting from the longer history (as refit=False's), window 4 is window 3's fit doing so (as
    refit=False over the last 2 windows). ``True``/``False`` are 1/0; anything else is an error."""
    df = panel()
    model = Forecaster(hidden_size=8, max_epochs=2, progress=False, random_state=0, n_threads=1)
    kw = dict(horizon=3, progress=False)
    by = {refit: tsrnn.backtest(model, df, n_windows=4, refit=refit, **kw).forecasts for refit in (2, True, False)}
    last_two = tsrnn.backtest(model, df, n_windows=2, refit=False, **kw).forecasts

    def window(frame, w, first=1):
        rank = frame.groupby("unique_id").cutoff.rank(method="dense").astype(int)   # each series' windows
        return frame[rank == w - first + 1].yhat.to_numpy()

    for w, (expected, first) in {1: (by[True], 1), 2: (by[False], 1), 3: (by[True], 1), 4: (last_two, 3)}.items():
        np.testing.assert_array_equal(window(by[2], w), window(expected, w, first))
    assert not np.array_equal(window(by[2], 4), window(by[False], 4))     # a fit of its own, not window 1's
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="refit must be True, False or a positive int"):
            tsrnn.backtest(["naive"], df, refit=bad, **kw)


def test_named_models_and_pipeline_steps():
    df = panel()
    res = df.pipe(tsrnn.backtest, models=["naive", "theta"], horizon=3, progress=False)
    assert set(res.metrics.model) == {"naive", "theta"}
    fc = df.pipe(tsrnn.forecast, h=4, model="naive2")
    assert list(fc.columns) == ["unique_id", "ds", "yhat"] and len(fc) == 12
    fc = df.pipe(tsrnn.forecast, h=4, model="lstm", level=[80], hidden_size=8, max_epochs=2, random_state=0)
    assert {"yhat_lo_80", "yhat_hi_80"} <= set(fc.columns)


def test_keyword_arguments_no_model_reads_are_errors_not_dropped():
    """A typo (``windows=`` for ``n_windows=``) ran three windows when every model was a baseline, and a
    neural parameter given to one baseline's forecast was dropped: both are errors now; a neural
    parameter beside baselines in a backtest of several models still goes to the neural ones."""
    df = panel()
    with pytest.raises(TypeError, match=r"backtest got unexpected keyword argument\(s\) \['windows'\]"):
        tsrnn.backtest(df, models=["naive", "theta"], horizon=3, windows=2, progress=False)
    with pytest.raises(TypeError, match=r"go to named models .* none is named"):
        tsrnn.backtest(df, models={"n": Naive(), "n2": Naive2()}, horizon=3, random_state=0, progress=False)
    with pytest.raises(TypeError, match=r"model 'ets' takes none of \['hidden_size'\]"):
        df.pipe(tsrnn.forecast, h=3, model="ets", hidden_size=8)
    with pytest.raises(TypeError, match=r"model 'naive' takes none of \['future_covariates'\]"):
        df.pipe(tsrnn.forecast, h=3, model="naive", future_covariates=["price"])
    with pytest.raises(TypeError, match="set them on the model object itself"):
        df.pipe(tsrnn.forecast, h=3, model=Naive(), season_length=1, random_state=0)
    with pytest.raises(TypeError, match=r"make_model got unexpected keyword argument\(s\) \['max_epoch'\]"):
        tsrnn.backtesting.make_model("theta", horizon=3, max_epoch=2)
    res = tsrnn.backtest(df, models=["naive", "theta"], horizon=3, n_windows=2, random_state=0, progress=False)
    assert set(res.metrics.windows) == {2}                   # random_state: a neural parameter, unread here


def test_plot_returns_a_figure():
    pytest.importorskip("matplotlib")
    res = tsrnn.backtest(["naive", "naive2"], panel(), horizon=3, progress=False)
    fig = res.plot(history=panel())
    assert len(fig.axes) == 3 + 3                    # OWA, sMAPE, MASE bars; one panel per series


@pytest.mark.parametrize("kwargs,match", [
    (dict(horizon=30, n_windows=2), r"fewer than .* points"),
    (dict(horizon=0), "horizon must be a positive integer"),
    (dict(horizon=3, n_windows=0), "n_windows"),
    (dict(horizon=3, step=0), "step"),
    (dict(horizon=3, model="prophet"), "unknown model 'prophet'"),
    (dict(horizon=3, model=["naive", "naive"]), "two models are named"),
    (dict(horizon=3, model=object()), "fit/predict"),
])
def test_bad_backtests(kwargs, match):
    args = dict(model="naive", data=panel(), progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        tsrnn.backtest(**args)


def test_levels_add_the_intervals_and_their_scores():
    from tsrnn import metrics
    from tsrnn.datasets import load_m4

    demo = load_m4("Quarterly", sample="demo").train
    demo = demo[demo.unique_id.isin(demo.unique_id.unique()[:10])]
    result = tsrnn.backtest(["lstm", "theta", "naive2"], demo, horizon=8, n_windows=2, season_length=4,
                            level=[80, 95], progress=False, random_state=0, max_epochs=3, ensemble_size=1)
    table = result.metrics
    for col in ["coverage_80", "msis_80", "coverage_95", "msis_95", "spl"]:
        assert col in table.columns and table[col].notna().all()
    assert list(table.columns[-5:]) == ["coverage_80", "msis_80", "coverage_95", "msis_95", "spl"]
    assert table.coverage_80.between(0, 1).all() and (table.coverage_95 >= table.coverage_80).all()
    fc = result.forecasts
    assert (fc.yhat_lo_95 <= fc.yhat_lo_80).all() and (fc.yhat_hi_80 <= fc.yhat_hi_95).all()
    # one series' MSIS by hand, with metrics.msis on its history before the cutoff
    row = result.series_metrics.query("model == 'theta' and window == 1").iloc[0]
    part = fc[(fc.model == "theta") & (fc.unique_id == row.unique_id) & (fc.cutoff == row.cutoff)]
    history = demo[(demo.unique_id == row.unique_id) & (demo.ds <= row.cutoff)].y
    expected = metrics.msis(part.y, part.yhat_lo_95, part.yhat_hi_95, history, m=4, level=95)
    assert row.msis_95 == pytest.approx(expected)
    assert row.coverage_80 == pytest.approx(metrics.coverage(part.y, part.yhat_lo_80, part.yhat_hi_80))


def test_levels_need_models_that_forecast_intervals():
    class PointOnly:
        def fit(self, y):
            return self

        def predict(self, h):
            return pd.Series(np.zeros(h))

    with pytest.raises(ValueError, match=r"level= needs models that forecast intervals.*'pointonly'"):
        tsrnn.backtest([PointOnly(), "naive"], np.arange(40.0), horizon=4, level=[80], progress=False)
