"""tsrnn.metrics against hand-computed values and against the M4 reference scorer on the bundled sample."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import m4_score_published as ref
from tsrnn import metrics

DATA = Path(__file__).resolve().parent.parent / "data" / "m4"
FREQS = {"Yearly": 1, "Quarterly": 4, "Monthly": 12, "Weekly": 1, "Hourly": 24}


def test_formulas_on_small_cases():
    y, f = np.array([100.0, 200.0, 0.0]), np.array([110.0, 180.0, 0.0])
    assert metrics.mae(y, f) == pytest.approx(10.0)
    assert metrics.rmse(y, f) == pytest.approx(np.sqrt((100 + 400) / 3))
    assert metrics.smape(y, f) == pytest.approx(200 / 3 * (10 / 210 + 20 / 380))   # 0/0 term counts 0
    assert metrics.mase(y, f, y_train=[1.0, 3.0, 2.0, 6.0], m=2) == pytest.approx(10.0 / 2.0)
    assert metrics.mape([100, 200], [110, 180]) == pytest.approx(10.0)
    assert metrics.owa(10.0, 1.0, 20.0, 4.0) == pytest.approx(0.375)


def test_metric_argument_errors():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mae([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        metrics.smape([], [])
    with pytest.raises(ValueError, match="undefined"):
        metrics.mape([0, 1], [1, 1])
    with pytest.raises(ValueError, match="more than m=4"):
        metrics.mase([1], [1], y_train=[1, 2, 3], m=4)


def _tsrnn_scores(freq, m, method):
    train = pd.read_csv(DATA / f"train-{freq}.csv")
    test = pd.read_csv(DATA / f"test-{freq}.csv")
    fc = pd.read_csv(DATA / f"forecasts-{freq}.csv")
    sm, ms = [], []
    hist = dict(tuple(train.sort_values(["unique_id", "ds"]).groupby("unique_id")["y"]))
    for uid, g in test.sort_values(["unique_id", "ds"]).groupby("unique_id"):
        f = fc[fc.unique_id == uid].sort_values("step")[method].to_numpy()
        sm.append(metrics.smape(g.y, f))
        ms.append(metrics.mase(g.y, f, hist[uid].to_numpy(), m))
    return np.mean(sm), np.mean(ms)


def test_reproduces_the_m4_scorer_for_published_forecasts():
    """sMAPE / MASE / OWA of Naive2, SES and AutoBox per frequency and overall, to 3 decimals."""
    parts = [ref.score_frequency(freq, pd.read_csv(DATA / f"train-{freq}.csv"), pd.read_csv(DATA / f"test-{freq}.csv"),
                                 pd.read_csv(DATA / f"forecasts-{freq}.csv")) for freq in FREQS]
    expected = ref.summarise(pd.concat(parts, ignore_index=True)).set_index(["group", "method"])
    ours = {}
    for freq, m in FREQS.items():
        for method in ("naive2", "ses", "autobox_024"):
            ours[freq, method] = _tsrnn_scores(freq, m, method)
    n = {"Yearly": 200, "Quarterly": 200, "Monthly": 200, "Weekly": 50, "Hourly": 50}
    for method in ("naive2", "ses", "autobox_024"):
        for freq in FREQS:
            sm, ms = ours[freq, method]
            b_sm, b_ms = ours[freq, "naive2"]
            row = expected.loc[(freq, method)]
            assert round(sm, 3) == round(row.sMAPE, 3) and round(ms, 3) == round(row.MASE, 3)
            assert round(metrics.owa(sm, ms, b_sm, b_ms), 3) == round(row.OWA, 3)
        total = sum(n.values())
        sm = sum(ours[f, method][0] * n[f] for f in FREQS) / total
        ms = sum(ours[f, method][1] * n[f] for f in FREQS) / total
        b_sm = sum(ours[f, "naive2"][0] * n[f] for f in FREQS) / total
        b_ms = sum(ours[f, "naive2"][1] * n[f] for f in FREQS) / total
        row = expected.loc[("All", method)]
        assert round(metrics.owa(sm, ms, b_sm, b_ms), 3) == round(row.OWA, 3)
    # and the numbers printed in the data set's README (score_published.py --markdown)
    assert round(ours["Monthly", "ses"][0], 3) == 26.328 and round(ours["Hourly", "autobox_024"][1], 3) == 1.519
