"""Accuracy on real M4 series: tsrnn's default Forecaster against its own statsmodels baselines, the
statsforecast peers (AutoARIMA, AutoETS, AutoTheta) and the forecasts actually submitted to M4.

For every frequency in --data (the layout of data/m4: train-<Freq>.csv, test-<Freq>.csv, optional
forecasts-<Freq>.csv with the published forecasts), each model is fitted on the training part and
forecasts the M4 horizon (Yearly 6, Quarterly 8, Monthly 18, Weekly 13, Hourly 48; season length
1/4/12/1/24). The default Forecaster is one global model per frequency:
``Forecaster(horizon=h, season_length=m, random_state=seed)`` and nothing else.

Scores follow the M4 rules (score_published.py): per-series sMAPE and MASE, means per frequency and
over all series, OWA against Naive2 on the same series. Wall time per model and frequency (fit +
predict) is recorded. With ``--level 80 95`` every model also forecasts its intervals (the
statsforecast peers their own ``level=``), scored M4's way: coverage (share of test points inside)
and MSIS (mean scaled interval score, scaled by the in-sample seasonal-naive MAE with M4's m), each per
series and averaged over the series; the coverage tables also give the share of all test points inside.

Usage:
    python benchmarks/m4.py --data data/m4 [--out DIR] [--models tsrnn,naive2,arima,ets,theta,sf_arima,sf_ets,sf_theta]
                            [--seeds 0 1 2] [--freqs Yearly,Monthly] [--level 80 95]

--out writes forecasts-<model>.csv per model in score_published.py's input layout (unique_id, step,
<model>), the printed tables as results.md and every model's per-series metrics as scores.csv.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tsrnn import metrics  # noqa: E402

FREQS = {"Yearly": (6, 1), "Quarterly": (8, 4), "Monthly": (18, 12), "Weekly": (13, 1), "Hourly": (48, 24)}
PUBLISHED = ("naive2", "ses", "autobox_024")
OURS = ("tsrnn", "naive2", "arima", "ets", "theta")
PEERS = ("sf_arima", "sf_ets", "sf_theta")


def tsrnn_model(h, m, seed):
    from tsrnn import Forecaster

    return Forecaster(horizon=h, season_length=m, random_state=seed, progress=False)


def baseline(name, m):
    from tsrnn.baselines import ETS, AutoARIMA, Naive2, Theta

    return {"naive2": Naive2, "arima": AutoARIMA, "ets": ETS, "theta": Theta}[name](season_length=m)


def statsforecast_forecast(name, train, h, m, levels=()):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    if name == "sf_arima":
        # R auto.arima's default: approximate (CSS) order search for long or high-frequency series
        # (n > 150 or m > 12); without it AutoARIMA(24) on the hourly series runs for over 15 minutes
        long = train.groupby("unique_id").size().median() > 150 or m > 12
        model = AutoARIMA(season_length=m, approximation=bool(long))
    else:
        model = {"sf_ets": AutoETS, "sf_theta": AutoTheta}[name](season_length=m)
    sf = StatsForecast(models=[model], freq=1, n_jobs=1)
    fc = sf.forecast(df=train, h=h, **({"level": [int(lv) if float(lv).is_integer() else lv for lv in levels]}
                                       if levels else {}))
    col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
    renames = {col: "yhat"}
    for lv in levels:
        tag = f"{lv:g}"
        renames[f"{col}-lo-{tag}"], renames[f"{col}-hi-{tag}"] = f"yhat_lo_{tag}", f"yhat_hi_{tag}"
    return fc.rename(columns=renames)[["unique_id", "ds", *renames.values()]]


def _warm_worker():
    """Import the model libraries once per worker, so no job's time includes them."""
    import statsmodels.tsa.api  # noqa: F401

    try:
        import statsforecast.models  # noqa: F401
    except ImportError:
        pass
    import tsrnn.baselines  # noqa: F401


def timed_job(name, freq, data, seed, levels=()):
    """Fit + predict one model on one frequency (runs in a worker process for the statistical models)."""
    h, m = FREQS[freq]
    train = pd.read_csv(data / f"train-{freq}.csv").sort_values(["unique_id", "ds"])
    t = time.perf_counter()
    fc = run_model(name, train, h, m, seed, levels)
    return fc, time.perf_counter() - t


def run_model(name, train, h, m, seed, levels=()):
    extra = {"level": list(levels)} if levels else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "tsrnn" or name.startswith("tsrnn_seed"):
            return tsrnn_model(h, m, seed).fit(train).predict(h, **extra)
        if name in PEERS:
            return statsforecast_forecast(name, train, h, m, levels)
        return baseline(name, m).fit(train).predict(h, **extra)


def score(train, test, fc, m, levels=()):
    """Per-series sMAPE and MASE of a long forecast frame (unique_id, ds, yhat), and with ``levels``
    the coverage and MSIS of its ``yhat_lo_<l>``/``yhat_hi_<l>`` intervals."""
    hist = dict(tuple(train.groupby("unique_id")["y"]))
    merged = test.merge(fc, on=["unique_id", "ds"], how="left")
    rows = []
    for uid, g in merged.groupby("unique_id", sort=False):
        if g.yhat.isna().any():
            raise ValueError(f"missing forecasts for {uid}")
        row = {"unique_id": uid, "smape": metrics.smape(g.y, g.yhat),
               "mase": metrics.mase(g.y, g.yhat, hist[uid].to_numpy(), m), "points": len(g)}
        for lv in levels:
            lo, hi = g[f"yhat_lo_{lv:g}"], g[f"yhat_hi_{lv:g}"]
            row[f"coverage_{lv:g}"] = metrics.coverage(g.y, lo, hi)
            row[f"msis_{lv:g}"] = metrics.msis(g.y, lo, hi, hist[uid].to_numpy(), m, lv)
        rows.append(row)
    return pd.DataFrame(rows)


def published(data, freq, test):
    path = data / f"forecasts-{freq}.csv"
    if not path.exists():
        return {}
    pub = pd.read_csv(path)
    out = {}
    first = test.groupby("unique_id").ds.min().rename("first")
    for col in PUBLISHED:
        if col in pub.columns:
            f = pub[["unique_id", "step", col]].merge(first, on="unique_id")
            f["ds"] = f["first"] + f["step"] - 1
            out[f"M4 {col}"] = f.rename(columns={col: "yhat"})[["unique_id", "ds", "yhat"]]
    return out


def interval_table(per_series: pd.DataFrame, freqs: list[str], levels) -> str:
    """Coverage and MSIS per frequency and overall (means over series, as M4 averages), one row per model
    with intervals; the coverage tables add the share of all test points inside the intervals, which
    weighs each series by its horizon (Hourly's 48 points count 8 times Yearly's 6) where the mean over
    series weighs every series alike."""
    lines = []
    groups = [(f, per_series[per_series.freq == f]) for f in freqs] + [("All", per_series)]
    for lv in levels:
        for kind in ("coverage", "msis"):
            col = f"{kind}_{lv:g}"
            scored = per_series.dropna(subset=[col])
            models = list(dict.fromkeys(scored.model))
            points = kind == "coverage"
            lines += ["", f"**{'Coverage' if points else 'MSIS'} of the {lv:g} % intervals**", "",
                      "| model | " + " | ".join(g for g, _ in groups) + (" | All, share of test points" if points else "")
                      + " |", "|---|" + "---|" * (len(groups) + points)]
            for model in models:
                digits = 4 if points else 3                   # 4: a coverage next to a band's edge (0.96) reads
                cells = [f"{d[d.model == model][col].mean():.{digits}f}" if (d.model == model).any() else ""
                         for _, d in groups]
                if points:
                    mine = scored[scored.model == model]
                    cells.append(f"{(mine[col] * mine.points).sum() / mine.points.sum():.4f}")
                lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(per_series: pd.DataFrame, freqs: list[str]) -> str:
    """sMAPE / MASE / OWA per frequency and overall, one row per model (OWA vs naive2 on the same series)."""
    lines = []
    groups = [(f, per_series[per_series.freq == f]) for f in freqs] + [("All", per_series)]
    means = {g: d.groupby("model")[["smape", "mase"]].mean() for g, d in groups}
    models = list(dict.fromkeys(per_series.model))
    for metric in ("sMAPE", "MASE", "OWA"):
        lines += ["", f"**{metric}**", "", "| model | " + " | ".join(g for g, _ in groups) + " |",
                  "|---|" + "---|" * len(groups)]
        for model in models:
            cells = []
            for g, _ in groups:
                mm = means[g]
                if model not in mm.index:
                    cells.append("")
                    continue
                if metric == "OWA":
                    base = mm.loc["naive2"]
                    cells.append(f"{metrics.owa(mm.loc[model, 'smape'], mm.loc[model, 'mase'], base.smape, base.mase):.3f}")
                else:
                    cells.append(f"{mm.loc[model, 'smape' if metric == 'sMAPE' else 'mase']:.3f}")
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parent.parent / "data" / "m4"))
    ap.add_argument("--out", help="directory for forecasts, results.md and scores.csv")
    ap.add_argument("--models", default=",".join(OURS + PEERS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0],
                    help="random_state(s) of the default Forecaster; several give tsrnn_seed<k> rows")
    ap.add_argument("--freqs", default=",".join(FREQS))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for the statistical models")
    ap.add_argument("--level", type=float, nargs="+", default=[],
                    help="also forecast and score intervals at these levels (coverage, MSIS), e.g. 80 95")
    args = ap.parse_args(argv)
    data = Path(args.data)
    freqs = [f for f in args.freqs.split(",") if (data / f"train-{f}.csv").exists()]
    models = [m for m in args.models.split(",") if m]
    if "naive2" not in models:
        models.append("naive2")                       # the OWA reference
    runs = []
    for m in models:
        if m == "tsrnn" and len(args.seeds) > 1:
            runs += [(f"tsrnn_seed{s}", s) for s in args.seeds]
        else:
            runs.append((m, args.seeds[0]))
    scores, times, forecasts = [], {}, {}
    started = time.time()
    # statistical models: one process per core, one (model, frequency) job at a time; the neural model
    # runs afterwards alone in this process (it uses every core itself), so its timing is undisturbed
    stat_jobs = [(name, freq, seed) for freq in freqs for name, seed in runs if not name.startswith("tsrnn")]
    results = {}
    if stat_jobs:
        import multiprocessing as mp

        # one BLAS thread per worker process: with the default (all cores) the workers' BLAS thread pools
        # spin against each other and a statsmodels fit becomes ~10x slower
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn"),
                                 initializer=_warm_worker) as pool:
            futures = {pool.submit(timed_job, name, freq, data, seed, tuple(args.level)): (name, freq)
                       for name, freq, seed in stat_jobs}
            for fut, key in futures.items():
                results[key] = fut.result()
                print(f"{key[1]:9s} {key[0]:14s} {results[key][1]:7.1f} s", flush=True)
    for freq in freqs:
        for name, seed in runs:
            if name.startswith("tsrnn"):
                results[name, freq] = timed_job(name, freq, data, seed, tuple(args.level))
                print(f"{freq:9s} {name:14s} {results[name, freq][1]:7.1f} s", flush=True)
    for freq in freqs:
        h, m = FREQS[freq]
        train = pd.read_csv(data / f"train-{freq}.csv").sort_values(["unique_id", "ds"])
        test = pd.read_csv(data / f"test-{freq}.csv")
        candidates = [(name, results[name, freq]) for name, _ in runs] + \
            [(k, (v, None)) for k, v in published(data, freq, test).items()]
        for name, (fc, elapsed) in candidates:
            if elapsed is not None:
                times[(name, freq)] = elapsed
            s = score(train, test, fc, m, args.level if elapsed is not None else ())
            s["freq"], s["model"] = freq, name
            scores.append(s)
            forecasts.setdefault(name, []).append(fc.assign(step=fc.groupby("unique_id").cumcount() + 1))
    per_series = pd.concat(scores, ignore_index=True)
    wall = pd.DataFrame([(k[0], k[1], v) for k, v in times.items()], columns=["model", "freq", "s"])
    wall_table = wall.pivot(index="model", columns="freq", values="s").reindex(columns=freqs)
    wall_table["total"] = wall_table.sum(axis=1)
    text = [f"# M4 dev sample ({', '.join(freqs)}; {per_series.unique_id.nunique()} series)",
            f"command: python benchmarks/m4.py {' '.join(argv if argv is not None else sys.argv[1:])}",
            f"machine: {os.cpu_count()} CPUs; total wall time {time.time() - started:.0f} s",
            table(per_series, freqs), interval_table(per_series, freqs, args.level) if args.level else "", "",
            "**Wall time, fit + predict (s)**", "",
            wall_table.round(1).to_markdown() if _has_tabulate() else wall_table.round(1).to_string()]
    if len(args.seeds) > 1 and "tsrnn" in models:
        owas = []
        for s in args.seeds:
            mm = per_series.groupby("model")[["smape", "mase"]].mean()
            owas.append(metrics.owa(mm.loc[f"tsrnn_seed{s}", "smape"], mm.loc[f"tsrnn_seed{s}", "mase"],
                                    mm.loc["naive2", "smape"], mm.loc["naive2", "mase"]))
        text += ["", f"Default Forecaster overall OWA by seed {args.seeds}: {', '.join(f'{o:.3f}' for o in owas)} "
                 f"(spread {max(owas) - min(owas):.3f})"]
    text += peer_ratios(per_series, wall_table, freqs, args.level)
    out = "\n".join(text)
    print(out)
    if args.out:
        target = Path(args.out)
        target.mkdir(parents=True, exist_ok=True)
        for name, parts in forecasts.items():
            frame = pd.concat(parts)[["unique_id", "step", "yhat"]].rename(columns={"yhat": name.replace(" ", "_")})
            frame.to_csv(target / f"forecasts-{name.replace(' ', '_')}.csv", index=False)
        per_series.to_csv(target / "scores.csv", index=False)       # every model's per-series metrics
        (target / "results.md").write_text(out + "\n")


def peer_ratios(per_series: pd.DataFrame, wall: pd.DataFrame, freqs: list[str], levels) -> list[str]:
    """Each tsrnn row against the statsforecast peers of the same run: fit+predict time and MSIS over
    AutoETS's, and per frequency its OWA less the best peer's OWA (below 0: tsrnn ahead)."""
    ours = [m for m in dict.fromkeys(per_series.model) if m.startswith("tsrnn")]
    peers = [m for m in PEERS if m in set(per_series.model)]
    if not ours or not peers:
        return []

    def owa(d: pd.DataFrame, model: str) -> float:
        mm = d.groupby("model")[["smape", "mase"]].mean()
        return metrics.owa(mm.loc[model, "smape"], mm.loc[model, "mase"], mm.loc["naive2", "smape"],
                           mm.loc["naive2", "mase"])

    lines = ["", "**Against the statsforecast peers of this run** (time and MSIS: tsrnn / AutoETS; OWA: tsrnn "
             "less the best peer on that frequency)", "",
             "| " + " | ".join(["model", "time / sf_ets", *(f"MSIS {lv:g} % / sf_ets" for lv in levels),
                               *(f"OWA - best peer, {f}" for f in freqs)]) + " |",
             "|---|---|" + "---|" * (len(levels) + len(freqs))]
    ets = per_series[per_series.model == "sf_ets"]
    msis = {lv: f"msis_{lv:g}" for lv in levels}
    ets_msis = {lv: ets[col].mean() if len(ets) and col in ets and ets[col].notna().all() else None
                for lv, col in msis.items()}
    best = {f: min(peers, key=lambda p: owa(per_series[per_series.freq == f], p)) for f in freqs}
    for model in ours:
        mine = per_series[per_series.model == model]
        cells = [f"{wall.loc[model, 'total'] / wall.loc['sf_ets', 'total']:.2f}" if "sf_ets" in wall.index else ""]
        cells += [f"{mine[msis[lv]].mean() / ets_msis[lv]:.2f}" if ets_msis[lv] else "" for lv in levels]
        for f in freqs:
            d = per_series[per_series.freq == f]
            cells.append(f"{owa(d, model) - owa(d, best[f]):+.3f} ({best[f]})")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
