#!/usr/bin/env bash
# docs/performance.md, "Throughput per kind": evaluations (portfolio x date) per
# second of the tile phase on 1 rank, per model kind, for generated linear books
# (<= 10 positions) and for the shipped option books (data/portfolios/options.csv,
# copied to fill the run), 99%, h = 2, W = 1000, 365 as-of dates. Each figure is
# the best of 3 runs (other work on the machine only slows a run down); the
# load average is printed with the table.
# Uses the build given (default: build/, RelWithDebInfo, not -march=native);
# tests/bench/run is the Release -march=native benchmark of hs alone.
# usage: scripts/docs/throughput.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
docs_market
"$imvar" portfolios generate --count 1000 --seed 2024 --market "$out/market.h5" --max-positions 10 \
  -o "$out/tp-linear.csv" >/dev/null
awk -F, 'NR == 1 {print; next} {for (c = 0; c < 100; c++) rows[c] = rows[c] $1 "_" c "," $2 "," $3 "\n"}
  END {for (c = 0; c < 100; c++) printf "%s", rows[c]}' "$root/data/portfolios/options.csv" >"$out/tp-options.csv"
# tiles_s LOG: the largest per-rank tile time of a backtest's timing line.
tiles_s() { grep -o 'tiles s [0-9.e+-]*/[0-9.e+-]*/[0-9.e+-]*' "$1" | cut -d/ -f3; }
echo "| kind | linear books: evaluations/s | option books: evaluations/s |"
echo "| --- | --- | --- |"
for kind in hs fhs ewma_normal ewma_t mc_t grid; do
  row="| $kind"
  for book in linear options; do
    n=$(($(cut -d, -f1 "$out/tp-$book.csv" | sort -u | wc -l) - 1))
    # mc_t revalues every book on each of its 10,000 paths: a tenth of the books keeps it short.
    [ "$kind" = mc_t ] && n=$((n / 10))
    awk -F, -v n="$n" 'NR == 1 || (!($1 in s) && length(s) < n) {s[$1]} NR == 1 || ($1 in s)' \
      "$out/tp-$book.csv" >"$out/tp-run.csv"
    best=
    for _ in 1 2 3; do
      "$imvar" backtest -q -c /dev/stdin -o "$out/tp.h5" 2>"$out/tp.log" <<YAML
market: $out/market.h5
portfolios: $out/tp-run.csv
start: 2025-03-25
end: 2026-03-24
models:
  m: {kind: $kind, confidence: 0.99, horizon: 2, window: 1000}
YAML
      best=$(awk -v a="$best" -v b="$(tiles_s "$out/tp.log")" 'BEGIN {print (a == "" || b < a) ? b : a}')
    done
    row="$row | $(awk -v n="$n" -v t="$best" 'BEGIN {printf "%.0f (%d books)", n * 365 / t, n}')"
  done
  echo "$row |"
done
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
rm -f "$out/tp.h5" "$out/tp-run.csv"
