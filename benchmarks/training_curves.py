"""Numerical safety on real data: every training curve (train and validation loss of every epoch and
ensemble member) of the default Forecaster is finite, on every frequency of the bundled M4 dev sample and
seeds 0, 1, 2.

Usage: python benchmarks/training_curves.py [--markdown benchmarks/results/training-curves.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FREQS = {"Yearly": (6, 1), "Quarterly": (8, 4), "Monthly": (18, 12), "Weekly": (13, 1), "Hourly": (48, 24)}


def main(argv=None) -> int:
    from tsrnn import Forecaster

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markdown")
    args = ap.parse_args(argv)
    rows, bad = ["| frequency | seed | loss values | all finite |", "|---|---|---|---|"], []
    for freq, (h, m) in FREQS.items():
        train = pd.read_csv(ROOT / "data" / "m4" / f"train-{freq}.csv")
        for seed in (0, 1, 2):
            model = Forecaster(horizon=h, season_length=m, random_state=seed, progress=False).fit(train)
            curves = [v for hist in model.loss_history_ for key in ("train", "validation") for v in hist[key]]
            finite = bool(np.isfinite(curves).all())
            bad += [] if finite else [(freq, seed)]
            rows.append(f"| {freq} | {seed} | {len(curves)} | {'yes' if finite else '**no**'} |")
            print(rows[-1], flush=True)
    text = "\n".join(["# Training curves on the M4 dev sample", "", "`python benchmarks/training_curves.py`", ""]
                     + rows + ["", "all finite" if not bad else f"non-finite: {bad}"])
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
