"""Covariates end to end: past, future, static and calendar inputs through the data reader, the series
store, every cell and head, save/load, the backtest, the pipeline step and the CLI."""
import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster
from tsrnn.baselines import ARIMAX
from tsrnn.cli import main
from tsrnn.data import calendar_features, default_calendar, read_future, to_panel

FAST = dict(hidden_size=16, ensemble_size=1, max_epochs=25, samples_per_epoch=1024, random_state=0, progress=False)


def driven_panel(n_series=6, n=360, h=24, seed=0):
    """Hourly series driven by a known covariate x (y = 50 + 5 x + noise), with a noise past covariate,
    a random category, a static group and a boolean flag; the last h points of each are the test."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(n_series):
        x = rng.normal(size=n)
        frames.append(pd.DataFrame({
            "unique_id": f"s{s}", "ds": pd.date_range("2021-03-01", periods=n, freq="h"),
            "y": 50 + 5 * x + rng.normal(scale=0.3, size=n), "x": x, "p": rng.normal(size=n),
            "cat": rng.choice(["a", "b", "c"], size=n), "flag": rng.random(n) < 0.3, "group": ["u", "v"][s % 2]}))
    full = pd.concat(frames, ignore_index=True)
    return full.groupby("unique_id").head(n - h).reset_index(drop=True), full.groupby("unique_id").tail(h).reset_index(drop=True)


@pytest.mark.parametrize("head", ["direct", "seq2seq"])
def test_a_known_driver_is_forecast_far_better_with_it(head):
    hist, test = driven_panel()
    plain = Forecaster(horizon=24, head=head, **FAST).fit(hist[["unique_id", "ds", "y"]]).predict(24)
    with_x = Forecaster(horizon=24, head=head, future_covariates=["x"], **FAST).fit(hist[["unique_id", "ds", "y", "x"]])
    fc = with_x.predict(24, future=test)
    mae_plain = np.abs(plain.yhat.to_numpy() - test.y.to_numpy()).mean()
    mae_x = np.abs(fc.yhat.to_numpy() - test.y.to_numpy()).mean()
    assert mae_x <= 0.5 * mae_plain, (mae_x, mae_plain)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("head,bidirectional", [("direct", False), ("direct", True), ("seq2seq", False)])
def test_every_kind_of_covariate_on_every_cell_and_head_round_trips_through_save(cell, head, bidirectional, tmp_path):
    hist, test = driven_panel(n_series=3, n=150)
    model = Forecaster(cell=cell, head=head, bidirectional=bidirectional, horizon=24, hidden_size=8, ensemble_size=1,
                       max_epochs=2, random_state=1, progress=False, past_covariates=["p"],
                       future_covariates=["x", "cat", "flag"], static_covariates=["group"], calendar=True).fit(hist)
    enc = model.covariates_
    assert enc.kinds == {"p": "numeric", "x": "numeric", "cat": "category", "flag": "bool", "group": "category"}
    assert enc.calendar == ("hour", "dayofweek", "dayofyear")
    assert model.networks_[0].input_size == 2 + 1 + (1 + 3 + 1 + 6) + 2
    fc = model.predict(24, future=test)
    assert np.isfinite(fc.yhat).all() and len(fc) == 72
    model.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(24, future=test).yhat, fc.yhat)
    # the same history given again as new series gives the same forecasts
    np.testing.assert_allclose(model.predict(24, y=hist, future=test).yhat, fc.yhat, rtol=1e-6)


def test_seeded_fits_are_reproducible_and_the_callers_frames_untouched():
    hist, test = driven_panel(n_series=3, n=150)
    before_h, before_t = hist.copy(), test.copy()
    kw = dict(horizon=24, future_covariates=["x", "cat"], past_covariates=["p"], calendar=["hour"], **FAST)
    kw["max_epochs"] = 3
    a = Forecaster(**kw).fit(hist[["unique_id", "ds", "y", "x", "cat", "p"]]).predict(24, future=test)
    b = Forecaster(**kw).fit(hist[["unique_id", "ds", "y", "x", "cat", "p"]]).predict(24, future=test)
    np.testing.assert_array_equal(a.yhat, b.yhat)
    pd.testing.assert_frame_equal(hist, before_h)
    pd.testing.assert_frame_equal(test, before_t)


def test_no_leakage_past_covariates_after_a_cutoff_do_not_matter_future_ones_do():
    hist, test = driven_panel(n_series=3, n=200)
    full = pd.concat([hist, test]).sort_values(["unique_id", "ds"]).reset_index(drop=True)[
        ["unique_id", "ds", "y", "p", "x"]]
    model = Forecaster(horizon=24, past_covariates=["p"], future_covariates=["x"], **dict(FAST, max_epochs=3))

    def run(frame):
        return tsrnn.backtest({"m": model}, frame, horizon=24, n_windows=2, progress=False).forecasts.yhat.to_numpy()

    base = run(full)
    late = full.copy()
    last_cut = full.groupby("unique_id").ds.transform("max") - pd.Timedelta(hours=23)
    late.loc[late.ds >= last_cut, "p"] = 1e3                  # past covariate after the last cutoff
    changed = run(late)
    np.testing.assert_array_equal(base[:72], changed[:72])     # first window: nothing of it is seen
    np.testing.assert_array_equal(base, changed)               # last window: p after its cutoff is never read
    moved = full.copy()
    moved.loc[moved.ds >= last_cut, "x"] += 3.0                # future covariate over the last test window
    shifted = run(moved)
    np.testing.assert_array_equal(base[:72], shifted[:72])
    assert np.abs(base[72:] - shifted[72:]).mean() > 1.0


def test_bad_covariates_give_clear_errors_naming_the_problem():
    hist, test = driven_panel(n_series=3, n=150)
    model = Forecaster(horizon=24, future_covariates=["x", "cat"], static_covariates=["group"],
                       **dict(FAST, max_epochs=1)).fit(hist[["unique_id", "ds", "y", "x", "cat", "group"]])
    with pytest.raises(ValueError, match="unknown column.*'p'"):
        Forecaster(horizon=24, future_covariates=["x"], **FAST).fit(hist[["unique_id", "ds", "y", "x", "p"]])
    with pytest.raises(ValueError, match=r"covariate column\(s\) \['nope'\] are not in"):
        Forecaster(future_covariates=["nope"], **FAST).fit(hist)
    nan = hist.copy()
    nan.loc[5, "x"] = np.nan
    with pytest.raises(ValueError, match=r"series 's0' contains NaN values in covariate 'x'"):
        Forecaster(horizon=24, future_covariates=["x"], **FAST).fit(nan[["unique_id", "ds", "y", "x"]])
    varying = hist.copy()
    varying.loc[varying.unique_id == "s1", "group"] = ["u", "w"] * (len(varying[varying.unique_id == "s1"]) // 2)
    with pytest.raises(ValueError, match="series 's1' has static covariate 'group' varying within the series "
                                         r"\('u' at position 0, 'w' at position 1\)"):
        Forecaster(horizon=24, static_covariates=["group"], **FAST).fit(varying[["unique_id", "ds", "y", "group"]])
    with pytest.raises(ValueError, match=r"series 's0' has static covariate 'x' varying within the series "
                                         r"\(-?\d\.\d+ at position 0, -?\d\.\d+ at position 1\)"):   # plain numbers
        Forecaster(horizon=24, static_covariates=["x"], **FAST).fit(hist[["unique_id", "ds", "y", "x"]])
    for own, role in (("y", "target"), ("unique_id", "id"), ("ds", "time")):
        with pytest.raises(ValueError, match=f"'{own}' is the {role} column and cannot be a covariate too"):
            Forecaster(horizon=24, future_covariates=[own], **FAST).fit(hist[["unique_id", "ds", "y"]])
    with pytest.raises(ValueError, match="predict needs future="):
        model.predict(24)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['cat'\]"):
        model.predict(24, future=test.drop(columns="cat"))
    gap = test.drop(index=test.index[(test.unique_id == "s2")][3])
    with pytest.raises(ValueError, match="series 's2' lacks future covariate values for 2021-03-06 09:00:00 "):
        model.predict(24, future=gap)
    with pytest.raises(ValueError, match="series 's1' has no rows in the future frame"):
        model.predict(24, future=test[test.unique_id != "s1"])
    fnan = test.copy()
    fnan.loc[fnan.index[30], "x"] = np.nan
    with pytest.raises(ValueError, match="series 's1' contains NaN values in covariate 'x'"):
        model.predict(24, future=fnan)
    unseen = test.copy()
    unseen.loc[unseen.index[40], "cat"] = "zzz"
    with pytest.raises(ValueError, match=r"categorical covariate 'cat' has categories fit never saw: \['zzz'\] "
                                         r"\(first in series 's1'\)"):
        model.predict(24, future=unseen)
    dup = pd.concat([test, test.iloc[[0]]])
    with pytest.raises(ValueError, match="series 's0' has duplicate rows in the future frame"):
        model.predict(24, future=dup)
    with pytest.raises(ValueError, match="calendar features need datetime"):
        Forecaster(calendar=True, **FAST).fit(np.arange(50.0))
    with pytest.raises(ValueError, match="need a long DataFrame"):
        Forecaster(future_covariates=["x"], **FAST).fit(pd.Series(np.arange(50.0)))
    many = hist[["unique_id", "ds", "y"]].assign(c=[f"c{i}" for i in range(len(hist))])
    with pytest.raises(ValueError, match="has 378 categories; one-hot encoding takes at most 64"):
        Forecaster(future_covariates=["c"], **FAST).fit(many)
    with pytest.raises(ValueError, match="named as two kinds"):
        Forecaster(past_covariates=["x"], future_covariates=["x"], **FAST).fit(hist[["unique_id", "ds", "y", "x"]])
    with pytest.raises(ValueError, match="unknown calendar feature"):
        Forecaster(calendar=["hours"], **FAST).fit(hist[["unique_id", "ds", "y"]])


def test_forecast_lengths_with_covariates():
    """Direct head: whole horizons of future values; seq2seq (causal decoder): exactly h; past covariates
    cannot be forecast past one horizon; calendar-only models need no future frame."""
    hist, test = driven_panel(n_series=2, n=200, h=48)
    cols = ["unique_id", "ds", "y", "x"]
    direct = Forecaster(horizon=12, future_covariates=["x"], **dict(FAST, max_epochs=1)).fit(hist[cols])
    assert len(direct.predict(24, future=test)) == 48
    with pytest.raises(ValueError, match="lacks future covariate values"):
        direct.predict(13, future=test.groupby("unique_id").head(13))
    seq = Forecaster(horizon=12, head="seq2seq", future_covariates=["x"], **dict(FAST, max_epochs=1)).fit(hist[cols])
    five = seq.predict(5, future=test.groupby("unique_id").head(5))
    np.testing.assert_allclose(five.yhat, seq.predict(5, future=test).yhat)   # rows past h are not read
    past = Forecaster(horizon=12, past_covariates=["x"], **dict(FAST, max_epochs=1)).fit(hist[cols])
    with pytest.raises(ValueError, match="past covariates.*fit with horizon=24"):
        past.predict(24)
    cal = Forecaster(horizon=12, calendar=True, **dict(FAST, max_epochs=1)).fit(hist[["unique_id", "ds", "y"]])
    assert len(cal.predict(30)) == 60
    with pytest.raises(ValueError, match="fit without future_covariates"):
        cal.predict(12, future=test)


def test_calendar_features_by_frequency_and_their_encoding():
    def axis(freq):
        return to_panel(pd.Series(np.arange(10.0), index=pd.date_range("2020-01-06", periods=10, freq=freq)))
    assert default_calendar(axis("15min")) == ("minute", "hour", "dayofweek")
    assert default_calendar(axis("h")) == ("hour", "dayofweek", "dayofyear")
    assert default_calendar(axis("D")) == ("dayofweek", "dayofyear")
    assert default_calendar(axis("W-MON")) == ("weekofyear",)
    assert default_calendar(axis("MS")) == ("month",)
    assert default_calendar(axis("QS")) == ("quarter",)
    with pytest.raises(ValueError, match="yearly or longer"):
        default_calendar(axis("YS"))
    f = calendar_features(pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 12:00", "2024-01-04"]),
                          ["hour", "dayofweek"])
    np.testing.assert_allclose(f[:, 0:2], [[0, 1], [0, -1], [0, 1]], atol=1e-6)        # hour 0, 12, 0
    np.testing.assert_allclose(f[2, 2:4], [np.sin(2 * np.pi * 3 / 7), np.cos(2 * np.pi * 3 / 7)], atol=1e-6)


def test_read_future_orders_rows_by_the_history_and_ignores_the_rest():
    hist, test = driven_panel(n_series=3, n=60, h=6)
    panel = to_panel(hist[["unique_id", "ds", "y", "x"]], columns=["x"])
    extra = pd.concat([test, test.assign(ds=test.ds + pd.Timedelta(hours=6)), test.assign(unique_id="other")])
    got = read_future(extra.sample(frac=1.0, random_state=0), panel, 6, ["x"])
    np.testing.assert_array_equal(got.columns["x"].values, test.x.to_numpy())
    assert got.lengths.tolist() == [6, 6, 6]


def test_arimax_uses_its_regressors_and_is_a_registered_baseline():
    hist, test = driven_panel(n_series=2, n=200)
    assert "arimax" in tsrnn.backtesting.MODEL_NAMES
    fc = ARIMAX(future_covariates=["x"]).fit(hist[["unique_id", "ds", "y", "x"]]).predict(24, future=test)
    assert np.abs(fc.yhat.to_numpy() - test.y.to_numpy()).mean() < 1.0
    with pytest.raises(ValueError, match="needs future_covariates or calendar"):
        ARIMAX().fit(hist[["unique_id", "ds", "y"]])


def test_pipeline_step_and_cli_take_covariates(tmp_path, capsys):
    hist, test = driven_panel(n_series=2, n=150)
    cols = ["unique_id", "ds", "y", "x"]
    fc = hist[cols].pipe(tsrnn.forecast, h=24, model="lstm", future=test, future_covariates=["x"],
                         **dict(FAST, max_epochs=1))
    assert len(fc) == 48 and np.isfinite(fc.yhat).all()
    data, future, out = tmp_path / "h.csv", tmp_path / "f.csv", tmp_path / "fc.csv"
    hist[cols].to_csv(data, index=False)
    test[["unique_id", "ds", "x"]].to_csv(future, index=False)
    assert main(["forecast", str(data), "-H", "24", "--model", "gru", "--future-covariates", "x", "--future",
                 str(future), "--calendar", "-o", str(out), "--no-progress"]) == 0
    assert len(pd.read_csv(out)) == 48
    assert main(["forecast", str(data), "-H", "24", "--future-covariates", "x", "-o", str(out)]) == 2
    assert "needs --future FILE" in capsys.readouterr().err
    full = pd.concat([hist, test])[cols]
    full.to_csv(data, index=False)
    assert main(["backtest", str(data), "-H", "24", "-m", "24", "--models", "rnn,arimax,snaive", "--future-covariates",
                 "x", "--windows", "1", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "arimax" in table and "snaive" in table
