"""tsrnn.plot: forecasts with their fans, training curves and the backtest report, drawn with Agg and
checked for what a reader needs (recent history in view, one fan per level, legends outside the data)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn import Forecaster, plot  # noqa: E402
from tsrnn.datasets import load_air_passengers, load_m4  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    y = load_air_passengers()
    model = Forecaster(hidden_size=8, season_length=12, horizon=12, max_epochs=4, ensemble_size=2,
                       random_state=0, progress=False).fit(y)
    return y, model


def _saved(fig, path) -> int:
    fig.savefig(path, dpi=80)
    return path.stat().st_size


def _legend_outside(ax) -> bool:
    """The legend's box lies above the axes' data area (it never covers a line)."""
    fig = ax.figure
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    return legend.y0 >= ax.get_window_extent().y1 - 1


def test_forecast_shows_recent_history_the_forecast_and_one_fan_per_level(fitted, tmp_path):
    y, model = fitted
    fig = model.plot(y, level=[80, 95])
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"history", "forecast"} <= set(lines)
    shown = lines["history"].get_xdata()
    assert len(shown) == 60 and pd.Timestamp(shown[-1]) == y.index[-1]      # five horizons, ending at the data's end
    fans = [c for c in ax.collections if c.get_label().endswith("interval")]
    assert [c.get_label() for c in fans] == ["95 % interval", "80 % interval"]  # widest first, lighter
    assert fans[0].get_alpha() < fans[1].get_alpha()
    assert _legend_outside(ax)
    assert _saved(fig, tmp_path / "f.png") > 10_000


def test_forecast_draws_one_panel_per_series_of_a_long_frame(tmp_path):
    m4 = load_m4("Quarterly")
    ids = m4.train.unique_id.unique()[:5]
    train = m4.train[m4.train.unique_id.isin(ids)]
    fc = tsrnn.Naive().fit(train).predict(8)
    fig = plot.forecast(train, fc, max_series=3)
    assert [a.get_title(loc="right") for a in fig.axes] == list(ids[:3])
    with pytest.raises(ValueError, match="not in the forecast"):
        plot.forecast(train, fc, series=["nope"])


def test_training_curves_mark_the_kept_epoch_per_member(fitted, tmp_path):
    _, model = fitted
    fig = model.plot_training()
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "member 0: train" in labels and "member 1: validation" in labels
    kept = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(kept) == 2
    for k, line in enumerate(kept):
        assert line.get_xdata()[0] == model.best_epoch_[k]
    assert _saved(fig, tmp_path / "t.png") > 10_000


def test_backtest_report_has_metric_bars_and_series_panels(tmp_path):
    m4 = load_m4("Quarterly", sample="demo")
    result = tsrnn.backtest(["naive", "naive2", "theta"], m4.train, horizon=8, n_windows=2, season_length=4,
                            progress=False)
    fig = result.plot(history=m4.train)
    bars, panels = fig.axes[:3], fig.axes[3:]
    assert [a.get_title() for a in bars] == ["OWA", "SMAPE", "MASE"]
    assert [t.get_text() for t in bars[0].get_yticklabels()] == list(result.metrics.model)
    assert len(panels) == 3
    labels = {line.get_label() for line in panels[0].get_lines()}
    assert {"history", "actual", "naive", "naive2", "theta"} <= labels
    assert _saved(fig, tmp_path / "b.png") > 20_000


def test_plots_need_matplotlib_only_when_drawing():
    import subprocess
    import sys

    code = "import sys; sys.modules['matplotlib'] = None; import tsrnn.plot as p\n" \
           "try:\n    p.training_curves([{'train': [1.0]}])\nexcept ImportError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'tsrnn[plot]'" in out


def test_backtest_report_with_levels_adds_coverage_and_msis_and_one_fan():
    m4 = load_m4("Quarterly", sample="demo")
    train = m4.train[m4.train.unique_id.isin(m4.train.unique_id.unique()[:4])]
    result = tsrnn.backtest(["naive2", "theta"], train, horizon=8, n_windows=1, season_length=4, level=[80, 95],
                            progress=False)
    fig = result.plot(history=train)
    assert [a.get_title() for a in fig.axes[:5]] == ["OWA", "SMAPE", "MASE", "COVERAGE 95 %", "MSIS 95"]
    panel = fig.axes[5]
    fans = [c.get_label() for c in panel.collections if "interval" in c.get_label()]
    assert fans == [f"{result.metrics.model.iloc[0]}: 95 % interval"]
