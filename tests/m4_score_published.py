# Copied unchanged (below this header) from shared/data/m4-dev/score_published.py, the M4 scorer that
# the project uses as the reference; tests/test_metrics.py checks tsrnn.metrics against it.
#!/usr/bin/env python3
"""Score point forecasts on an M4 sample the way the M4 Competition did.

Needs only numpy and pandas.  By default it scores the published (submitted) forecasts
stored next to this script; point --dir at another sample folder (e.g. the dev set) and/or
add your own forecasts with --forecasts.

Files expected in --dir (plain .csv or .csv.gz):
  train-<Freq>.csv      unique_id, ds, y   (in-sample history, ds = 1..n)
  test-<Freq>.csv       unique_id, ds, y   (the h held-out values, ds = n+1..n+h)
  forecasts-<Freq>.csv  unique_id, step, <one column per method>   (step = 1..h)
Extra forecast files (--forecasts, repeatable) have the same layout as forecasts-<Freq>.csv;
their unique_id prefix (Y/Q/M/W/D/H) tells the frequency.

Metrics (M4 definitions, see README):
  sMAPE_i = (200/h) * sum_t |y_t - f_t| / (|y_t| + |f_t|)
  MASE_i  = (1/h) * sum_t |y_t - f_t|  /  ( 1/(n-m) * sum_{j=m+1..n} |x_j - x_{j-m}| )
  m = 1 Yearly, 4 Quarterly, 12 Monthly, 1 Weekly, 1 Daily, 24 Hourly
  frequency score = mean over that frequency's series; "All" = mean over all series;
  OWA = ( sMAPE/sMAPE_naive2 + MASE/MASE_naive2 ) / 2, computed from the group means.

Usage:
  python score_published.py                       # published forecasts, this folder
  python score_published.py --dir ../../shared/data/m4-dev
  python score_published.py --forecasts my_lstm.csv --markdown
"""
import argparse
import glob
import os
import re
import sys

import numpy as np
import pandas as pd

FREQS = ["Yearly", "Quarterly", "Monthly", "Weekly", "Daily", "Hourly"]
SEASONALITY = {"Yearly": 1, "Quarterly": 4, "Monthly": 12, "Weekly": 1, "Daily": 1, "Hourly": 24}
HORIZON = {"Yearly": 6, "Quarterly": 8, "Monthly": 18, "Weekly": 13, "Daily": 14, "Hourly": 48}
PREFIX = {f[0]: f for f in FREQS}
BASE = "naive2"


def _read(folder, stem):
    for ext in (".csv", ".csv.gz"):
        p = os.path.join(folder, stem + ext)
        if os.path.exists(p):
            return pd.read_csv(p)
    return None


def smape_per_series(y, f):
    """y, f: (n_series, h) arrays -> (n_series,) sMAPE in percent."""
    return np.mean(200.0 * np.abs(y - f) / (np.abs(y) + np.abs(f)), axis=1)


def mase_scale(x, m):
    x = np.asarray(x, dtype=float)
    if len(x) <= m:
        return np.nan
    return np.mean(np.abs(x[m:] - x[:-m]))


def score_frequency(freq, train, test, fc):
    """Returns per-series DataFrame: unique_id, freq, method, smape, mase."""
    h, m = HORIZON[freq], SEASONALITY[freq]
    test = test.sort_values(["unique_id", "ds"])
    ids = test["unique_id"].drop_duplicates().tolist()
    y = test["y"].to_numpy(float).reshape(len(ids), -1)
    if y.shape[1] != h:
        raise SystemExit(f"{freq}: test has {y.shape[1]} steps per series, expected {h}")
    scale = train.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False)["y"] \
        .apply(lambda s: mase_scale(s.to_numpy(), m))
    scale = scale.reindex(ids).to_numpy(float)
    methods = [c for c in fc.columns if c not in ("unique_id", "step")]
    fc = fc.set_index(["unique_id", "step"]).sort_index()
    want = pd.MultiIndex.from_product([ids, range(1, h + 1)], names=["unique_id", "step"])
    out = []
    for meth in methods:
        col = fc[meth].reindex(want)
        f = col.to_numpy(float).reshape(len(ids), h)
        complete = ~np.isnan(f).any(axis=1)
        sm = np.full(len(ids), np.nan)
        ms = np.full(len(ids), np.nan)
        sm[complete] = smape_per_series(y[complete], f[complete])
        ms[complete] = np.mean(np.abs(y[complete] - f[complete]), axis=1) / scale[complete]
        out.append(pd.DataFrame({"unique_id": ids, "freq": freq, "method": meth,
                                 "smape": sm, "mase": ms}))
    return pd.concat(out, ignore_index=True)


def summarise(per_series):
    rows = []
    groups = [(f, per_series[per_series.freq == f]) for f in FREQS if (per_series.freq == f).any()]
    groups.append(("All", per_series))
    for name, g in groups:
        agg = g.groupby("method").agg(n=("smape", "count"), smape=("smape", "mean"), mase=("mase", "mean"))
        n_expected = g["unique_id"].nunique()
        for meth, r in agg.iterrows():
            rows.append({"group": name, "method": meth, "n_series": int(r.n),
                         "complete": int(r.n) == n_expected, "sMAPE": r.smape, "MASE": r.mase})
    res = pd.DataFrame(rows)
    owa = []
    for _, r in res.iterrows():
        b = res[(res.group == r.group) & (res.method == BASE)]
        if len(b) and r.complete and bool(b.complete.iloc[0]):
            owa.append(0.5 * (r.sMAPE / b.sMAPE.iloc[0] + r.MASE / b.MASE.iloc[0]))
        else:
            owa.append(np.nan)
    res["OWA"] = owa
    return res


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=here, help="sample folder (default: this script's folder)")
    ap.add_argument("--forecasts", action="append", default=[],
                    help="extra forecasts csv (unique_id, step, method columns); repeatable")
    ap.add_argument("--no-published", action="store_true", help="ignore forecasts-<Freq>.csv files")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--per-series", help="also write per-series scores to this csv")
    a = ap.parse_args(argv)

    extra = [pd.read_csv(p) for p in a.forecasts]
    parts = []
    for freq in FREQS:
        train, test = _read(a.dir, f"train-{freq}"), _read(a.dir, f"test-{freq}")
        if train is None or test is None:
            continue
        fcs = []
        if not a.no_published:
            pub = _read(a.dir, f"forecasts-{freq}")
            if pub is not None:
                fcs.append(pub)
        for e in extra:
            sel = e[e["unique_id"].astype(str).str[0].map(PREFIX) == freq]
            if len(sel):
                fcs.append(sel)
        if not fcs:
            continue
        fc = fcs[0]
        for other in fcs[1:]:
            fc = fc.merge(other, on=["unique_id", "step"], how="outer", suffixes=("", "_extra"))
        parts.append(score_frequency(freq, train, test, fc))
    if not parts:
        raise SystemExit(f"nothing to score in {a.dir}")
    per_series = pd.concat(parts, ignore_index=True)
    if a.per_series:
        per_series.to_csv(a.per_series, index=False)
    res = summarise(per_series)

    order = [f for f in FREQS + ["All"] if f in set(res.group)]
    wide = {}
    for metric, fmt in (("sMAPE", "{:.3f}"), ("MASE", "{:.3f}"), ("OWA", "{:.3f}")):
        t = res.pivot(index="method", columns="group", values=metric)[order]
        wide[metric] = t.apply(lambda c: c.map(lambda v: "" if pd.isna(v) else fmt.format(v)))
    counts = res.pivot(index="method", columns="group", values="n_series")[order]
    n_line = " ".join(f"{g}={int(counts[g].max())}" for g in order)
    print(f"# folder: {os.path.abspath(a.dir)}")
    print(f"# series scored: {n_line}")
    incomplete = res[~res.complete]
    if len(incomplete):
        print("# WARNING: some methods lack forecasts for some series (no OWA for them):")
        for _, r in incomplete.iterrows():
            print(f"#   {r.method} in {r.group}: {r.n_series} series")
    for metric, t in wide.items():
        print(f"\n## {metric}")
        if a.markdown:
            cols = ["method"] + order
            print("| " + " | ".join(cols) + " |")
            print("|" + "---|" * len(cols))
            for meth, r in t.iterrows():
                print("| " + " | ".join([meth] + [r[g] for g in order]) + " |")
        else:
            print(t.to_string())
    return res


if __name__ == "__main__":
    main()
