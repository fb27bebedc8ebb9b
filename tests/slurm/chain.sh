#!/usr/bin/env bash
# The Slurm job chain on a real single-node Slurm (slurm-up.sh: munged,
# slurmctld, slurmd on 127.0.0.1, no systemd or cgroups): jobs/submit.sh
# submits backtest.sbatch, calibrate.sbatch (a 4-task array: imvar calibrate
# --chunk I/4 of a 12-set sweep), calibrate-merge.sbatch (afterok on the
# array: --merge) and report.sbatch (afterok on the backtest and the merge) on
# the shipped data. Every job must be COMPLETED within the deadline, and the
# outputs right: the backtest byte-identical to a direct mpirun, the merged
# calibration.h5 identical (h5diff) to a direct single-job calibration and
# the same recommended configuration, the report, the recorded configuration
# and revisions. Then a chain whose backtest fails: the report
# that depends on it is cancelled, not left waiting.
# usage: chain.sh BUILD_DIR SOURCE_DIR WORKDIR
set -uo pipefail
build=$1 src=$2 work=$3
name=slurm_chain
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

cluster_up || exit 1
ok "cluster up ($(elapsed) s)"

# The shipped data: 17 curated portfolios, one year of as-of dates, two models.
cat >chain.yaml <<YAML
market: unused.h5
portfolios: unused.csv
output: unused.h5
start: 2024-01-01
end: 2024-12-31
models:
  hs99_h2:
    confidence: 0.99
    horizon: 2
    window: 250
  hs975_h1:
    confidence: 0.975
    horizon: 1
    window: 250
YAML
cat >cal.yaml <<YAML
market: unused.h5
portfolios: unused.csv
start: 2023-01-01
end: 2024-12-31
calibrate:
  grid:
    kind: [hs, fhs]
    confidence: [0.975, 0.99, 0.995]
    window: [250, 500]
    horizon: [1]
  calibration: {end: 2023-12-31}
  tests:
    y2024: {start: 2024-01-01}
YAML
export IMVAR_BIN=$imvar IMVAR_OUT=$work/out IMVAR_CONFIG=$work/chain.yaml IMVAR_CAL_CONFIG=$work/cal.yaml
export IMVAR_CAL_TASKS=4
export IMVAR_PORTFOLIOS=$src/data/portfolios/curated.csv
export IMVAR_NTASKS=2 IMVAR_CAL_NTASKS=1 IMVAR_TIME=10 IMVAR_CAL_TIME=10 IMVAR_REPORT_TIME=5
# The site variables, as a site would set them (the test cluster's only partition).
export IMVAR_PARTITION=debug IMVAR_SBATCH_ARGS="--cpus-per-task=1"

t0=$(elapsed)
if bash "$src/jobs/submit.sh" >submit.out 2>submit.err; then
  bt=$(sed -n 's/^backtest=//p' submit.out) cal=$(sed -n 's/^calibrate=//p' submit.out)
  merge=$(sed -n 's/^merge=//p' submit.out) rep=$(sed -n 's/^report=//p' submit.out)
  if [[ "$bt $cal $merge $rep" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] && cmp -s submit.out out/jobs.txt; then
    ok "submit.sh printed 4 job ids: $(tr '\n' ' ' <submit.out)"
  else
    bad "submit.sh output"; cat submit.out submit.err; exit 1
  fi
else
  bad "submit.sh failed"; cat submit.out submit.err; exit 1
fi

# Reference runs outside Slurm while the chain runs.
"$imvar" import -o market.h5 $(for u in BTC ETH SOL BNB XRP ADA DOGE; do
  echo "$u=$src/data/market/${u,,}_usdt_binance_daily.csv"; done) >/dev/null
refset=(-c chain.yaml --set market=market.h5 --set "portfolios=$IMVAR_PORTFOLIOS")
direct 2 backtest "${refset[@]}" -o ref.h5 >ref.txt 2>ref.err || bad "reference backtest failed"
direct 2 calibrate -q -c cal.yaml --set market=market.h5 --set "portfolios=$IMVAR_PORTFOLIOS" \
  -o ref-cal.h5 >ref-cal.txt 2>ref-cal.err || bad "reference calibration failed"

if wait_gone 90 "$bt" "$cal" "$merge" "$rep"; then
  ok "chain finished in $(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN { printf "%.1f", b - a }') s"
else
  bad "chain did not finish within 90 s"
fi
check "backtest job $bt COMPLETED, exit 0:0" all_completed "$bt"
check "calibrate array $cal: 4 tasks COMPLETED, exit 0:0" all_completed "$cal" 4
check "merge job $merge COMPLETED, exit 0:0" all_completed "$merge"
check "report job $rep COMPLETED, exit 0:0" all_completed "$rep"
check "merge ran after the last array task ended, report after the merge" \
  awk -v m="$(job_field "$merge" StartTime)" -v r="$(job_field "$rep" StartTime)" \
  -v e="$(job_field "$cal" EndTime | sort | tail -n 1)" -v b="$(job_field "$bt" EndTime)" \
  'BEGIN { exit !(m >= e && r >= m && r >= b) }'

# The backtest: the same bytes as the direct run, its configuration and revisions recorded.
o=out/backtest
check "backtest results.h5 byte-identical to a direct 2-rank run" "$compare" ref.h5 $o/results.h5
check "backtest config.yaml: the YAML and its --set lines" \
  bash -c "head -n $(wc -l <chain.yaml) $o/config.yaml | cmp -s - chain.yaml && grep -qx '# --set market=$work/out/market.h5' $o/config.yaml &&
           grep -qx '# --set portfolios=$IMVAR_PORTFOLIOS' $o/config.yaml"
ver=$("$imvar" --version)
check "provenance: job id, imvar revision ($ver), source revision, input checksums" \
  bash -c "grep -q 'job: *imvar-backtest id $bt restart 0' $o/provenance.txt && grep -qF '$ver' $o/provenance.txt &&
           grep -q '^source: .* at [0-9a-f]\{40\}' $o/provenance.txt && grep -q '^market: .* sha256 [0-9a-f]\{64\}' $o/provenance.txt"
if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
  # A commit of this checkout (HEAD may have moved on since the job ran).
  rev=$(sed -n 's/^source: .* at \([0-9a-f]\{40\}\).*/\1/p' $o/provenance.txt | head -n 1)
  check "provenance: a git commit of the checkout (${rev:0:12})" git -C "$src" cat-file -e "${rev:-none}^{commit}"
fi
check "backtest log: srun on 2 ranks, the validation table" \
  grep -q '2 models x 17 portfolios x 366 dates (2024-01-01 .. 2024-12-31) on 2 ranks' "out/logs/imvar-backtest-$bt.out"

# Calibration: the merged chunks are the single job's file and recommendation.
c=out/calibrate
check "4 chunk files, merged into calibration.h5 identical to a direct single job" \
  bash -c "ls $c/chunk-000[0-3].h5 >/dev/null && for o in /sets /periods /computed /metrics /ranking /pareto /sensitivity; do
             h5diff -q ref-cal.h5 $c/calibration.h5 \$o \$o || exit 1; done"
check "the same recommended configuration as the direct run" \
  bash -c "diff <(grep -v '^#' ref-cal.h5.recommended.yaml) <(grep -v '^#' $c/calibration.h5.recommended.yaml)"
check "calibration.txt: the ranked table and the recommendation" \
  bash -c "grep -q '^rank ' $c/calibration.txt && diff <(grep '^recommended: ' ref-cal.txt) <(grep '^recommended: ' $c/calibration.txt)"
check "merge provenance recorded" grep -q "job: *imvar-calibrate-merge id $merge" $c/provenance.txt

# The report (imvar validate on the backtest until 'imvar report' exists).
check "report.json: both models, 17 of 17 portfolios" \
  bash -c "grep -q '\"name\": \"hs99_h2\"' out/report/report.json && grep -q '\"name\": \"hs975_h1\"' out/report/report.json &&
           [ \$(grep -o '\"n_evaluated\": 17' out/report/report.json | wc -l) = 2 ]"
check "report.txt: the table, the same summary as the direct run, the calibration table" \
  bash -c "diff <(grep '^summary:' ref.txt) <(grep '^summary:' out/report/report.txt) >/dev/null &&
           grep -q '^small_sol_perp_short ' out/report/report.txt && grep -q '^recommended: ' out/report/report.txt"
if "$imvar" report --help >/dev/null 2>&1; then
  check "report.html written by imvar report (the build has it)" test -s out/report/report.html
fi
check "no temporary or partial file left" test -z "$(find out -name '*.partial' -o -name '*.tmp*' | head -n 1)"
check "one log per job and array task" test "$(ls out/logs | wc -l)" = 7

# A failing backtest (a bad configuration value): exit 3, and the report that
# depends on it is cancelled at once instead of pending forever.
if IMVAR_OUT=$work/out-bad bash "$src/jobs/submit.sh" --no-calibrate models.hs99_h2.confidence=1.5 \
  >bad.out 2>bad.err; then
  bbt=$(sed -n 's/^backtest=//p' bad.out) brep=$(sed -n 's/^report=//p' bad.out)
  wait_gone 30 "$bbt" "$brep" || bad "failing chain did not leave the queue within 30 s"
  check "failing backtest: FAILED with exit 3, message names the key" \
    bash -c "[ '$(job_field "$bbt" JobState)' = FAILED ] && [ '$(job_field "$bbt" ExitCode)' = 3:0 ] &&
             grep -q 'models.hs99_h2.confidence' $work/out-bad/logs/imvar-backtest-$bbt.out"
  check "its report: CANCELLED (dependency never satisfied), never ran" \
    bash -c "[ '$(job_field "$brep" JobState)' = CANCELLED ] && [ ! -e $work/out-bad/report ]"
else
  bad "submit of the failing chain"; cat bad.out bad.err
fi

finish
