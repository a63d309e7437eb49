"""The Forecaster: scikit-learn contract, input/output forms, intervals, reproducibility, save/load."""
import importlib.util
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tsrnn import Forecaster, NotFittedError, backtesting
from tsrnn.intervals import recursion_growth

FAST = dict(hidden_size=8, ensemble_size=1, max_epochs=4, samples_per_epoch=256, random_state=0, progress=False, n_threads=1)


def monthly(n=72, seed=0, level=100.0, start="2015-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = level + 10 * np.sin(2 * np.pi * t / 12) + 0.3 * t + rng.normal(size=n)
    return pd.Series(values, index=pd.date_range(start, periods=n, freq="MS"), name="sales")


def long_frame(n_series=4, n=60, integer_ds=False):
    parts = []
    for k in range(n_series):
        s = monthly(n + 3 * k, seed=k, level=50 + 20 * k)
        ds = np.arange(1, len(s) + 1) if integer_ds else s.index
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": s.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------------------
# scikit-learn contract
def test_get_set_params_and_clone():
    from sklearn.base import clone

    model = Forecaster(cell="gru", hidden_size=12, season_length=12)
    params = model.get_params()
    assert params["cell"] == "gru" and params["hidden_size"] == 12 and params["season_length"] == 12
    assert model.set_params(hidden_size=5) is model and model.hidden_size == 5
    with pytest.raises(ValueError, match="invalid parameter 'hidden'"):
        model.set_params(hidden=3)
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert "Forecaster(" in repr(model) and "cell='gru'" in repr(model)


def test_fit_returns_self_sets_underscore_attributes_and_refit_forgets():
    model = Forecaster(**FAST, season_length=12, horizon=6)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(3)
    assert model.fit(monthly()) is model
    fitted = {k for k in vars(model) if k.endswith("_") and not k.startswith("_")}
    assert {"networks_", "horizon_", "window_", "scaler_", "history_limit_", "state_", "panel_", "loss_history_",
            "residuals_", "interval_groups_", "fallbacks_"} <= fitted
    from sklearn.base import clone

    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(clone(model)))
    model.set_params(horizon=3).fit(monthly(seed=1))
    assert model.horizon_ == 3 and model.networks_[0].output_size == 3


def test_bad_parameters_are_reported_at_fit():
    for params, match in [(dict(cell="tcn"), "cell"), (dict(hidden_size=0), "hidden_size"),
                          (dict(scaler="log"), "scaler"), (dict(head="attention"), "head"), (dict(loss="huber"), "loss"),
                          (dict(device="gpu"), "device"), (dict(early_stopping=-1), "early_stopping"),
                          (dict(learning_rate=0), "learning_rate"), (dict(fill="mean"), "fill"),
                          (dict(blend="arima"), "blend")]:
        with pytest.raises(ValueError, match=match):
            Forecaster(**{**FAST, **params}).fit(monthly())


# ---------------------------------------------------------------------------------------------------
# input and output forms
def test_series_with_datetime_index_gives_series_on_the_next_timestamps():
    y = monthly()
    before = y.copy()
    f = Forecaster(**FAST, season_length=12, horizon=12).fit(y).predict(12)
    assert isinstance(f, pd.Series) and f.name == "sales" and len(f) == 12
    assert f.index[0] == pd.Timestamp("2021-01-01") and f.index.freqstr == "MS"
    assert np.isfinite(f).all() and 60 < f.mean() < 200
    pd.testing.assert_series_equal(y, before)              # input untouched


def test_period_and_range_indexes_and_numpy():
    y = monthly()
    per = pd.Series(y.to_numpy(), index=pd.period_range("2015-01", periods=len(y), freq="M"))
    f = Forecaster(**FAST, season_length=12).fit(per).predict(3)
    assert list(f.index.astype(str)) == ["2021-01", "2021-02", "2021-03"]
    rng_y = pd.Series(y.to_numpy(), index=pd.RangeIndex(10, 10 + 2 * len(y), 2))
    f = Forecaster(**FAST).fit(rng_y).predict(2)
    assert list(f.index) == [10 + 2 * len(y), 12 + 2 * len(y)]
    f = Forecaster(**FAST).fit(y.to_numpy()).predict(2)
    assert isinstance(f, pd.Series) and list(f.index) == [len(y), len(y) + 1]


@pytest.mark.parametrize("integer_ds", [False, True])
def test_long_frame_gives_long_frame_per_series(integer_ds):
    df = long_frame(integer_ds=integer_ds)
    shuffled = df.sample(frac=1.0, random_state=0)        # row order does not matter
    before = shuffled.copy()
    f = Forecaster(**FAST, season_length=12, horizon=6).fit(shuffled).predict(6)
    pd.testing.assert_frame_equal(shuffled, before)
    assert list(f.columns) == ["unique_id", "ds", "yhat"] and len(f) == 4 * 6
    last = df.groupby("unique_id")["ds"].max()
    first = f.groupby("unique_id")["ds"].min()
    for uid in last.index:
        expected = last[uid] + (1 if integer_ds else pd.offsets.MonthBegin(1))
        assert first[uid] == expected


def test_wide_frame_gives_wide_frame():
    wide = pd.DataFrame({"a": monthly(seed=1).to_numpy(), "b": monthly(seed=2).to_numpy() * 3},
                        index=monthly().index)
    f = Forecaster(**FAST, season_length=12).fit(wide).predict(4)
    assert list(f.columns) == ["a", "b"] and len(f) == 4 and f.index[0] == pd.Timestamp("2021-01-01")
    assert f["b"].mean() > 2 * f["a"].mean()               # per-series scaling keeps levels apart


def test_forecasts_keep_the_names_of_a_wide_frames_and_a_series_index(tmp_path):
    """Pandas in, pandas out: a pivoted frame's forecasts are indexed by its time axis' name and keep
    its columns' name, and a Series' keep its index name, so that they line up with the caller's data
    (before, both came back unnamed). A saved model keeps them."""
    wide = pd.DataFrame({"a": monthly(seed=1).to_numpy(), "b": monthly(seed=2).to_numpy()},
                        index=monthly().index.rename("month")).rename_axis(columns="store")
    model = Forecaster(**FAST, season_length=12, horizon=3).fit(wide)
    f = model.predict(3)
    assert f.index.name == "month" and f.columns.name == "store" and list(f.columns) == ["a", "b"]
    model.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m").predict(3)
    assert g.index.name == "month" and g.columns.name == "store"
    sales = monthly(seed=3).rename("sales").rename_axis("date")
    single = Forecaster(**FAST, season_length=12, horizon=3).fit(sales)
    point, bands = single.predict(3), single.predict(3, level=[80])
    assert point.index.name == "date" and point.name == "sales" and bands.index.name == "date"
    assert Forecaster(**FAST).fit(sales.to_numpy()).predict(2).index.name is None


def test_a_pivoted_frame_is_wide_and_integer_ids_come_back_as_integers(tmp_path):
    """``df.pivot(index="ds", ...)`` names its index "ds": still a wide frame, not a long one lacking
    columns, and its series that start later (leading NaN) are their values from their start: the same
    forecasts as from the long frame. A series ending before the last row is an error naming it. Integer
    ids come back as integers, so the forecasts merge onto the caller's frame."""
    parts = [monthly(66, seed=0, start="2015-07"), monthly(70, seed=1, start="2015-03"), monthly(72, seed=2)]
    long = pd.concat([pd.DataFrame({"unique_id": f"s{k}", "ds": s.index, "y": s.to_numpy()})   # all end 2020-12
                      for k, s in enumerate(parts)], ignore_index=True)
    wide = long.pivot(index="ds", columns="unique_id", values="y")
    assert wide.index.name == "ds" and wide.s0.isna().sum() == 6 and wide.s2.notna().all()
    before = wide.copy()
    f = Forecaster(**FAST, season_length=12, horizon=3).fit(wide).predict(3)
    pd.testing.assert_frame_equal(wide, before)
    assert list(f.columns) == ["s0", "s1", "s2"] and len(f) == 3
    g = Forecaster(**FAST, season_length=12, horizon=3).fit(long).predict(3)
    np.testing.assert_allclose(f.to_numpy().T.ravel(), g.yhat.to_numpy())
    with pytest.raises(ValueError, match=r"series 's1' ends 2 row\(s\) before the wide frame's last row"):
        Forecaster(**FAST).fit(wide.assign(s1=wide.s1.where(wide.index < wide.index[-2])))
    with pytest.raises(ValueError, match=r"series 's1' has no values"):
        Forecaster(**FAST).fit(wide.assign(s1=np.nan))
    numbered = long.assign(unique_id=lambda d: d.unique_id.str[1:].astype(np.int64))
    f = Forecaster(**FAST, season_length=12, horizon=3).fit(numbered).predict(3, level=[80])
    assert f.unique_id.dtype == np.int64 and sorted(set(f.unique_id)) == [0, 1, 2]
    last = numbered.groupby("unique_id", as_index=False).ds.max()
    assert len(last.merge(f, on="unique_id")) == 9
    short = pd.DataFrame({"unique_id": 7, "ds": pd.date_range("2020-09", periods=4, freq="MS"), "y": 5.0})
    model = Forecaster(**FAST, season_length=12, horizon=3).fit(pd.concat([numbered, short]))
    model.save(tmp_path / "m")                                   # and so do the fallbacks' ids, saved or not
    for fitted in (model, Forecaster.load(tmp_path / "m")):
        assert fitted.fallbacks_.unique_id.dtype == np.int64 and list(fitted.fallbacks_.unique_id) == [7]
        assert backtesting._fallbacks(fitted, "lstm", 1).unique_id.dtype == np.int64


def test_outputs_keep_the_callers_column_names(tmp_path):
    from tsrnn.baselines import Theta

    names = dict(id_col="store", time_col="date", target_col="sales")
    df = long_frame(n_series=3).rename(columns={"unique_id": "store", "ds": "date", "y": "sales"})
    short = pd.DataFrame({"store": "tiny", "date": pd.date_range("2020-09", periods=4, freq="MS"), "sales": 5.0})
    df = pd.concat([df, short], ignore_index=True)
    model = Forecaster(**FAST, season_length=12, horizon=3, **names).fit(df)
    f = model.predict(3, level=[80], quantiles=[0.1])
    assert list(f.columns[:3]) == ["store", "date", "yhat"] and "unique_id" not in f.columns
    last = df.groupby("store", as_index=False).date.max()
    assert len(last.merge(f, on="store")) == 12 and (f.date.groupby(f.store).min() > last.set_index("store").date).all()
    model.save(tmp_path / "m")
    for fitted in (model, Forecaster.load(tmp_path / "m")):     # and so does the fallbacks' table, saved or not
        assert list(fitted.fallbacks_.columns) == ["store", "n_obs", "rule"] and list(fitted.fallbacks_.store) == ["tiny"]
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(3, level=[80], quantiles=[0.1]), f)
    assert list(Theta(season_length=12, **names).fit(df).predict(3).columns) == ["store", "date", "yhat"]
    for clash in (Forecaster(**FAST, id_col="yhat"), Theta(time_col="yhat_lo_80"), Forecaster(**FAST, id_col="rule")):
        with pytest.raises(ValueError, match="a name the forecasts give a column of their own"):
            clash.fit(df)                                       # it would overwrite the forecasts' own column
    if importlib.util.find_spec("matplotlib"):
        import matplotlib

        matplotlib.use("Agg")
        assert [len(a.lines) for a in model.plot(df, max_series=2).axes] == [2, 2]   # history and forecast


def test_predict_on_new_unseen_series():
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(long_frame())
    new = long_frame(n_series=2).assign(unique_id=lambda d: d.unique_id.map({"s0": "new0", "s1": "new1"}))
    new["y"] *= 10
    f = model.predict(6, y=new)
    assert set(f.unique_id) == {"new0", "new1"}
    assert f[f.unique_id == "new0"].yhat.mean() > 200      # forecasts on the new series' own level


def test_predict_on_series_of_another_frequency_is_a_clear_error():
    """A monthly model given weekly or daily series says so (its networks learnt monthly dynamics);
    month ends for a model fitted on month starts are the same frequency; integer steps have none."""
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(monthly())
    for freq in ("W-SUN", "D", "QS-JAN"):
        other = pd.Series(monthly().to_numpy(), index=pd.date_range("2015-01-01", periods=72, freq=freq))
        with pytest.raises(ValueError, match=f"advance by '{freq}' steps, but the model was fit on series "
                                             "advancing by 'MS'"):
            model.predict(6, y=other)
    ends = pd.Series(monthly().to_numpy(), index=pd.date_range("2015-01-31", periods=72, freq="ME"))
    assert model.predict(6, y=ends).index[0] == pd.Timestamp("2021-01-31")
    assert len(model.predict(6, y=monthly().to_numpy())) == 6


def test_seq2seq_head_fits_saves_and_loads(tmp_path):
    model = Forecaster(**FAST, season_length=12, horizon=6, head="seq2seq", num_layers=2).fit(long_frame())
    f = model.predict(6, level=[80])
    assert np.isfinite(f.yhat).all() and model.networks_[0].head == "seq2seq"
    model.save(tmp_path / "s2s")
    pd.testing.assert_frame_equal(f, Forecaster.load(tmp_path / "s2s").predict(6, level=[80]))
    with pytest.raises(ValueError, match="unidirectional"):
        Forecaster(**FAST, head="seq2seq", bidirectional=True).fit(monthly())


def test_recursive_forecast_beyond_horizon():
    model = Forecaster(**FAST, season_length=12, horizon=4).fit(monthly())
    short, longer = model.predict(4), model.predict(10)
    np.testing.assert_allclose(longer.to_numpy()[:4], short.to_numpy())
    assert len(longer) == 10 and np.isfinite(longer).all()


def test_intervals_are_ordered_and_widen_with_level():
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(long_frame(n_series=6))
    f = model.predict(6, level=[80, 95])
    assert {"yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"} <= set(f.columns)
    assert (f.yhat_lo_95 <= f.yhat_lo_80).all() and (f.yhat_lo_80 <= f.yhat).all()
    assert (f.yhat <= f.yhat_hi_80).all() and (f.yhat_hi_80 <= f.yhat_hi_95).all()
    assert (f.yhat_hi_95 > f.yhat_lo_95).all()
    for bad in (0, 100, -5, 150, [80, "x"]):
        with pytest.raises(ValueError, match="level"):
            model.predict(3, level=bad)


def test_conformal_intervals_cover_about_as_promised():
    """Noise around a known pattern: the 80 % interval covers roughly 80 % of new points."""
    rng = np.random.default_rng(3)
    rows = []
    for k in range(30):
        t = np.arange(96)
        y = 20 + 5 * np.sin(2 * np.pi * (t + k) / 12) + rng.normal(scale=1.0, size=96)
        rows.append(pd.DataFrame({"unique_id": k, "ds": t, "y": y}))
    df = pd.concat(rows)
    train = df[df.ds < 84]
    test = df[df.ds >= 84]
    model = Forecaster(hidden_size=16, max_epochs=30, season_length=12, horizon=12, random_state=0,
                       progress=False, n_threads=1).fit(train)
    f = model.predict(12, level=[80]).merge(test, on=["unique_id", "ds"])
    coverage = ((f.y >= f.yhat_lo_80) & (f.y <= f.yhat_hi_80)).mean()
    assert 0.65 <= coverage <= 0.95


# ---------------------------------------------------------------------------------------------------
# training behaviour
def test_progress_bar_only_when_asked(capfd):
    Forecaster(**{**FAST, "progress": False}).fit(monthly()).predict(2)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    Forecaster(**{**FAST, "progress": True}).fit(monthly())
    out, err = capfd.readouterr()
    assert out == "" and "loss" in err and "4/4" in err


def test_early_stopping_restores_the_best_epoch():
    model = Forecaster(**{**FAST, "max_epochs": 40}, season_length=12, horizon=6, early_stopping=3).fit(long_frame())
    val = model.loss_history_[0]["validation"]
    assert model.best_epoch_[0] == int(np.argmin(val)) + 1
    assert len(val) <= 40 and len(val) - model.best_epoch_[0] <= 3


def test_divergence_never_gives_nan_forecasts():
    model = Forecaster(**{**FAST, "learning_rate": 1e8}, clip_norm=None, loss="mse")
    try:
        f = model.fit(monthly()).predict(3)
    except RuntimeError as exc:
        assert "diverged" in str(exc) or "non-finite" in str(exc)
    else:
        assert np.isfinite(f).all()


def test_same_seed_gives_bit_identical_forecasts_in_a_new_process(tmp_path):
    code = ("import pandas as pd, numpy as np; from tsrnn import Forecaster;"
            "t = np.arange(80); y = pd.Series(10 + np.sin(t / 3) + 0.01 * t ** 1.5);"
            "f = Forecaster(hidden_size=8, max_epochs=5, random_state=7, progress=False, n_threads=2).fit(y).predict(5);"
            "print(repr(f.to_numpy().tolist()))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    other = subprocess.run([sys.executable, "-c", code.replace("random_state=7", "random_state=8")],
                           capture_output=True, text=True, timeout=300)
    assert other.stdout != runs[0].stdout


# ---------------------------------------------------------------------------------------------------
# save / load
def test_ensemble_averages_its_members():
    one = Forecaster(**FAST, season_length=12, horizon=6).fit(long_frame())
    three = Forecaster(**{**FAST, "ensemble_size": 3}, season_length=12, horizon=6).fit(long_frame())
    assert len(three.networks_) == 3 and len(three.best_epoch_) == 3
    x = np.random.default_rng(0).normal(size=(three.window_, 2, 2)).astype(np.float32)
    mean = np.mean([n.predict(x) for n in three.networks_], axis=0)
    np.testing.assert_allclose(three._network_predict(x), mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(three.networks_[0].params, one.networks_[0].params)   # first member = single model


def test_save_load_round_trip(tmp_path):
    model = Forecaster(**{**FAST, "ensemble_size": 2}, season_length=12, horizon=6).fit(long_frame())
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "weights.npz"]
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(model.predict(8, level=[90]), loaded.predict(8, level=[90]))
    assert loaded.get_params() == model.get_params()
    assert (loaded.scaler_, loaded.history_limit_) == (model.scaler_, model.history_limit_) == ("window", None)
    series = Forecaster(**FAST).fit(monthly())
    series.save(tmp_path / "s")
    pd.testing.assert_series_equal(series.predict(3), Forecaster.load(tmp_path / "s").predict(3))
    assert Forecaster.load(tmp_path / "s").history_limit_ == series.history_limit_ == 10      # no season: "auto" is 10


def test_save_replaces_an_earlier_model_but_never_other_files(tmp_path):
    model = Forecaster(**FAST).fit(monthly())
    model.save(tmp_path / "m")
    Forecaster(**{**FAST, "random_state": 1}).fit(monthly()).save(tmp_path / "m")      # an earlier model: replaced
    assert Forecaster.load(tmp_path / "m").random_state == 1
    (tmp_path / "empty").mkdir()
    model.save(tmp_path / "empty")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "important.csv").write_text("data")
    with pytest.raises(ValueError, match=r"holds other files \(important.csv\)"):
        model.save(tmp_path / "results")
    (tmp_path / "data.csv").write_text("data")
    with pytest.raises(ValueError, match="is a file"):
        model.save(tmp_path / "data.csv")
    assert (tmp_path / "results" / "important.csv").read_text() == "data"
    assert (tmp_path / "data.csv").read_text() == "data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "empty", "m", "results"]   # no leftovers


def test_load_rejects_corrupt_foreign_and_other_version_files(tmp_path):
    model = Forecaster(**FAST).fit(monthly())
    model.save(tmp_path / "m")
    with pytest.raises(ValueError, match="no model.json"):
        Forecaster.load(tmp_path / "nothing")
    meta_path = tmp_path / "m" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "version": "9.9.0"}))
    with pytest.raises(ValueError, match="saved by tsrnn 9.9.0"):
        Forecaster.load(tmp_path / "m")
    meta_path.write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        Forecaster.load(tmp_path / "m")
    meta_path.write_text(json.dumps(meta))
    (tmp_path / "m" / "weights.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        Forecaster.load(tmp_path / "m")
    with pytest.raises(NotFittedError):
        Forecaster().save(tmp_path / "x")


# ---------------------------------------------------------------------------------------------------
# bad input: a clear error naming the problem, the caller's data untouched
def test_nan_is_reported_with_series_and_position_or_filled():
    df = long_frame()
    df.loc[(df.unique_id == "s2") & (df.ds == df[df.unique_id == "s2"].ds.iloc[10]), "y"] = np.nan
    before = df.copy()
    with pytest.raises(ValueError, match=r"series 's2' contains NaN values \(1 of 66, first at position 10\)"):
        Forecaster(**FAST).fit(df)
    pd.testing.assert_frame_equal(df, before)
    f = Forecaster(**FAST, fill="interpolate").fit(df).predict(2)
    assert np.isfinite(f.yhat).all()
    y = monthly()
    y.iloc[5] = np.inf
    with pytest.raises(ValueError, match="contains inf"):
        Forecaster(**FAST, fill="ffill").fit(y)


def test_short_series_fall_back_to_a_named_rule_or_are_an_error_when_asked():
    df = long_frame()
    tiny = pd.DataFrame({"unique_id": "tiny", "ds": pd.date_range("2020-01", periods=5, freq="MS"), "y": 3.0})
    small = pd.DataFrame({"unique_id": "small", "ds": pd.date_range("2020-01", periods=14, freq="MS"),
                          "y": np.arange(14.0) + 50})
    data = pd.concat([df, tiny, small])
    with pytest.raises(ValueError, match=r"2 series are too short.*'small', 'tiny'"):
        Forecaster(**FAST, season_length=12, horizon=6, short_series="error").fit(data)
    model = Forecaster(**FAST, season_length=12, horizon=6).fit(data)
    rules = dict(zip(model.fallbacks_.unique_id, model.fallbacks_.rule))
    assert set(rules) == {"tiny", "small"} and rules["tiny"].startswith("naive") and rules["small"].startswith("padded")
    f = model.predict(4)
    assert np.allclose(f[f.unique_id == "tiny"].yhat, 3.0)           # naive rule: the last value
    assert np.isfinite(f.yhat).all() and len(f) == 4 * 6
    alone = model.predict(4, y=tiny)                                 # unseen short series: the same rule
    assert np.allclose(alone.yhat, 3.0)
    with pytest.raises(ValueError, match="to train on.*every series"):
        Forecaster(**FAST, season_length=12, horizon=6).fit(tiny)


def test_constant_series_does_not_divide_by_zero():
    y = pd.Series(np.full(40, 5.0))
    f = Forecaster(**FAST, scaler="standard").fit(y).predict(3)
    assert np.allclose(f, 5.0, atol=1.0)
    f = Forecaster(**FAST).fit(pd.Series(np.zeros(40))).predict(3)
    assert np.isfinite(f).all()


@pytest.mark.parametrize("make,match", [
    (lambda: monthly().iloc[[0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]], "duplicate timestamps"),
    (lambda: monthly().iloc[list(range(10)) + [12, 11] + list(range(13, 30))], "unsorted timestamps"),
    (lambda: monthly().drop(monthly().index[[7]]), r"missing timestamps for frequency MS \(first missing: 2015-08-01"),
    (lambda: pd.Series(["a", "b", "c"] * 10), "must be numeric"),
    (lambda: pd.DataFrame(), "empty"),
    (lambda: pd.Series([], dtype=float), "empty"),
    (lambda: long_frame().rename(columns={"y": "value"}), r"lacks column\(s\) \['y'\]"),
    (lambda: long_frame().assign(price=1.0), r"unknown column\(s\) \['price'\]"),
    (lambda: long_frame().assign(y="x"), "column 'y' must be numeric"),
    (lambda: pd.Series(np.arange(30.0), index=pd.DatetimeIndex(["2020-01-01"] * 0 + list(
        pd.date_range("2020-01-01", periods=15, freq="D")) + list(pd.date_range("2021-01-01", periods=15, freq="W")))),
     "frequency"),
    (lambda: np.zeros((3, 3)), "1-D"),
    (lambda: {"y": [1, 2]}, "must be a pandas Series"),
])
def test_bad_inputs(make, match):
    with pytest.raises(ValueError, match=match):
        Forecaster(**FAST).fit(make())


def test_bad_horizon_requests():
    model = Forecaster(**FAST).fit(monthly())
    for h in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="h must be a positive integer"):
            model.predict(h)


def test_save_load_keeps_tz_aware_stamps_across_dst_and_unusual_ids(tmp_path):
    idx = pd.date_range("2021-03-25", periods=24 * 5, freq="h", tz="Europe/Berlin")   # DST on 2021-03-28
    y = pd.Series(10 + np.sin(np.arange(len(idx)) / 4), index=idx, name=("sales", 1))
    model = Forecaster(**FAST, season_length=24, horizon=24).fit(y)
    f = model.predict(60)
    assert str(f.index.tz) == "Europe/Berlin" and f.index.freqstr == "h" and f.name == ("sales", 1)
    assert (np.diff(f.index.asi8) == 3600 * 10**6).all()                      # one hour apart, in UTC
    model.save(tmp_path / "tz")
    pd.testing.assert_series_equal(Forecaster.load(tmp_path / "tz").predict(60), f)
    df = pd.DataFrame({"unique_id": pd.Timestamp("2020-01-01"), "ds": np.arange(40), "y": np.arange(40.0) + 1})
    stamped = Forecaster(**FAST).fit(df)
    stamped.save(tmp_path / "ids")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "ids").predict(3), stamped.predict(3))
    with pytest.raises(ValueError, match="column 'unique_id' holds ids that cannot be told apart"):
        Forecaster(**FAST).fit(df.assign(unique_id=[{1}] * 40))
    odd = Forecaster(**FAST).fit(df.assign(unique_id=[frozenset({1})] * 40))
    with pytest.raises(ValueError, match="cannot save a model whose series ids or name include"):
        odd.save(tmp_path / "odd")
    assert not (tmp_path / "odd").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ids", "tz"]


@pytest.mark.parametrize("make,match", [
    (lambda: Forecaster(**FAST, window=10**9).fit(monthly()), r"window=1000000000 is longer than the longest series"),
    (lambda: Forecaster(**FAST, deseasonalize="no").fit(monthly()), "deseasonalize must be True or False"),
    (lambda: Forecaster(**{**FAST, "progress": "no"}).fit(monthly()), "progress must be True or False"),
    (lambda: Forecaster(**FAST).fit(monthly()).predict(2, level="80"), r"level must be a number or a list.*got '80'"),
    (lambda: Forecaster(**FAST, season_length=101).fit(pd.Series(np.arange(1.0, 61.0))),
     r"horizon defaults to season_length=101\) and season_length=101 each needs at least 202 points"),
    (lambda: Forecaster(**FAST).fit(pd.Series(pd.to_timedelta(np.arange(60), unit="s"))), "must be numeric"),
    (lambda: Forecaster(**FAST).fit(pd.DataFrame({"unique_id": "a", "ds": np.arange(60),
                                                  "y": pd.to_timedelta(np.arange(60), unit="s")})), "must be numeric"),
    (lambda: Forecaster(**FAST).fit(np.ma.masked_array(np.arange(60.0), mask=[0] * 59 + [1])),
     r"contains NaN values \(1 of 60, first at position 59\)"),
])
def test_findings_of_the_reliability_review_get_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_seq2seq_forecasts_a_single_series_and_overflow_is_an_error_not_1e304():
    y = pd.Series(np.arange(1.0, 61.0))
    assert np.isfinite(Forecaster(**FAST, head="seq2seq").fit(y).predict(3)).all()     # a batch of one
    growing = pd.Series(np.exp(np.arange(60) / 2.0))     # the damped trend halves the blend's growth: still past 1e300
    with pytest.raises(RuntimeError, match="overflowing"):
        Forecaster(**FAST).fit(growing).predict(10_000)


def test_near_constant_series_are_forecast_on_their_own_scale():
    tiny = pd.Series(np.full(60, -1e-8))
    f = Forecaster(**FAST).fit(tiny).predict(3)
    assert np.all(np.abs(f) < 1e-7)                    # not +0.3: the series' own magnitude
    big = Forecaster(**FAST).fit(tiny * 1e8).predict(3)
    np.testing.assert_allclose(f * 1e8, big, rtol=1e-5)


def _walks(n_series: int, n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.concat([pd.DataFrame({"unique_id": i, "ds": np.arange(n), "y": 50.0 * (i + 1) * np.exp(np.cumsum(
        rng.normal(0.002, 0.01 * (i + 1), size=n)))}) for i in range(n_series)])


def test_auto_scaler_measures_long_histories_in_their_own_steps_and_stays_equivariant():
    df = _walks(6, 400)
    model = Forecaster(**FAST, horizon=6).fit(df)
    assert model.scaler_ == "steps"                      # 400 points >= 5 (window + horizon) = 5 (12 + 6)
    steps = [np.abs(np.diff(np.log(g.y.to_numpy()))).mean() for _, g in df.groupby("unique_id")]
    np.testing.assert_allclose(model.state_.scale, steps)
    assert Forecaster(**FAST, horizon=6).fit(df.groupby("unique_id").head(60)).scaler_ == "window"
    assert Forecaster(**FAST, horizon=6, scaler="window").fit(df).scaler_ == "window"
    bigger = Forecaster(**FAST, horizon=6).fit(df.assign(y=df.y * 1000.0)).predict(6, level=[80])
    np.testing.assert_allclose(bigger[["yhat", "yhat_lo_80", "yhat_hi_80"]],
                               1000.0 * model.predict(6, level=[80])[["yhat", "yhat_lo_80", "yhat_hi_80"]], rtol=1e-4)


def _tamper(tmp_path, edit):
    """A saved model with its model.json changed by ``edit(meta)``."""
    model = Forecaster(**FAST).fit(monthly())
    target = tmp_path / f"m{len(list(tmp_path.iterdir()))}"
    model.save(target)
    meta = json.loads((target / "model.json").read_text())
    edit(meta)
    (target / "model.json").write_text(json.dumps(meta))
    return target


@pytest.mark.parametrize("edit,match", [
    (lambda m: m["fitted"].update(predict="x"), "'fitted' must have exactly the keys"),
    (lambda m: m.update(extra=1), r"unknown keys \['extra'\]"),
    (lambda m: m["fitted"].update(horizon_=10**10), "horizon_ does not match the network"),
    (lambda m: m["network"].update(hidden_size=10**9), r"the weights \(.*\) do not fit the network described"),
    (lambda m: m["fitted"].update(window_=10**9), "window_=1000000000 does not fit the series"),
    (lambda m: m["fitted"].update(scaler_="robust"), "scaler_='robust' is not a scaler that scaler='auto' can"),
    (lambda m: m["network"].update(num_layers="2"), "corrupt or incomplete"),
    (lambda m: m["arrays"]["params"].update(sha256="0" * 64), "array 'params' of weights.npz is not the one"),
    (lambda m: m.update(format_version=99), "model format 99, newer than this tsrnn reads"),
    (lambda m: m.update(format_version=7), "model format 7, older than this tsrnn reads .*refit the model"),
    (lambda m: m.update(format_version=0), "unknown model format 0"),
    (lambda m: m["params"].update(hidden_size=-1), "hidden_size must be a positive integer"),
    (lambda m: m["fitted"].update(retrained_="yes"), "retrained_='yes' is not True or False"),
    (lambda m: m["fitted"].update(blend_="arima", blend_weight_=0.5), "blend_='arima' with blend_weight_=0.5 is not"),
    (lambda m: m["fitted"].update(blend_="ets", blend_weight_=0.0), "blend_='ets' with blend_weight_=0.0 is not"),
    (lambda m: m["fitted"].update(blend_=None, blend_weight_=0.25), "blend_=None with blend_weight_=0.25 is not"),
])
def test_load_refuses_tampered_model_files_with_a_clear_error(tmp_path, edit, match):
    with pytest.raises(ValueError, match=match):
        Forecaster.load(_tamper(tmp_path, edit))


def test_load_refuses_truncated_swapped_and_nested_files(tmp_path):
    model = Forecaster(**FAST).fit(monthly())
    model.save(tmp_path / "a")
    Forecaster(**{**FAST, "random_state": 1}).fit(monthly()).save(tmp_path / "b")
    weights = (tmp_path / "a" / "weights.npz").read_bytes()
    (tmp_path / "a" / "weights.npz").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ValueError, match="corrupt or incomplete"):
        Forecaster.load(tmp_path / "a")
    (tmp_path / "a" / "weights.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="corrupt or incomplete"):
        Forecaster.load(tmp_path / "a")
    (tmp_path / "a" / "weights.npz").write_bytes(b"garbage" + weights[7:])       # its start overwritten
    with pytest.raises(ValueError, match="weights.npz is not a NumPy .npz archive") as err:
        Forecaster.load(tmp_path / "a")
    assert "pickle" not in str(err.value)           # numpy's own message would suggest unpickling it
    (tmp_path / "a" / "weights.npz").unlink()
    with pytest.raises(ValueError, match="weights.npz is missing"):
        Forecaster.load(tmp_path / "a")
    (tmp_path / "a" / "weights.npz").write_bytes((tmp_path / "b" / "weights.npz").read_bytes())   # another model's
    with pytest.raises(ValueError, match="is not the one model.json describes"):
        Forecaster.load(tmp_path / "a")
    (tmp_path / "a" / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="corrupt"):
        Forecaster.load(tmp_path / "a")
    with pytest.raises(ValueError, match="no model.json"):
        Forecaster.load(tmp_path / "b" / "model.json")


def test_an_interrupted_fit_leaves_the_estimator_unfitted(monkeypatch):
    import tsrnn.forecaster as fc

    model = Forecaster(**FAST).fit(monthly())
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        raise KeyboardInterrupt
    monkeypatch.setattr(fc, "train_network", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(monthly(seed=3))
    assert calls and not [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    with pytest.raises(NotFittedError):
        model.predict(2)


def test_members_train_at_once_and_give_what_one_thread_each_gives(monkeypatch):
    import threading

    import tsrnn.forecaster as fc

    threads, real, lock = [], fc.train_network, threading.Lock()
    both = threading.Barrier(2, timeout=60)           # the first two members must be running together

    def recorded(*args, **kwargs):
        with lock:
            threads.append(threading.current_thread().name)
            first_two = len(threads) <= 2
        if first_two and kwargs["bar"].shared.n > 1 and threading.current_thread() is not threading.main_thread():
            both.wait()                                # BrokenBarrierError if they ran one after the other
        return real(*args, **kwargs)
    monkeypatch.setattr(fc, "train_network", recorded)
    settings = dict(FAST, ensemble_size=3, max_epochs=3)
    at_once = Forecaster(**{**settings, "n_threads": 2}).fit(monthly())
    assert len(threads) == 3 and all(name.startswith("tsrnn-member") for name in threads)
    threads.clear()
    one_by_one = Forecaster(**settings).fit(monthly())           # n_threads=1: in this thread, in turn
    assert set(threads) == {threading.current_thread().name}
    for a, b in zip(at_once.networks_, one_by_one.networks_):
        np.testing.assert_array_equal(a.params, b.params)
    assert [net.n_threads for net in at_once.networks_] == [2, 2, 2]  # forecasting uses every thread
    pd.testing.assert_series_equal(at_once.predict(3), one_by_one.predict(3))


def test_a_failing_member_stops_the_others_within_a_batch(monkeypatch):
    import tsrnn.forecaster as fc
    from tsrnn.training import Stopped

    real, seen = fc.train_network, []

    def second_fails(net, batches, **kwargs):
        if kwargs["bar"].k == 1:
            raise RuntimeError("member 2 failed")
        try:
            return real(net, batches, **{**kwargs, "max_epochs": 10**6})   # would run for hours
        except Stopped as stopped:
            seen.append(stopped)
            raise
    monkeypatch.setattr(fc, "train_network", second_fails)
    model = Forecaster(**{**FAST, "ensemble_size": 2, "n_threads": 2, "early_stopping": None})
    with pytest.raises(RuntimeError, match="member 2 failed"):
        model.fit(monthly())
    assert len(seen) == 1                                        # member 1 was stopped, not left running
    assert not [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_one_progress_line_for_the_whole_ensemble(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    Forecaster(**{**FAST, "ensemble_size": 2, "n_threads": 2, "progress": True, "max_epochs": 3}).fit(monthly())
    err = terminal.getvalue()
    assert err.count("\n") == 1 and err.endswith("\n")                 # one line, redrawn in place
    frames = [frame for frame in err.split("\r") if frame]
    assert len(frames) > 1 and frames[-1].startswith("tsrnn lstm [####################] 6/6")
    assert {f"member {k}/2" in err for k in (1, 2)} == {True}


def test_off_a_terminal_the_progress_bar_writes_whole_lines_not_redraws(capsys, monkeypatch):
    Forecaster(**{**FAST, "ensemble_size": 2, "n_threads": 2, "progress": True, "max_epochs": 3}).fit(monthly())
    err = capsys.readouterr().err                                       # a log: the final state only
    assert "\r" not in err and err.count("\n") == 1 and err.startswith("tsrnn lstm [####################] 6/6")
    assert "loss" in err
    monkeypatch.setattr("tsrnn._progress.LOG_EVERY", 0.0)               # a long fit: a line per interval
    Forecaster(**{**FAST, "progress": True, "max_epochs": 3, "early_stopping": None}).fit(monthly())
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 3 and all(line.startswith("tsrnn lstm [") for line in lines)


def test_saved_models_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        Forecaster(**FAST).fit(monthly()).save(tmp_path / "m")
    finally:
        os.umask(old)
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "m" / "model.json").stat().st_mode & 0o777 == 0o644


def test_more_findings_of_the_reliability_review():
    from tsrnn.network import Network

    net = Network("gru", 1, 4, 1, seed=0)
    x, y = np.zeros((3, 2, 1), np.float32), np.ones((2, 1), np.float32)
    with pytest.raises(ValueError, match="clip_norm must be a positive number"):
        net.train_step(x, y, __import__("tsrnn").Adam(), clip_norm=-1)
    with pytest.raises(ValueError, match="optimizer must be an optimizer"):
        net.train_step(x, y, None)
    with pytest.raises(ValueError, match=r"series 'sales' has no values: all 72 are NaN"):
        Forecaster(**FAST, fill="ffill").fit(monthly() * np.nan)
    wide = pd.DataFrame(np.ones((30, 2)), columns=["a", "a"], index=pd.date_range("2020-01", periods=30, freq="MS"))
    with pytest.raises(ValueError, match=r"duplicate column names: \['a'\]"):
        Forecaster(**FAST).fit(wide)


def test_intervals_work_on_three_short_series_with_the_default_horizon():
    """3 monthly series x 144 points, the defaults: enough held-out windows for 80 and 95 % intervals."""
    t = np.arange(144)
    frames = [pd.DataFrame({"unique_id": f"s{i}", "ds": pd.date_range("2010-01", periods=144, freq="MS"),
                            "y": 100 + 10 * i + np.sin(2 * np.pi * t / 12) + np.random.default_rng(i).normal(size=144)})
              for i in range(3)]
    fc = Forecaster(max_epochs=5, random_state=0, progress=False).fit(pd.concat(frames)).predict(6, level=[80, 95])
    assert len(fc) == 18
    assert (fc.yhat_lo_95 <= fc.yhat_lo_80).all() and (fc.yhat_lo_80 <= fc.yhat).all()
    assert (fc.yhat <= fc.yhat_hi_80).all() and (fc.yhat_hi_80 <= fc.yhat_hi_95).all()


def test_a_small_panel_is_retrained_on_every_window_with_the_held_out_fit_s_calibration(tmp_path):
    """retrain="auto": one series whose windows fill an epoch's draw holds out 80 horizons of windows,
    then its members are trained again on every window for their kept epochs; the blend and the
    intervals' calibration are the held-out fit's, the networks (and so the points) are new, and the
    same seed gives the same model, saved and loaded."""
    y = monthly(n=1300)
    kw = dict(FAST, ensemble_size=2, season_length=12, horizon=3, retrain="auto")
    held = Forecaster(**{**kw, "retrain": False}).fit(y)
    again = Forecaster(**kw).fit(y)
    assert not held.retrained_ and again.retrained_
    assert len(held.residuals_) == 200 and len(again.residuals_) == 240     # 200 windows; 80 horizons
    assert len(again.best_epoch_) == 2
    assert not np.array_equal(again.networks_[0].params, held.networks_[0].params)
    fc = again.predict(6, level=[80, 95])
    assert (fc.yhat_lo_95 < fc.yhat_lo_80).all() and (fc.yhat_hi_80 < fc.yhat_hi_95).all()
    pd.testing.assert_frame_equal(Forecaster(**kw).fit(y).predict(6, level=[80, 95]), fc)
    again.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.retrained_
    pd.testing.assert_frame_equal(loaded.predict(6, level=[80, 95]), fc)


def test_the_retrain_keeps_the_held_out_fit_s_blend_and_calibration(monkeypatch):
    """The retrain replaces only the networks: with the retrain's training made a no-op, the model
    equals the one fitted without it (same held-out windows, blend, residuals, error scale, forecasts)."""
    import tsrnn.forecaster as fc

    y = monthly(n=1300)
    kw = dict(FAST, ensemble_size=2, season_length=12, horizon=3, retrain="auto")
    again = Forecaster(**kw).fit(y)
    real = Forecaster._train_members

    def first_only(self, store, windows, layout, validation, epochs=None):
        if epochs is None:
            self._first = real(self, store, windows, layout, validation)
            return self._first
        return self._first                              # "retrained": the held-out fit's networks again
    monkeypatch.setattr(Forecaster, "_train_members", first_only)
    held = Forecaster(**kw).fit(y)
    assert held.retrained_ and again.retrained_
    assert again.best_epoch_ == held.best_epoch_ and again.loss_history_ == held.loss_history_
    assert again.blend_weight_ == held.blend_weight_
    np.testing.assert_array_equal(again.residuals_, held.residuals_)
    np.testing.assert_array_equal(again.error_scale_.slopes, held.error_scale_.slopes)
    np.testing.assert_array_equal(again.state_.insample_error, held.state_.insample_error)
    assert not np.allclose(again.predict(6), held.predict(6))


def test_retrain_runs_only_where_asked_and_where_windows_are_held_out():
    """The default never retrains; "auto" leaves a panel that holds out one horizon per series, and one
    series too short to fill an epoch's draw; True retrains them; without early stopping nothing is held out, so nothing is
    retrained; a bad value is a clear error."""
    panel = pd.concat([monthly(n=60, seed=i).rename_axis("ds").reset_index(name="y").assign(unique_id=f"s{i}")
                       for i in range(40)])                       # 40 series x 6 held-out windows >= 200
    kw = dict(FAST, season_length=12, horizon=6)
    assert not Forecaster(**kw).fit(monthly(n=1300)).retrained_           # the default: never
    assert not Forecaster(**kw, retrain="auto").fit(panel).retrained_
    assert not Forecaster(**kw, retrain="auto").fit(monthly(n=144)).retrained_  # about 100 windows < 256 a draw
    forced = Forecaster(**kw, retrain=True).fit(panel)
    assert forced.retrained_ and len(forced.best_epoch_) == 1
    assert Forecaster(**kw, retrain=True).fit(monthly(n=144)).retrained_
    assert not Forecaster(**kw, early_stopping=None, retrain=True).fit(monthly()).retrained_
    with pytest.raises(ValueError, match="retrain must be 'auto', True or False, got 'yes'"):
        Forecaster(retrain="yes").fit(monthly())


def test_intervals_adapt_to_each_series_noise_level():
    """Two groups of series, one with 10x the noise of the other: each group is covered near the nominal
    level, and the noisy group's intervals are about 10x wider (one pooled width would over-cover the
    calm group and under-cover the noisy one)."""
    rng = np.random.default_rng(0)
    n, h = 260, 6
    frames, test = [], []
    for i in range(60):
        sigma = 1.0 if i < 30 else 10.0
        y = 1000 + sigma * rng.normal(size=n + h)
        ds = np.arange(n + h)
        frames.append(pd.DataFrame({"unique_id": i, "ds": ds[:n], "y": y[:n]}))
        test.append(pd.DataFrame({"unique_id": i, "ds": ds[n:], "y": y[n:]}))
    fc = Forecaster(horizon=h, max_epochs=15, random_state=0, progress=False).fit(pd.concat(frames)) \
        .predict(h, level=[80]).merge(pd.concat(test), on=["unique_id", "ds"])
    fc["inside"] = (fc.y >= fc.yhat_lo_80) & (fc.y <= fc.yhat_hi_80)
    fc["width"] = fc.yhat_hi_80 - fc.yhat_lo_80
    calm, noisy = fc[fc.unique_id < 30], fc[fc.unique_id >= 30]
    assert 0.65 <= calm.inside.mean() <= 0.95 and 0.65 <= noisy.inside.mean() <= 0.95, \
        (calm.inside.mean(), noisy.inside.mean())
    assert 5 < noisy.width.mean() / calm.width.mean() < 20


def test_intervals_are_nested_and_monotone_in_the_level():
    rng = np.random.default_rng(3)
    y = pd.Series(50 + np.cumsum(rng.normal(size=200)), index=pd.date_range("2020-01-01", periods=200, freq="D"))
    fc = Forecaster(**FAST, horizon=7).fit(y).predict(14, level=[50, 80, 95, 99])
    levels = [50, 80, 95, 99]
    for narrow, wide in zip(levels, levels[1:]):
        assert (fc[f"yhat_lo_{wide}"] <= fc[f"yhat_lo_{narrow}"]).all()
        assert (fc[f"yhat_hi_{narrow}"] <= fc[f"yhat_hi_{wide}"]).all()
    assert (fc.yhat_lo_50 <= fc.yhat).all() and (fc.yhat <= fc.yhat_hi_50).all()


def test_quantiles_do_not_cross_and_are_the_interval_ends():
    rng = np.random.default_rng(4)
    y = pd.Series(50 + np.cumsum(rng.normal(size=200)), index=pd.date_range("2020-01-01", periods=200, freq="D"))
    model = Forecaster(**FAST, horizon=7).fit(y)
    qs = [0.025, 0.1, 0.5, 0.9, 0.975]
    fc = model.predict(14, quantiles=[0.9, 0.5, 0.1, 0.975, 0.025], level=[80, 95])
    cols = [f"yhat_q{q:g}" for q in qs]
    values = fc[cols].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()                       # no crossing, at every step
    np.testing.assert_allclose(fc["yhat_q0.5"], fc.yhat)
    np.testing.assert_allclose(fc["yhat_q0.1"], fc.yhat_lo_80)
    np.testing.assert_allclose(fc["yhat_q0.975"], fc.yhat_hi_95)
    with pytest.raises(ValueError, match="quantiles must be probabilities"):
        model.predict(3, quantiles=[1.5])


def test_intervals_are_narrow_where_the_network_forecasts_well_at_the_same_spread():
    """Two groups with the same step size (spread): smooth cycles the network forecasts closely, and
    random walks it cannot. The fitted interval unit gives the walks far wider intervals than the
    cycles, and each group is covered near the nominal level: measured 0.90 for the cycles and 0.80
    for the walks at 80 % (0.88 and 0.77 before the history and recent-spread features; the previous
    error scale, a power of the in-sample error, left the walks at 0.55-0.6; the spread alone, which is
    the same for both groups, cannot tell them apart at all)."""
    rng = np.random.default_rng(2)
    n, h = 240, 6
    frames, test = [], []
    for i in range(60):
        t = np.arange(n + h)
        if i < 30:
            y = 100 + 10 * np.sin(2 * np.pi * t / 24 + i) + 0.05 * rng.normal(size=n + h)
        else:
            y = 100 + np.cumsum(rng.normal(scale=10 * 2 * np.pi / 24 * 0.64, size=n + h))
        frames.append(pd.DataFrame({"unique_id": i, "ds": t[:n], "y": y[:n]}))
        test.append(pd.DataFrame({"unique_id": i, "ds": t[n:], "y": y[n:]}))
    model = Forecaster(horizon=h, season_length=1, max_epochs=15, random_state=0, progress=False).fit(pd.concat(frames))
    spread = model.state_.spread
    assert 0.5 < np.median(spread[30:]) / np.median(spread[:30]) < 2          # the same step size
    state = model.state_
    unit = model.error_scale_.unit(state.interval_spread(), state.step_error, state.insample_error, state.n_obs,
                                   state.recent_spread, state.phase_ratios(h)).mean(axis=1)
    assert np.median(unit[:30]) < 0.6 * np.median(unit[30:])
    fc = model.predict(h, level=[80]).merge(pd.concat(test), on=["unique_id", "ds"])
    fc["inside"] = (fc.y >= fc.yhat_lo_80) & (fc.y <= fc.yhat_hi_80)
    fc["width"] = fc.yhat_hi_80 - fc.yhat_lo_80
    cycles, walks = fc[fc.unique_id < 30], fc[fc.unique_id >= 30]
    assert walks.width.mean() > 5 * cycles.width.mean()
    assert 0.7 <= fc.inside.mean() <= 0.9, fc.inside.mean()
    assert cycles.inside.mean() >= 0.65 and walks.inside.mean() >= 0.65, (cycles.inside.mean(), walks.inside.mean())


# ---------------------------------------------------------------------------------------------------
# the blend with a statistical forecast
def trends(n_series=40, n=30, seed=0):
    """Short, noisy, trending series (yearly-like): what the Theta method forecasts well."""
    rng = np.random.default_rng(seed)
    parts = [pd.DataFrame({"unique_id": f"t{k}", "ds": np.arange(n), "y": 50 + rng.normal(0, 3) * np.arange(n)
                           + rng.normal(0, 4, n)}) for k in range(n_series)]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("blend", ["theta+damped", "theta", "ets", "auto"])
def test_the_blend_is_the_networks_forecast_and_the_statistical_one_mixed_by_the_chosen_weight(blend):
    from tsrnn.blend import curve_forecasts, store_curves

    df = trends()
    params = dict(FAST, horizon=4, max_epochs=2, scaler="standard")     # a weak network: the blend earns a share
    alone = Forecaster(**params, blend=None).fit(df)
    blended = Forecaster(**params, blend=blend).fit(df)
    assert alone.blend_weight_ == 0.0 and alone.blend_ is None and blended.blend_weight_ in (0.25, 0.5, 0.75)
    assert blended.blend_ == blend if blend != "auto" else blended.blend_ in ("theta+damped", "ets")
    w = blended.blend_weight_
    curves = blended.state_.curves
    # the curves are those of the whole prepared histories (the kept tail is too short to refit them)
    fitted = blended._prepare(blended._read(df), owned=False, encoding=blended.covariates_, intervals=False)
    np.testing.assert_allclose(curves, store_curves(fitted.z, fitted.offsets, blended.blend_))
    statistical = blended.state_.to_original(curve_forecasts(curves, 1, 4))
    want = (1 - w) * alone.predict(4).yhat.to_numpy().reshape(-1, 4) + w * statistical
    np.testing.assert_allclose(blended.predict(4).yhat.to_numpy().reshape(-1, 4), want, rtol=1e-9)
    # recursive steps past the horizon follow the curve on: still finite, and the blend's own forecast is fed back
    assert np.isfinite(blended.predict(10).yhat).all()


def test_the_blend_weight_is_zero_where_the_statistical_forecast_cannot_follow_the_pattern():
    """A clean cycle the network learns, with no seasonal adjustment: Theta's line and the damped trend
    through it only add error on the held-out windows, so they get no share."""
    t = np.arange(120)
    df = pd.concat([pd.DataFrame({"unique_id": k, "ds": t, "y": 10 + np.sin(2 * np.pi * (t + k) / 6)})
                    for k in range(6)], ignore_index=True)
    model = Forecaster(**dict(FAST, max_epochs=30, hidden_size=16), horizon=6, window=12).fit(df)
    assert model.blend_weight_ == 0.0 and model.blend_ is None
    assert not model.state_.curves.any()


def test_auto_chooses_the_partner_and_share_with_the_least_held_out_error(monkeypatch):
    """blend="auto" tries both partners at every share: its choice scores at least as well on the
    held-out windows as each single-partner fit's (the same networks: the partner does not touch
    training), and the score is the one each of those fits minimised."""
    import tsrnn.forecaster as module

    scores = {}
    choose = module.Forecaster._blend_choice

    def spy(self, network, y, partners, scale):
        choice = choose(self, network, y, partners, scale)
        kind, w = choice
        # the fit's first choice is on every held-out window; the next two cross-fit the intervals' errors
        scores.setdefault(self.blend, np.mean(np.abs(self._blended(network, partners.get(kind), w) - y) / scale))
        return choice
    monkeypatch.setattr(module.Forecaster, "_blend_choice", spy)
    df = trends()
    params = dict(FAST, horizon=4, max_epochs=2, scaler="standard")
    fits = {blend: Forecaster(**params, blend=blend).fit(df) for blend in ("auto", "theta+damped", "ets")}
    assert scores["auto"] == min(scores.values())
    best = min(("theta+damped", "ets"), key=scores.get)
    assert (fits["auto"].blend_, fits["auto"].blend_weight_) == (fits[best].blend_, fits[best].blend_weight_)
    np.testing.assert_array_equal(fits["auto"].predict(4).yhat, fits[best].predict(4).yhat)


@pytest.mark.parametrize("layout", ["two series", "one series"])
def test_the_interval_calibration_errors_come_from_a_blend_chosen_on_the_other_fold(layout):
    """Each held-out window's calibration error is that of the blend chosen on the other fold (the other
    half of the series, or of one series' windows in time), never of a choice its own error made.
    Fold A's windows favour three quarters of ETS, fold B's the networks alone: A's errors are then the
    networks' (B's choice), B's those of three quarters of ETS (A's choice). The errors are the target
    less the forecast: every forecast here is above its target of 0."""
    from types import SimpleNamespace

    n, h = 8, 2
    if layout == "two series":
        series, history = np.arange(n) % 2, np.full(n, 50)
        a = series == 0
    else:
        series, history = np.zeros(n, np.int64), 40 + np.arange(n)
        a = history <= np.median(history)
    network = np.where(a, 1.0, 0.0)[:, None] * np.ones(h)      # the targets are 0
    ets = np.where(a, 0.0, 1.0)[:, None] * np.ones(h)
    calibration = SimpleNamespace(series=series, history=history, y=np.zeros((n, h), np.float32))
    model = Forecaster()
    model.blend_, model.blend_weight_ = None, 0.0
    errors = model._cross_fitted_errors(network, calibration, {"ets": ets}, np.ones((n, 1)))
    np.testing.assert_allclose(errors[a], -1.0)
    np.testing.assert_allclose(errors[~a], -0.75)
    own = model._cross_fitted_errors(network[:1], SimpleNamespace(series=series[:1], history=history[:1],
                                                                  y=calibration.y[:1]), {"ets": ets[:1]}, np.ones((1, 1)))
    np.testing.assert_allclose(own, -1.0)                       # one window: the blend's own error
    none = model._cross_fitted_errors(network[:0], SimpleNamespace(series=series[:0], history=history[:0],
                                                                   y=calibration.y[:0]), {"ets": ets[:0]}, np.ones((0, 1)))
    assert none.shape == (0, h)


def test_the_blend_weight_and_curves_survive_save_and_load(tmp_path):
    model = Forecaster(**dict(FAST, max_epochs=2), horizon=4).fit(trends(10))
    model.save(tmp_path / "m")
    back = Forecaster.load(tmp_path / "m")
    assert (back.blend_, back.blend_weight_) == (model.blend_, model.blend_weight_)
    np.testing.assert_array_equal(back.state_.curves, model.state_.curves)
    pd.testing.assert_frame_equal(back.predict(6), model.predict(6))


# ---------------------------------------------------------------------------------------------------
# data that cannot be negative
def counts(n_series=6, n=120, seed=0):
    """Hourly-like counts: near 0 at night, high at the peak (standard-scaled: they hold zeros)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frames = [pd.DataFrame({"unique_id": f"c{k}", "ds": t,
                            "y": rng.poisson(2 + 40 * np.maximum(np.sin(2 * np.pi * t / 24), 0) ** 2).astype(float)})
              for k in range(n_series)]
    return pd.concat(frames, ignore_index=True)


def test_nonnegative_clips_forecasts_intervals_and_quantiles_at_zero_and_changes_nothing_else():
    data = counts()
    kwargs = dict(FAST, horizon=24, season_length=24)
    free = Forecaster(**kwargs).fit(data).predict(30, level=[80, 95], quantiles=[0.05, 0.5])
    clipped = Forecaster(**kwargs, nonnegative=True).fit(data).predict(30, level=[80, 95], quantiles=[0.05, 0.5])
    columns = [c for c in free.columns if c.startswith("yhat")]
    assert (free[columns] < 0).any().any()                       # the test means something
    assert (clipped[columns] >= 0).all().all()
    np.testing.assert_array_equal(clipped[columns].to_numpy(), np.maximum(free[columns].to_numpy(), 0.0))
    pd.testing.assert_frame_equal(clipped[["unique_id", "ds"]], free[["unique_id", "ds"]])


def test_nonnegative_recursive_forecast_reads_its_clipped_values():
    # sales running down to 0: the first horizon's forecast goes below 0 on some series, and the next round
    # of a recursive forecast must read 0 there (as data would be), not the negative value
    rng = np.random.default_rng(0)
    t = np.arange(80)
    data = pd.concat([pd.DataFrame({"unique_id": f"s{k}", "ds": t, "y": np.maximum(
        0, (20 + 10 * k) * (1 - t / (70 + 20 * k)) + rng.normal(0, 1.5, 80)).round()}) for k in range(6)],
        ignore_index=True)
    kwargs = dict(FAST, horizon=6)
    free = Forecaster(**kwargs).fit(data).predict(18, level=[80])
    clipped = Forecaster(**kwargs, nonnegative=True).fit(data).predict(18, level=[80])
    centre = free.yhat.to_numpy().reshape(6, 3, 6)                      # series, round, step
    upper = free.yhat_hi_80.to_numpy().reshape(6, 3, 6)
    read = clipped.yhat_hi_80.to_numpy().reshape(6, 3, 6)                # centred on the unclipped centre
    np.testing.assert_array_equal(clipped.yhat.to_numpy()[:6], np.maximum(free.yhat.to_numpy()[:6], 0))
    negative = (centre < 0).any(axis=2)
    assert negative[:, :2].any() and not negative[:, 0].all()            # the test means something
    for k in range(6):
        after = np.flatnonzero(negative[k, :2])
        last_same = after[0] + 1 if len(after) else 3                   # rounds read nothing clipped before
        np.testing.assert_array_equal(read[k, :last_same], np.maximum(upper[k, :last_same], 0))
        if last_same < 3:
            assert (read[k, last_same] != np.maximum(upper[k, last_same], 0)).any()
    assert (clipped.filter(like="yhat") >= 0).all().all()


def test_nonnegative_data_below_zero_is_an_error_naming_the_series():
    data = counts()
    bad = data.copy()
    bad.loc[(bad.unique_id == "c3") & (bad.ds == 7), "y"] = -1.5
    with pytest.raises(ValueError, match=r"nonnegative=True, but series 'c3' has values below 0 \(1 of 120, "
                                         r"first at position 7: -1.5\)"):
        Forecaster(**FAST, horizon=24, season_length=24, nonnegative=True).fit(bad)
    model = Forecaster(**FAST, horizon=24, season_length=24, nonnegative=True).fit(data)
    with pytest.raises(ValueError, match="series 'c3' has values below 0"):
        model.predict(24, y=bad)
    assert (bad.y < 0).sum() == 1                                # the caller's data untouched
    with pytest.raises(ValueError, match="nonnegative must be True or False"):
        Forecaster(**FAST, nonnegative="yes").fit(data)


def test_nonnegative_survives_save_and_load(tmp_path):
    model = Forecaster(**FAST, horizon=24, season_length=24, nonnegative=True).fit(counts())
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert loaded.nonnegative is True
    pd.testing.assert_frame_equal(loaded.predict(24, level=[95]), model.predict(24, level=[95]))


def test_steps_past_the_horizon_get_the_phase_ratio_of_their_own_hour():
    """A horizon shorter than the season: the recursive steps reuse the last horizon's interval units
    but each takes the phase ratio of its own point (the night stays narrow, the peak wide)."""
    model = Forecaster(**FAST, horizon=6, season_length=24).fit(counts())
    fc = model.predict(48, level=[90])
    width = (fc.yhat_hi_90 - fc.yhat_lo_90).to_numpy().reshape(-1, 48)
    state, slope = model.state_, model.error_scale_.slopes[-1]
    assert slope > 0.2                                            # counts err more at the peak
    steps = np.arange(48)
    per_round = width / recursion_growth(state.step_error, state.round_error, 48)   # the recursion's growth out
    phase = state.phase_ratio[:, steps % 24]
    for s1, s2 in [(2, 14), (8, 38), (27, 45)]:                   # same network step (s % 6), other hours
        assert s1 % 6 == s2 % 6
        want = (np.clip(phase[:, s2], np.exp(-5), np.exp(5)) / np.clip(phase[:, s1], np.exp(-5), np.exp(5))) ** slope
        np.testing.assert_allclose(per_round[:, s2] / per_round[:, s1], want, rtol=1e-8)
    assert np.ptp(np.log(phase[0])) > 0.5                        # and the hours do differ
