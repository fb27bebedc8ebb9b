#!/usr/bin/env bash
# Submits the imvar chain to Slurm and prints the job ids, one "name=id" a line:
#
#   backtest=ID    backtest.sbatch
#   calibrate=ID   calibrate.sbatch, a job array of IMVAR_CAL_TASKS chunks of the sweep
#   merge=ID       calibrate-merge.sbatch, --dependency=afterok on the whole array
#   report=ID      report.sbatch, --dependency=afterok on the backtest and the merge
#
# Dependent jobs are cancelled if a job they wait for fails (--kill-on-invalid-dep).
# The ids also go to IMVAR_OUT/jobs.txt; job logs to IMVAR_OUT/logs/.
#
# usage: jobs/submit.sh [--no-calibrate] [--dry-run] [key=value ...]
#   key=value      overrides for the backtest (as imvar backtest --set)
#   --no-calibrate backtest and report only
#   --dry-run      print the sbatch commands instead of running them
# Everything else by environment variables (jobs/README.md), e.g.
#   IMVAR_OUT=/scratch/$USER/run1 IMVAR_CONFIG=my.yaml IMVAR_NTASKS=64 jobs/submit.sh
set -euo pipefail
calibrate=1 dry=0
args=()
for a in "$@"; do
  case $a in
    --no-calibrate) calibrate=0 ;;
    --dry-run) dry=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *=*) args+=("$a") ;;
    *)
      echo "submit: unknown argument '$a' (see --help)" >&2
      exit 2
      ;;
  esac
done

IMVAR_JOBS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$IMVAR_JOBS_DIR/common.sh"
imvar_init
[ -r "$IMVAR_CONFIG" ] || imvar_die "IMVAR_CONFIG=$IMVAR_CONFIG: cannot read" 2
tasks=0
if [ "$calibrate" = 1 ]; then
  [ -r "$IMVAR_CAL_CONFIG" ] || imvar_die "IMVAR_CAL_CONFIG=$IMVAR_CAL_CONFIG: cannot read" 2
  [[ $IMVAR_CAL_TASKS =~ ^[1-9][0-9]*$ ]] || imvar_die "IMVAR_CAL_TASKS='$IMVAR_CAL_TASKS' is not a positive count" 2
  tasks=$IMVAR_CAL_TASKS
fi
[ "$dry" = 1 ] || mkdir -p "$IMVAR_OUT/logs"

# The jobs read the same settings: export them (sbatch --export=ALL).
export IMVAR_JOBS_DIR IMVAR_ROOT IMVAR_BIN IMVAR_OUT IMVAR_CONFIG IMVAR_CAL_CONFIG IMVAR_MARKET \
  IMVAR_MARKET_CSV IMVAR_PORTFOLIOS IMVAR_SET IMVAR_CAL_TASKS IMVAR_REQUEUE \
  IMVAR_MODULES IMVAR_SRUN_ARGS
[ -z "${IMVAR_REPORT_HTML:-}" ] || export IMVAR_REPORT_HTML
[ -z "${IMVAR_REPORT_INPUT:-}" ] || export IMVAR_REPORT_INPUT

common=(--parsable --export=ALL)
[ -z "$IMVAR_PARTITION" ] || common+=("--partition=$IMVAR_PARTITION")
[ -z "$IMVAR_ACCOUNT" ] || common+=("--account=$IMVAR_ACCOUNT")
[ -z "$IMVAR_QOS" ] || common+=("--qos=$IMVAR_QOS")
# shellcheck disable=SC2206
[ -z "$IMVAR_SBATCH_ARGS" ] || common+=($IMVAR_SBATCH_ARGS)
signal=()
[ -z "${IMVAR_SIGNAL:-}" ] || signal=("--signal=TERM@$IMVAR_SIGNAL")
# A time limit shorter than the signal's lead gets the signal at once, before
# the backtest runs (and the warning signal is sent only once): say so.
to_secs() { # Slurm's --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S
  local t=$1 d=0 a b c
  [[ $t == *-* ]] && d=${t%%-*} t=${t#*-}
  IFS=: read -r a b c <<<"$t"
  if [[ $1 == *-* ]]; then echo $((d * 86400 + 10#${a:-0} * 3600 + 10#${b:-0} * 60 + 10#${c:-0}))
  elif [ -n "$c" ]; then echo $((10#$a * 3600 + 10#$b * 60 + 10#$c))
  elif [ -n "$b" ]; then echo $((10#$a * 60 + 10#$b))
  else echo $((10#$a * 60)); fi
}
for pair in "${IMVAR_TIME:-02:00:00} backtest" "${IMVAR_CAL_TIME:-01:00:00} calibrate"; do
  secs=$(to_secs "${pair% *}" 2>/dev/null) || continue
  if ((secs < ${IMVAR_SIGNAL:-300} + 120)); then
    echo "submit: warning: ${pair#* } time limit ${pair% *} leaves less than 2 minutes before the SIGTERM sent ${IMVAR_SIGNAL:-300} s before it (IMVAR_SIGNAL)" >&2
  fi
done

submitted=()
submit() { # submit NAME sbatch-args...: prints the job id
  local name=$1 out id
  shift
  if [ "$dry" = 1 ]; then
    echo "sbatch ${common[*]} $*" >&2
    echo "DRY-$name"
    return 0
  fi
  if ! out=$(sbatch "${common[@]}" "$@"); then
    echo "submit: sbatch of $name failed" >&2
    [ ${#submitted[@]} -eq 0 ] || scancel "${submitted[@]}" || true
    [ ${#submitted[@]} -eq 0 ] || echo "submit: cancelled ${submitted[*]}" >&2
    exit 1
  fi
  id=${out%%;*} # --parsable prints "id" or "id;cluster"
  submitted+=("$id")
  echo "$id"
}

logs=$IMVAR_OUT/logs
bt_opts=("--output=$logs/%x-%j.out")
[ -z "${IMVAR_NTASKS:-}" ] || bt_opts+=("--ntasks=$IMVAR_NTASKS")
[ -z "${IMVAR_TIME:-}" ] || bt_opts+=("--time=$IMVAR_TIME")
bt=$(submit backtest "${bt_opts[@]}" "${signal[@]}" "$IMVAR_JOBS_DIR/backtest.sbatch" "${args[@]}")
submitted+=("$bt")
after=$bt
if [ "$calibrate" = 1 ]; then
  cal_opts=("--output=$logs/%x-%A_%a.out" "--array=0-$((tasks - 1))${IMVAR_ARRAY_MAX:+%$IMVAR_ARRAY_MAX}")
  [ -z "${IMVAR_CAL_NTASKS:-}" ] || cal_opts+=("--ntasks=$IMVAR_CAL_NTASKS")
  [ -z "${IMVAR_CAL_TIME:-}" ] || cal_opts+=("--time=$IMVAR_CAL_TIME")
  cal=$(submit calibrate "${cal_opts[@]}" "${signal[@]}" "$IMVAR_JOBS_DIR/calibrate.sbatch")
  submitted+=("$cal")
  merge=$(submit merge "--output=$logs/%x-%j.out" --dependency="afterok:$cal" --kill-on-invalid-dep=yes \
    "$IMVAR_JOBS_DIR/calibrate-merge.sbatch")
  submitted+=("$merge")
  after=$after:$merge
fi
rep_opts=("--output=$logs/%x-%j.out" --dependency="afterok:$after" --kill-on-invalid-dep=yes)
[ -z "${IMVAR_REPORT_TIME:-}" ] || rep_opts+=("--time=$IMVAR_REPORT_TIME")
rep=$(submit report "${rep_opts[@]}" "$IMVAR_JOBS_DIR/report.sbatch")

{
  echo "backtest=$bt"
  if [ "$calibrate" = 1 ]; then
    echo "calibrate=$cal"
    echo "merge=$merge"
  fi
  echo "report=$rep"
} | if [ "$dry" = 1 ]; then cat; else tee "$IMVAR_OUT/jobs.txt"; fi
if [ "$calibrate" = 1 ]; then
  echo "submit: calibration $IMVAR_CAL_CONFIG in $tasks array tasks" >&2
fi
echo "submit: outputs under $IMVAR_OUT (logs in $logs); squeue -j ${bt}${cal:+,$cal,$merge},$rep" >&2
