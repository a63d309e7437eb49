"""tsrnn on a real Dask LocalCluster (2 worker processes): fit, predict and backtest give what the local
run gives; a killed worker is replaced and the run completes with the same result; bad data in one
partition gets the local error."""
import copy
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import tsrnn  # noqa: E402
from tsrnn import Forecaster, cluster  # noqa: E402
from tsrnn.cli import main  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "m4-quarterly-40.csv")
KW = dict(season_length=4, horizon=8, max_epochs=6, hidden_size=16, random_state=0, progress=False, n_threads=1)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            distributed.Client(lc) as c:
        yield c


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(DATA)


def test_fit_and_predict_from_a_dask_dataframe_equal_the_pandas_path(client, frame):
    local = Forecaster(**KW).fit(frame)
    expected = local.predict(8, level=[80])
    ddf = dd.from_pandas(frame, npartitions=3, sort=False)          # series split over partitions: shuffled
    fitted = cluster.fit(Forecaster(**KW), ddf, client)
    pd.testing.assert_frame_equal(fitted.predict(8, level=[80]), expected)
    assert fitted.loss_history_ == local.loss_history_ and fitted.best_epoch_ == local.best_epoch_
    # new histories forecast where they lie: the same forecasts up to float32 rounding (the network's
    # batches differ in size, which changes the order of a sum in its last bits)
    out = cluster.predict(fitted, 8, data=ddf, client=client)
    assert hasattr(out, "compute")
    got = out.compute().sort_values(["unique_id", "ds"]).reset_index(drop=True)
    np.testing.assert_allclose(got.yhat, expected.yhat, rtol=1e-6)
    assert list(got.unique_id.unique()) == list(expected.unique_id.unique())
    indexed = frame.set_index(["unique_id", "ds"])          # ids and times as index levels, as locally
    pd.testing.assert_frame_equal(cluster.fit(Forecaster(**KW), indexed, client).predict(8, level=[80]), expected)


def test_constant_series_leave_the_calibration_on_a_cluster_as_locally(client, frame):
    some = frame[frame.unique_id.isin(frame.unique_id.unique()[:6])]
    flat = some.assign(unique_id="flat " + some.unique_id, y=100.0)   # forecast by the constant rule
    both = pd.concat([some, flat], ignore_index=True)
    local = Forecaster(**KW).fit(both)
    fitted = cluster.fit(Forecaster(**KW), dd.from_pandas(both, npartitions=3, sort=False), client)
    np.testing.assert_array_equal(fitted.residuals_, local.residuals_)
    pd.testing.assert_frame_equal(fitted.predict(8, level=[80]), local.predict(8, level=[80]))


def test_a_history_limit_trains_on_the_same_recent_windows_on_a_cluster_as_locally(client, frame):
    kw = {**KW, "season_length": 1, "horizon": 2, "samples_per_epoch": 256}   # "auto": 20 windows a series
    local = Forecaster(**kw).fit(frame)
    lengths = frame.groupby("unique_id", sort=False).size().to_numpy()
    every = copy.copy(local)
    every.history_limit_ = None                                 # as if fitted with history_limit=None
    assert local._windows(lengths).count.max() == 20 and local._windows(lengths).total < every._windows(lengths).total
    fitted = cluster.fit(Forecaster(**kw), dd.from_pandas(frame, npartitions=3, sort=False), client)
    assert fitted.loss_history_ == local.loss_history_
    pd.testing.assert_frame_equal(fitted.predict(2, level=[80]), local.predict(2, level=[80]))


def test_partitions_left_empty_by_the_shuffle_are_skipped(client, frame):
    two = frame[frame.unique_id.isin(frame.unique_id.unique()[:2])]
    ddf = dd.from_pandas(two, npartitions=4, sort=False)        # two series over four partitions: two left empty
    expected = Forecaster(**KW).fit(two).predict(8)
    pd.testing.assert_frame_equal(cluster.fit(Forecaster(**KW), ddf, client).predict(8), expected)
    local = Forecaster(**KW, retrain=True).fit(two)           # a small panel retrained on workers as locally
    fitted = cluster.fit(Forecaster(**KW, retrain=True), ddf, client)
    assert local.retrained_ and fitted.retrained_ and fitted.best_epoch_ == local.best_epoch_
    pd.testing.assert_frame_equal(fitted.predict(8, level=[80]), local.predict(8, level=[80]))
    with pytest.raises(ValueError, match="empty"):
        cluster.fit(Forecaster(**KW), dd.from_pandas(two.iloc[:0], npartitions=1), client)


def test_backtest_metrics_are_identical_locally_and_at_one_and_two_workers(client, frame):
    kw = dict(horizon=8, n_windows=2, season_length=4, progress=False, max_epochs=3, hidden_size=8, random_state=0,
              n_threads=1)
    models = ["gru", "naive2", "theta"]
    local = tsrnn.backtest(models, frame, **kw)
    two = cluster.backtest(models, frame, client=client, **kw)
    one = cluster.backtest(models, frame, workers=1, **kw)
    for result in (one, two):
        pd.testing.assert_frame_equal(result.metrics, local.metrics)
        pd.testing.assert_frame_equal(result.forecasts, local.forecasts)
    no_refit = cluster.backtest(models, frame, client=client, refit=False, **kw)
    pd.testing.assert_frame_equal(no_refit.metrics, tsrnn.backtest(models, frame, refit=False, **kw).metrics)
    kw3 = dict(kw, n_windows=3)                    # refit=2: one task per model for windows 1-2, one for 3
    every_2 = cluster.backtest(["gru"], frame, client=client, refit=2, **kw3)
    pd.testing.assert_frame_equal(every_2.forecasts, tsrnn.backtest(["gru"], frame, refit=2, **kw3).forecasts)


def test_a_killed_worker_is_replaced_and_the_fit_completes_with_the_same_result(client, frame):
    kw = dict(KW, max_epochs=40, early_stopping=None)
    expected = Forecaster(**kw).fit(frame).predict(8)
    pids = client.run(os.getpid)                    # worker address -> process id
    killed = []

    def kill():                                     # the worker training an ensemble member, mid-training
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for address, keys in client.processing().items():
                if any("_train_member" in str(k) for k in keys) and address in pids:
                    time.sleep(0.3)
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append(address)
                    return
            time.sleep(0.02)
    threading.Thread(target=kill, daemon=True).start()
    fitted = cluster.fit(Forecaster(**kw), frame, client)
    assert killed, "the fit ended before the worker was killed: make it longer"
    pd.testing.assert_frame_equal(fitted.predict(8), expected)
    client.wait_for_workers(2, timeout=60)


def test_a_bad_series_in_one_partition_gets_the_local_error(client, frame):
    bad = frame.copy()
    bad.loc[bad.index[bad.unique_id == bad.unique_id.iloc[-1]][3], "y"] = np.nan
    with pytest.raises(ValueError) as local:
        Forecaster(**KW).fit(bad)
    with pytest.raises(ValueError) as remote:
        cluster.fit(Forecaster(**KW), dd.from_pandas(bad, npartitions=2, sort=False), client)
    assert str(remote.value) == str(local.value)
    assert "contains NaN values" in str(remote.value)


def with_covariates(frame, h=8):
    """The series with a covariate of every kind, as training rows and the next ``h`` rows' future values."""
    rng = np.random.default_rng(0)
    ids = frame.unique_id.unique()
    quarters = pd.period_range("1980Q1", periods=frame.ds.max(), freq="Q").to_timestamp()
    frame = frame.assign(ds=quarters[frame.ds.to_numpy() - 1])              # dates, for the calendar features
    region = pd.Categorical(rng.choice(["south", "north", "east"], len(ids)), categories=["south", "north", "east"])
    df = frame.assign(price=rng.normal(size=len(frame)), promo=rng.random(len(frame)) < 0.3,
                      weather=rng.normal(size=len(frame)),
                      region=frame.unique_id.map(dict(zip(ids, region))).astype(region.dtype),
                      size=frame.unique_id.map(dict(zip(ids, rng.uniform(1, 9, len(ids))))))
    last = df.groupby("unique_id").cumcount(ascending=False) < h
    return df[~last].reset_index(drop=True), df[last][["unique_id", "ds", "price", "promo"]].reset_index(drop=True)


COVARIATES = dict(past_covariates=["weather"], future_covariates=["price", "promo"],
                  static_covariates=["region", "size"], calendar=True)


def test_covariates_of_every_kind_fit_and_forecast_on_a_cluster_as_locally(client, frame):
    train, future = with_covariates(frame)
    local = Forecaster(**COVARIATES, **KW).fit(train)
    expected = local.predict(8, level=[80], future=future)
    ddf = dd.from_pandas(train, npartitions=3, sort=False)           # series split over partitions: shuffled
    fitted = cluster.fit(Forecaster(**COVARIATES, **KW), ddf, client)
    assert fitted.covariates_.categories == local.covariates_.categories == {"region": ("south", "north", "east")}
    np.testing.assert_array_equal(fitted.covariates_.static_scale, local.covariates_.static_scale)
    pd.testing.assert_frame_equal(fitted.predict(8, level=[80], future=future), expected)
    assert fitted.loss_history_ == local.loss_history_
    # new histories forecast where they lie, each partition reading its series' future rows
    got = cluster.predict(fitted, 8, data=ddf, client=client, level=[80], future=future, compute=True)
    got = got.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    np.testing.assert_allclose(got.yhat, expected.yhat, rtol=1e-6)
    forecast = cluster.forecast(Forecaster(**COVARIATES, **KW), train, 8, client=client, future=future)
    pd.testing.assert_frame_equal(forecast, expected.drop(columns=["yhat_lo_80", "yhat_hi_80"]))


def test_a_problem_of_the_whole_frame_is_reported_once_not_per_partition(client, frame):
    with pytest.raises(ValueError) as remote:
        cluster.fit(Forecaster(future_covariates=["nope"], **KW), frame, client)
    assert str(remote.value) == "covariate column(s) ['nope'] are not in the long DataFrame; it has " \
                                "['unique_id', 'ds', 'y']"


def test_a_covariate_of_two_kinds_across_partitions_is_a_clear_error():
    metas = [{"kinds": {"promo": "bool"}, "values": {}, "calendar": ()},
             {"kinds": {"promo": "category"}, "values": {"promo": pd.Series(["yes"])}, "calendar": ()}]
    with pytest.raises(ValueError, match="'promo' is bool in some partitions and category in others"):
        cluster._encoding(metas, (), ("promo",), ())


def test_cli_backtest_and_forecast_on_workers(tmp_path, capsys, frame):
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    args = ["-H", "8", "-m", "4", "--no-progress", "--seed", "0"]
    assert main(["backtest", str(path), "--models", "naive2,theta", "--workers", "2", *args]) == 0
    assert "theta" in capsys.readouterr().out
    out = tmp_path / "f.csv"
    assert main(["forecast", str(path), "--model", "naive2", "--workers", "2", "-o", str(out), *args]) == 0
    local = tmp_path / "g.csv"
    assert main(["forecast", str(path), "--model", "naive2", "-o", str(local), *args]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(local))
