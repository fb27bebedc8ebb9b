#!/usr/bin/env bash
# Requeue safety of jobs/backtest.sbatch on a real single-node Slurm. A
# backtest long enough to interrupt (2,000 generated portfolios, two years,
# small tiles: 3,700 tiles) is submitted with its report
# (jobs/submit.sh --no-calibrate) and interrupted midway, twice:
#  1. scancel --signal=TERM: what Slurm does at --signal=TERM@secs before the
#     time limit -- SIGTERM to the job step (imvar's ranks), not the batch
#     shell. imvar checkpoints and exits 75; the script requeues the job.
#  2. scontrol requeue: what preemption or an operator does -- the whole job
#     is signalled and killed, and restarted by Slurm.
# Each time the restart must run with --resume, compute only the missing
# tiles, and end byte-identical to an uninterrupted direct run; the report
# that depends on the backtest must still run after it (afterok survives the
# requeue). Then a calibration array task (imvar calibrate --chunk) is
# signalled midway: imvar stops and exits 75, the task requeues itself, the
# restart computes the chunk again, and the merge after it gives the same
# calibration file as a direct run. Slurm restarts a requeued job by itself once the old
# run's job credentials have expired (slurm-up.sh: cred_expire=5 s instead of
# the default 120 s); releasing it earlier (scontrol update StartTime=now)
# makes slurmd refuse the launch ("already killed") and the job fail.
# usage: requeue.sh BUILD_DIR SOURCE_DIR WORKDIR
set -uo pipefail
build=$1 src=$2 work=$3
name=slurm_requeue
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

cluster_up || exit 1
ok "cluster up ($(elapsed) s)"

"$imvar" import -o market.h5 $(for u in BTC ETH SOL; do
  echo "$u=$src/data/market/${u,,}_usdt_binance_daily.csv"; done) >/dev/null || exit 1
"$imvar" portfolios generate --count 2000 --seed 7 --market market.h5 --max-positions 8 \
  -o ports.csv >/dev/null || exit 1
cat >rq.yaml <<YAML
market: market.h5
portfolios: ports.csv
output: unused.h5
start: 2023-01-01
end: 2024-12-31
tiles:
  portfolios: 40
  dates: 10
models:
  hs99_h1:
    confidence: 0.99
    horizon: 1
    window: 1000
YAML
tiles=$((50 * 74)) # 2000/40 portfolio blocks x ceil(731/10) date blocks
t0=$(elapsed)
direct 2 backtest -q -c rq.yaml -o ref.h5 2>ref.err || { bad "reference run failed"; cat ref.err; exit 1; }
ok "reference: uninterrupted direct 2-rank run in $(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN { printf "%.1f", b - a }') s"

export IMVAR_BIN=$imvar IMVAR_CONFIG=$work/rq.yaml IMVAR_MARKET=$work/market.h5
export IMVAR_PORTFOLIOS=$work/ports.csv IMVAR_NTASKS=2 IMVAR_TIME=10 IMVAR_REPORT_TIME=5
export IMVAR_REPORT_HTML=no # the report's content is the chain test's business

# wait_requeued SECONDS ID: until the job has been requeued (Restarts=1);
# prints its state then. Slurm holds a requeued job until its old job
# credentials expire (Reason=BeginTime; cred_expire=5 on the test cluster,
# 120 s by default), then starts it by itself. 1 at the deadline.
wait_requeued() {
  local deadline=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(job_field "$2" Restarts)" = 1 ]; then
      echo "$(job_field "$2" JobState) $(job_field "$2" Reason)"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# scenario NAME COMMAND...: submit, interrupt with COMMAND <jobid> once 100
# tiles are recorded, check the requeue, the restart and the outcome.
scenario() {
  local sc=$1 out=$work/$1 bt rep partial n log restarted
  shift
  if ! IMVAR_OUT=$out bash "$src/jobs/submit.sh" --no-calibrate >"$sc.ids" 2>"$sc.err"; then
    bad "$sc: submit"; cat "$sc.ids" "$sc.err"; return
  fi
  bt=$(sed -n 's/^backtest=//p' "$sc.ids") rep=$(sed -n 's/^report=//p' "$sc.ids")
  partial=$out/backtest/results.h5.partial log=$out/logs/imvar-backtest-$bt.out
  # 1. Midway: at least 100 of the tiles recorded in the checkpoint (30 s deadline).
  local deadline=$(($(date +%s) + 30))
  n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ -f "$partial" ] && n=$(done_tiles "$partial") && [ "$n" -ge 100 ] && break
    job_ended "$bt" && break
    sleep 0.1
  done
  if [ "$n" -lt 100 ] || [ "$n" -ge "$tiles" ]; then
    bad "$sc: the job did not reach 100 tiles while running (state $(job_field "$bt" JobState), $n tiles)"
    cat "$log"; return
  fi
  "$@" "$bt" || bad "$sc: $* $bt failed"
  # 2. Requeued (20 s deadline), checkpoint kept, the report still waiting.
  n=$(done_tiles "$partial")
  if [ "$(job_field "$rep" JobState)" = PENDING ]; then
    ok "$sc: report $rep still pending on its dependency"
  else
    bad "$sc: report $rep is $(job_field "$rep" JobState) after the requeue"
  fi
  if st=$(wait_requeued 20 "$bt"); then
    ok "$sc: job $bt requeued after $* midway (checkpoint: $n of $tiles tiles; then $st)"
  else
    bad "$sc: job $bt not requeued (state $(job_field "$bt" JobState), restarts $(job_field "$bt" Restarts))"
    cat "$log"; return
  fi
  # 3. The restart, after Slurm's hold, and the report (60 s deadline).
  wait_gone 60 "$bt" "$rep" || bad "$sc: not finished within 60 s of the requeue"
  check "$sc: backtest COMPLETED after 1 restart, report COMPLETED" \
    bash -c "[ '$(job_field "$bt" JobState) $(job_field "$bt" Restarts) $(job_field "$bt" ExitCode)' = 'COMPLETED 1 0:0' ] &&
             [ '$(job_field "$rep" JobState) $(job_field "$rep" ExitCode)' = 'COMPLETED 0:0' ]" || diagnose "$bt" "$rep"
  restarted=$(grep -o '[0-9]* done now, the rest by the interrupted run' "$log" | grep -o '^[0-9]*')
  check "$sc: the restart resumed (--resume) and computed only the $restarted missing tiles" \
    bash -c "grep -q 'on 2 ranks, resuming' '$log' && [ -n '$restarted' ] && [ '$restarted' -lt $tiles ]"
  check "$sc: results.h5 byte-identical to the uninterrupted run" "$compare" ref.h5 "$out/backtest/results.h5"
  check "$sc: provenance has the first run and the restart" \
    bash -c "grep -q 'id $bt restart 0' $out/backtest/provenance.txt && grep -q 'id $bt restart 1' $out/backtest/provenance.txt"
  check "$sc: report of the resumed results, no checkpoint left" \
    bash -c "grep -q '\"n_evaluated\": 2000' $out/report/report.json && [ ! -e '$partial' ]"
  echo "---- $sc: backtest log"
  grep -E '^\[imvar-job|^imvar backtest|srun:|slurmstepd|error' "$log" | cut -c 1-200
}

# 1. The signal before the time limit: steps only, as --signal=TERM@secs sends it.
scenario sigterm timeout 10 scancel --signal=TERM
check "sigterm: imvar stopped with exit 75 and the job script requeued the job" \
  bash -c "grep -q 'stopped by a signal after' $work/sigterm/logs/imvar-backtest-*.out &&
           grep -q 'stopped with a checkpoint (exit 75)' $work/sigterm/logs/imvar-backtest-*.out &&
           grep -q 'requeueing job .*: its restart resumes' $work/sigterm/logs/imvar-backtest-*.out"
# 2. Preemption or an operator: the whole job requeued (batch shell and ranks killed).
scenario requeue timeout 10 scontrol requeue

# 3. A calibration array task (chunk 0 of 1 of a 12-set sweep over the 2,000
#    portfolios), signalled by scancel --signal=TERM 2 s into its run;
#    submitted with plain sbatch (the scripts find jobs/ themselves).
cal=$work/cal
mkdir -p "$cal/logs"
cat >cal.yaml <<YAML
market: market.h5
portfolios: ports.csv
start: 2023-01-01
end: 2024-12-31
calibrate:
  grid:
    kind: [hs, fhs]
    confidence: [0.99, 0.995]
    window: [250, 500, 1000]
    horizon: [1]
  calibration: {end: 2023-12-31}
YAML
t0=$(elapsed)
direct 2 calibrate -q -c cal.yaml --set "market=$work/market.h5" --set "portfolios=$work/ports.csv" \
  -o ref-cal.h5 >/dev/null 2>ref-cal.err || { bad "reference calibration failed"; cat ref-cal.err; }
ok "reference calibration: direct 2-rank run in $(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN { printf "%.1f", b - a }') s"
unset IMVAR_JOBS_DIR
export IMVAR_CAL_CONFIG=$work/cal.yaml IMVAR_CAL_TASKS=1
ca=$(IMVAR_OUT=$cal timeout 10 sbatch --parsable --array=0 --ntasks=2 --time=10 \
  --output="$cal/logs/%x-%A_%a.out" "$src/jobs/calibrate.sbatch")
cm=$(IMVAR_OUT=$cal timeout 10 sbatch --parsable --dependency="afterok:$ca" --kill-on-invalid-dep=yes \
  --time=5 --output="$cal/logs/%x-%j.out" "$src/jobs/calibrate-merge.sbatch")
deadline=$(($(date +%s) + 40))
started=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  grep -qs 'chunk 0/1 (restart 0)' "$cal"/logs/imvar-calibrate-"$ca"_0.out && started=1 && break
  job_ended "$ca" && break
  sleep 0.1
done
sleep 2
if [ "$started" = 1 ] && ! job_ended "$ca" && [ ! -e "$cal/calibrate/chunk-0000.h5" ]; then
  timeout 10 scancel --signal=TERM "$ca"
  if st=$(wait_requeued 20 "${ca}_0"); then
    ok "calibrate: array task ${ca}_0 requeued midway (then $st)"
    wait_gone 90 "$ca" "$cm" || bad "calibrate: not finished within 90 s of the requeue"
    check "calibrate: array task and merge COMPLETED" \
      bash -c "[ '$(job_field "$ca" JobState) $(job_field "$ca" Restarts) $(job_field "$cm" JobState)' = 'COMPLETED 1 COMPLETED' ]" ||
      diagnose "$ca" "$cm"
    log=$(ls "$cal"/logs/imvar-calibrate-"$ca"_0.out)
    check "calibrate: imvar stopped with exit 75, the restart computed the chunk" \
      bash -c "grep -q 'interrupted by a signal; nothing written' '$log' && grep -q 'stopped with a checkpoint (exit 75)' '$log' &&
               grep -q 'chunk 0/1 (restart 1)' '$log'"
    check "calibrate: merged calibration.h5 identical to the direct run" \
      bash -c "for o in /sets /periods /computed /metrics /ranking /pareto /sensitivity; do
                 h5diff -q ref-cal.h5 $cal/calibrate/calibration.h5 \$o \$o || exit 1; done"
  else
    bad "calibrate: task not requeued (state $(job_field "$ca" JobState), restarts $(job_field "$ca" Restarts))"
    cat "$cal"/logs/*
  fi
else
  bad "calibrate: the task did not run long enough to be interrupted (started $started)"
  cat "$cal"/logs/*
fi

finish
