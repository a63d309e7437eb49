"""Every example in examples/ runs with its small settings (--quick), so that examples never rot, and
the pictures they write exist and are of a real size."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".sh"))
PICTURES = {"quickstart.py": ["quickstart_forecast.png", "quickstart_training.png"],
            "m4_backtest.py": ["m4_backtest.png"], "pipeline.py": ["pipeline_forecast.png"],
            "sktime_usage.py": ["sktime_forecast.png"], "covariates.py": ["covariates_forecast.png"],
            "cli_walkthrough.sh": ["backtest/backtest.png"], "network_hourly.py": []}


def test_every_example_is_listed_here():
    assert sorted(PICTURES) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_and_writes_its_pictures(name, tmp_path):
    script = ROOT / "examples" / name
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               MPLBACKEND="Agg")
    if name.endswith(".sh"):
        cmd = ["bash", str(script), "--quick", str(tmp_path)]
    elif name == "network_hourly.py":
        cmd = [sys.executable, str(script), "--quick"]
    else:
        cmd = [sys.executable, str(script), "--quick", "--output", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    for picture in PICTURES[name]:
        path = tmp_path / picture
        assert path.exists(), f"{name} did not write {picture}"
        assert path.stat().st_size > 20_000, f"{picture} is only {path.stat().st_size} bytes"


def test_make_demo_writes_its_report(tmp_path):
    """The Makefile's demo command itself (read from the Makefile), with short training and another
    output folder: it runs and writes the backtest report picture."""
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    command = " ".join(line.strip().rstrip("\\") for line in recipe.splitlines()[1:])
    args = command.split()
    assert args[0] == "$(VENV)/bin/tsrnn" and "--output" in args
    args[args.index("--output") + 1] = str(tmp_path / "demo")
    res = subprocess.run([sys.executable, "-m", "tsrnn", *args[1:], "--max-epochs", "2", "--no-progress"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "rank" in res.stdout and "naive2" in res.stdout
    picture = tmp_path / "demo" / "backtest.png"
    assert picture.exists() and picture.stat().st_size > 20_000
