#!/usr/bin/env bash
# The tsrnn command line, step by step, on the bundled data (run from the repository root after
# `make demo`, or anywhere the `tsrnn` command is installed):
#   bash examples/cli_walkthrough.sh [--quick] [OUTPUT_DIR]       (default OUTPUT_DIR: out/examples/cli)
set -euo pipefail
QUICK=""; [ "${1:-}" = "--quick" ] && { QUICK=1; shift; }
OUT="${1:-out/examples/cli}"
mkdir -p "$OUT"
# the bundled data as CSV files, the way a user's own data arrives (tsrnn.datasets reads the package's copy)
python - "$OUT" <<'PY'
import sys
from tsrnn.datasets import load_bikesharing, load_m4
load_m4("Quarterly", sample="demo").train.to_csv(f"{sys.argv[1]}/quarterly.csv", index=False)
bikes = load_bikesharing().iloc[-24 * 60:]
bikes.iloc[:-24].to_csv(f"{sys.argv[1]}/bikes_history.csv", index=False)
bikes.iloc[-24:].drop(columns="y").to_csv(f"{sys.argv[1]}/bikes_tomorrow.csv", index=False)
PY
DATA="$OUT/quarterly.csv"
MODELS="lstm,gru,arima,ets,theta,naive2"
EPOCHS=()
[ -n "$QUICK" ] && { MODELS="lstm,theta,naive2"; EPOCHS=(--max-epochs 3); }

echo "== 1. what the commands are"
tsrnn --help | head -n 12

echo "== 2. backtest: 40 quarterly M4 series, last 8 quarters held out, ranked by OWA"
tsrnn backtest "$DATA" --horizon 8 --season-length 4 --models "$MODELS" "${EPOCHS[@]}" --no-progress --output "$OUT/backtest"
ls "$OUT/backtest"          # forecasts.csv, metrics.csv and the report backtest.png

echo "== 3. forecast the next 8 quarters with 80/95 % intervals"
tsrnn forecast "$DATA" --horizon 8 --season-length 4 --model lstm --level 80 95 "${EPOCHS[@]}" --no-progress \
    --output "$OUT/forecast.csv"
head -n 4 "$OUT/forecast.csv"

echo "== 4. covariates: tomorrow's bike rentals from the weather forecast and the calendar"
tsrnn forecast "$OUT/bikes_history.csv" --horizon 24 --season-length 24 --model lstm \
    --future-covariates tmin,tmax,pn --calendar --future "$OUT/bikes_tomorrow.csv" "${EPOCHS[@]}" --no-progress \
    --output "$OUT/bikes_forecast.csv"
head -n 4 "$OUT/bikes_forecast.csv"

echo "== 5. a bad file is one clear line and exit status 2"
printf 'unique_id,ds,y\na,1,1.0\na,1,2.0\n' > "$OUT/bad.csv"
if tsrnn forecast "$OUT/bad.csv" --horizon 2 --output "$OUT/never.csv" 2> "$OUT/error.txt"; then
    echo "expected an error"; exit 1
fi
cat "$OUT/error.txt"
