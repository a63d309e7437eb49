"""The ``tsrnn`` command line: backtest models on a CSV/Parquet file, or forecast it.

    tsrnn backtest data.csv --horizon 12 --season-length 12 --models lstm,gru,arima,ets,theta,naive2
    tsrnn forecast data.csv --horizon 12 --model lstm --output forecast.csv --level 80 95
    tsrnn backtest data/bikesharing.csv -H 24 -m 24 --models lstm,arimax,snaive --future-covariates tmin,tmax,pn --calendar
    tsrnn forecast history.csv -H 24 -m 24 --future-covariates price --future future.csv -o forecast.csv
    tsrnn warmup                      # compile and cache the kernels now (an image's build step)

Exit status: 0 on success, 2 on bad usage or bad data (one line on stderr, no traceback), 1 on an
unexpected internal error. Input files are only read; output files are written atomically (a temporary
file renamed into place), so an interrupted run never leaves a half-written file.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

__all__ = ["main"]

DEFAULT_MODELS = "lstm,gru,arima,ets,theta,naive2"


class UserError(Exception):
    """Bad usage or bad data: reported as one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tsrnn", description="Forecast time series with RNN/GRU/LSTM networks and compare them with "
        "ARIMA, ETS, Theta and Naive2 on your own data.",
        epilog="Data: a long table with one row per (series, time) — columns unique_id, ds, y by default — "
        "or, with --wide, one column per series and the time in the first column. CSV (separated by commas, "
        "semicolons, tabs or bars; decimal commas are read where the separator is not a comma) or Parquet.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp):
        sp.add_argument("data", help="CSV, TSV or Parquet file")
        sp.add_argument("--horizon", "-H", type=int, required=True, help="steps to forecast")
        sp.add_argument("--season-length", "-m", type=int, default=1,
                        help="seasonal period: 12 monthly, 4 quarterly, 7 daily, 24 hourly (default 1)")
        sp.add_argument("--id-col", default="unique_id", help="series id column (default unique_id)")
        sp.add_argument("--time-col", default="ds", help="time column (default ds)")
        sp.add_argument("--target-col", default="y", help="value column (default y)")
        sp.add_argument("--wide", action="store_true", help="one column per series, time in the first column")
        sp.add_argument("--freq", help="pandas frequency when it cannot be inferred (e.g. D, MS, h)")
        sp.add_argument("--fill", choices=["ffill", "interpolate", "zero"], help="fill missing values and missing time "
                        "stamps (without it they are an error naming the series); a backtest never scores a "
                        "filled value")
        sp.add_argument("--seed", type=int, default=0, help="random seed of the neural models (default 0)")
        sp.add_argument("--max-epochs", type=int, default=None, metavar="N",
                        help="most training epochs of the neural models (default 100, early stopping ends most sooner)")
        sp.add_argument("--no-progress", action="store_true", help="no progress bars")
        sp.add_argument("--past-covariates", metavar="A,B", help="columns observed up to each series' end "
                        "(neural models)")
        sp.add_argument("--future-covariates", metavar="C,D", help="columns known in advance for the horizon "
                        "(neural models and arimax)")
        sp.add_argument("--static-covariates", metavar="S", help="columns constant within a series (neural models)")
        sp.add_argument("--calendar", action="store_true", help="calendar features from the time stamps, chosen "
                        "by frequency (neural models and arimax)")
        sp.add_argument("--nonnegative", action="store_true", help="the data cannot be negative (counts, sales): "
                        "forecasts and interval ends below 0 become 0, a value below 0 in the data is an error "
                        "(every model)")
        sp.add_argument("--workers", type=int, help="run on a Dask LocalCluster of N worker processes "
                        "(pip install 'tsrnn[dask]')")
        sp.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS "
                        "(e.g. tcp://host:8786)")

    b = sub.add_parser("backtest", help="rolling-origin backtest of several models, ranked by OWA",
                       description="Fit every model on each window's history, forecast the next --horizon "
                       "points, and rank the models by the M4 metrics (OWA relative to Naive2).")
    common(b)
    b.add_argument("--models", default=DEFAULT_MODELS,
                   help=f"comma-separated: lstm, gru, rnn, arima, ets, theta, ses, naive, snaive, naive2 "
                        f"(default {DEFAULT_MODELS})")
    b.add_argument("--windows", type=int, default=1, help="number of backtest windows (default 1)")
    b.add_argument("--step", type=int, help="distance between windows (default: horizon)")
    refit = b.add_mutually_exclusive_group()
    refit.add_argument("--no-refit", action="store_true", help="fit once, forecast later windows without refitting")
    refit.add_argument("--refit-every", type=int, metavar="N", help="fit afresh on every N-th window only, each fit "
                       "also forecasting the N - 1 windows after its own (default 1: every window)")
    b.add_argument("--level", type=float, nargs="+", help="also score prediction intervals at these levels, e.g. "
                   "80 95: coverage, MSIS and the scaled pinball loss per model, fans in backtest.png")
    b.add_argument("--rank-by", default="owa", metavar="METRIC", help="rank the models by owa (default), mase, "
                   "rmsse (M5's; for intermittent sales), smape, mae, rmse, mape, or with --level spl or msis_<l>")
    b.add_argument("--output", "-o", help="directory for forecasts.csv, metrics.csv and backtest.png")

    f = sub.add_parser("forecast", help="fit one model and write its forecasts",
                       description="Fit the model on all the data and write the next --horizon steps.")
    common(f)
    f.add_argument("--model", default="lstm", help="lstm, gru, rnn, arima, ets, theta, ses, naive, snaive, naive2")
    f.add_argument("--output", "-o", required=True, help="CSV file for the forecasts")
    f.add_argument("--level", type=float, nargs="+", help="prediction interval levels, e.g. 80 95")
    f.add_argument("--future", metavar="FILE", help="CSV or Parquet of the future covariates' values after each "
                   "series' end (the --id-col, --time-col and --future-covariates columns)")
    w = sub.add_parser("warmup", help="compile the kernels into numba's cache now, so that later fits start at once",
                       description="Fit small models on made-up data so that every kernel a fit and a forecast "
                       "use is compiled and cached (about 19 s for the LSTM, a few more for each other cell). "
                       "Run it where compiling costs nothing: an image's build step, a server's start-up, "
                       "before a Dask cluster's workers start.")
    w.add_argument("--cells", metavar="A,B", help="the cells to compile for (default: every one, lstm,gru,rnn)")
    return p


_SEPARATORS = ",;\t|"
_SNIFFED_LINES = 50
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")


def text_format(file: Path) -> dict:
    """``read_csv``'s ``sep`` and ``decimal`` for a delimited text file, from its first lines: the
    separator is the header's, one of ``, ; tab |`` (a .tsv; a spreadsheet saved where the decimal mark
    is a comma separates by ``;``), and the decimal mark is ``,`` where the separator is not and the
    numbers are written ``1,5`` (none ``1.5``). {} for commas, an undecidable header or a compressed file.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "sales.csv"
    >>> _ = path.write_text("unique_id;ds;y\\ns1;2024-01-01;12,5\\n")
    >>> text_format(path)
    {'sep': ';', 'decimal': ','}
    """
    if "".join(file.suffixes).lower().endswith(_COMPRESSED):
        return {}
    with open(file, newline="", encoding="utf-8", errors="replace") as f:
        lines = [line.rstrip("\r\n") for _, line in zip(range(_SNIFFED_LINES), f)]
    try:
        sep = csv.Sniffer().sniff(lines[0], delimiters=_SEPARATORS).delimiter
    except (csv.Error, IndexError):
        return {}
    if sep == ",":
        return {}
    fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(sep)]
    comma = any(_DECIMAL_COMMA.fullmatch(field) for field in fields)
    point = any(_DECIMAL_POINT.fullmatch(field) for field in fields)
    return {"sep": sep, "decimal": ","} if comma and not point else {"sep": sep}


def read_table(path: str, wide: bool, time_col: str, names: tuple = ()):
    """Read a CSV (or tab-, semicolon- or bar-separated: ``text_format``) or Parquet file into a
    DataFrame (time column parsed to datetimes unless integer). A long table with none of the columns
    ``names`` (id, time, target) is an error here: the readers would take it for a wide one (one column
    per series), which the command line asks for with --wide."""
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise UserError(f"no such file: {path}")
    suffixes = "".join(file.suffixes).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            df = pd.read_parquet(file)
        else:
            df = pd.read_csv(file, **text_format(file))
    except ImportError as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's problem
        raise UserError(f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    if df.empty:
        raise UserError(f"{path} has no rows")
    if wide:
        time = time_col if time_col in df.columns else df.columns[0]
        df = df.set_index(time)
        df.index = _parse_time(df.index.to_series(), str(time), path).to_numpy()
        if not pd.api.types.is_integer_dtype(df.index.dtype):
            df.index = pd.DatetimeIndex(df.index)
        return df.rename_axis(time)                 # the forecasts' time column keeps its name
    if names and not any(c in df.columns for c in names):
        raise UserError(f"{path} has none of the columns {', '.join(map(repr, names))} (its columns: "
                        f"{', '.join(map(str, df.columns[:10]))}{', ...' if len(df.columns) > 10 else ''}); name them "
                        "with --id-col, --time-col and --target-col, or pass --wide for one column per series")
    if time_col in df.columns:
        df[time_col] = _parse_time(df[time_col], time_col, path)
    return df


def _parse_time(col, name, path):
    import pandas as pd

    if pd.api.types.is_integer_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col
    try:
        return pd.to_datetime(col)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: column {name!r} holds neither integers nor dates ({exc})") from None


def _guard_output(data: str, outputs: list[Path]) -> None:
    """Before any work: never the input file, and a place we can write (the nearest existing folder)."""
    import os

    src = Path(data).resolve()
    for out in outputs:
        if out.resolve() == src:
            raise UserError(f"refusing to overwrite the input file {data}")
        folder = out.resolve().parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise UserError(f"cannot write {out}: {folder} is not a writable directory")


def _on_cluster(args) -> bool:
    if args.workers is not None and args.scheduler is not None:
        raise UserError("give --workers (a local cluster) or --scheduler (a running one), not both")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    return args.workers is not None or args.scheduler is not None


def _covariate_kwargs(args) -> dict:
    """The covariate options, as the models' parameters (absent when not given)."""
    out = {}
    for name in ("past_covariates", "future_covariates", "static_covariates"):
        value = getattr(args, name)
        if value:
            out[name] = [c.strip() for c in value.split(",") if c.strip()]
    if args.calendar:
        out["calendar"] = True
    return out


def _neural_kwargs(args) -> dict:
    """The neural models' options (of them, the baselines take ``nonnegative`` and the covariates they
    can use: ``backtesting.make_model``)."""
    epochs = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    clip = {"nonnegative": True} if args.nonnegative else {}
    return {"random_state": args.seed, **epochs, **clip, **_covariate_kwargs(args)}


def _run_backtest(args) -> None:
    from .backtesting import MODEL_NAMES, backtest
    from .persistence import atomic_write

    models = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise UserError(f"unknown model(s) {unknown or args.models!r}; choose from {', '.join(MODEL_NAMES)}")
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise UserError(f"--output {out_dir} exists and is not a directory")
        _guard_output(args.data, [out_dir / "forecasts.csv", out_dir / "metrics.csv"])
    data = read_table(args.data, args.wide, args.time_col, (args.id_col, args.time_col, args.target_col))
    options = dict(horizon=args.horizon, n_windows=args.windows, step=args.step,
                   refit=False if args.no_refit else args.refit_every or True,
                   season_length=args.season_length, id_col=args.id_col, time_col=args.time_col,
                   target_col=args.target_col, freq=args.freq, fill=args.fill, progress=not args.no_progress,
                   level=args.level, rank_by=args.rank_by.lower(),
                   **_neural_kwargs(args))
    if _on_cluster(args):
        from .cluster import backtest as cluster_backtest

        result = cluster_backtest(models, data, workers=args.workers, scheduler=args.scheduler, **options)
    else:
        result = backtest(models, data, **options)
    table = result.metrics.copy()
    print(f"backtest: {int(table.series.max())} series, {args.windows} window(s) of {args.horizon} steps, "
          f"season length {args.season_length}; ranked by "
          f"{'OWA (Naive2 = 1)' if result.rank_by == 'owa' else result.rank_by.upper()}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for line in result.notes():
        print(f"note: {line}")
    if out_dir is None:
        return
    atomic_write(out_dir / "forecasts.csv", lambda p: result.forecasts.to_csv(p, index=False))
    atomic_write(out_dir / "metrics.csv", lambda p: result.metrics.to_csv(p, index=False))
    written = ["forecasts.csv", "metrics.csv"]
    try:
        fig = result.plot(history=None if args.wide else data)
        atomic_write(out_dir / "backtest.png", lambda p: fig.savefig(p, format="png", dpi=110))
        written.append("backtest.png")
    except ImportError as exc:
        print(f"tsrnn: plot skipped: {exc}", file=sys.stderr)
    print(f"wrote {', '.join(written)} to {out_dir}")


def _run_forecast(args) -> None:
    from .backtesting import MODEL_NAMES, NEURAL, make_model
    from .persistence import atomic_write

    name = args.model.lower()
    if name not in MODEL_NAMES:
        raise UserError(f"unknown model {args.model!r}; choose from {', '.join(MODEL_NAMES)}")
    target = Path(args.output)
    _guard_output(args.data, [target])
    covariates = _covariate_kwargs(args)
    if args.future and not covariates.get("future_covariates"):
        raise UserError("--future gives the future covariates' values: name them with --future-covariates")
    if covariates.get("future_covariates") and not args.future:
        raise UserError("--future-covariates needs --future FILE with their values after each series' end")
    data = read_table(args.data, args.wide, args.time_col, (args.id_col, args.time_col, args.target_col))
    future = read_table(args.future, False, args.time_col) if args.future else None
    kwargs = dict(id_col=args.id_col, time_col=args.time_col, target_col=args.target_col, freq=args.freq,
                  fill=args.fill, nonnegative=args.nonnegative)
    if name in NEURAL:
        kwargs.update(_neural_kwargs(args), progress=not args.no_progress)
    else:                                   # make_model keeps the covariates the baseline can read
        kwargs.update(covariates)
    model = make_model(name, args.horizon, args.season_length, **kwargs)
    if name not in NEURAL and covariates and not {"future_covariates", "calendar"} & set(model.get_params()):
        raise UserError(f"{name} takes no covariates; use a neural model or arimax")
    extra = {"level": args.level} if args.level else {}
    if future is not None:
        extra["future"] = future
    if _on_cluster(args):
        if args.wide:
            raise UserError("--workers/--scheduler need a long table (one row per series and time), not --wide")
        from .cluster import forecast as cluster_forecast

        fc = cluster_forecast(model, data, args.horizon, workers=args.workers, scheduler=args.scheduler, **extra)
    else:
        fc = model.fit(data).predict(args.horizon, **extra)
    time = data.index.name if args.wide else args.time_col
    frame = fc.rename("yhat").rename_axis(time).reset_index() if hasattr(fc, "to_frame") and fc.ndim == 1 \
        else (fc if args.id_col in getattr(fc, "columns", []) else fc.rename_axis(time).reset_index())
    atomic_write(target, lambda p: frame.to_csv(p, index=False))
    print(f"wrote {len(frame)} rows of {name} forecasts to {target}")
    fallbacks = getattr(model, "fallbacks_", None)
    if fallbacks is not None and len(fallbacks):
        ids = list(fallbacks[args.id_col] if hasattr(fallbacks, "columns") else fallbacks)[:5]
        print(f"note: {len(fallbacks)} series forecast by a fallback rule (first: {ids}); "
              "see the model's fallbacks_", file=sys.stderr)


def _run_warmup(args) -> None:
    from .warmup import CELLS, warmup

    try:
        cells = CELLS if args.cells is None else [c.strip() for c in args.cells.split(",") if c.strip()]
        report = warmup(cells=cells)
    except RuntimeError as exc:                    # caching off: nothing would outlive this process
        raise UserError(str(exc)) from None
    print(report)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    for name in ("horizon", "season_length", "windows", "step", "refit_every"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            print(f"tsrnn: error: --{name.replace('_', '-')} must be >= 1, got {value}", file=sys.stderr)
            return 2
    try:
        {"backtest": _run_backtest, "forecast": _run_forecast, "warmup": _run_warmup}[args.command](args)
    except (UserError, ValueError) as exc:
        print(f"tsrnn: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:                     # an output that cannot be written after all (disk full, ...)
        print(f"tsrnn: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tsrnn: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
