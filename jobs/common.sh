# Shared by the imvar job scripts (backtest.sbatch, calibrate.sbatch,
# calibrate-merge.sbatch, report.sbatch) and submit.sh: defaults of the
# IMVAR_* variables, modules, how imvar is launched, the market file, the
# record of what ran (config, revisions, inputs) and the requeue on exit 75.
# Sourced, never run. Every variable is documented in jobs/README.md.

# shellcheck shell=bash
IMVAR_JOBS_DIR=${IMVAR_JOBS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=site.sh
. "${IMVAR_SITE:-$IMVAR_JOBS_DIR/site.sh}"

: "${IMVAR_ROOT:=$(cd "$IMVAR_JOBS_DIR/.." && pwd)}"
: "${IMVAR_OUT:=${SLURM_SUBMIT_DIR:-$PWD}/imvar-out}"
: "${IMVAR_CONFIG:=$IMVAR_ROOT/data/configs/default.yaml}"
: "${IMVAR_MARKET:=$IMVAR_OUT/market.h5}"
: "${IMVAR_MARKET_CSV:=}"
: "${IMVAR_PORTFOLIOS:=}"
: "${IMVAR_SET:=}"
: "${IMVAR_CAL_CONFIG:=$IMVAR_ROOT/data/configs/calibrate.yaml}"
: "${IMVAR_CAL_TASKS:=4}"
: "${IMVAR_REQUEUE:=1}"

imvar_log() { echo "[imvar-job $(date -u +%FT%TZ)] $*"; }
imvar_die() {
  echo "[imvar-job] error: $1" >&2
  exit "${2:-1}"
}

# Absolute path of $1 (which need not exist), relative to the current directory.
imvar_abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

# Modules, the imvar binary, absolute paths. Call first in every job.
imvar_init() {
  if [ -n "$IMVAR_MODULES" ]; then
    if ! type module >/dev/null 2>&1; then
      # A batch shell is not a login shell: the module function may be missing.
      for f in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash; do
        # shellcheck disable=SC1090
        [ -r "$f" ] && . "$f" && break
      done
    fi
    type module >/dev/null 2>&1 || imvar_die "IMVAR_MODULES is set but there is no 'module' command"
    # shellcheck disable=SC2086
    module load $IMVAR_MODULES || imvar_die "module load $IMVAR_MODULES failed"
  fi
  if [ -z "${IMVAR_BIN:-}" ]; then
    if [ -x "$IMVAR_ROOT/build/src/app/imvar" ]; then
      IMVAR_BIN=$IMVAR_ROOT/build/src/app/imvar
    else
      IMVAR_BIN=$(command -v imvar) || imvar_die "imvar not found: set IMVAR_BIN, or build into $IMVAR_ROOT/build"
    fi
  fi
  [ -x "$IMVAR_BIN" ] || imvar_die "IMVAR_BIN=$IMVAR_BIN is not executable"
  IMVAR_BIN=$(imvar_abspath "$IMVAR_BIN")
  IMVAR_OUT=$(imvar_abspath "$IMVAR_OUT")
  IMVAR_CONFIG=$(imvar_abspath "$IMVAR_CONFIG")
  IMVAR_MARKET=$(imvar_abspath "$IMVAR_MARKET")
  IMVAR_CAL_CONFIG=$(imvar_abspath "$IMVAR_CAL_CONFIG")
  [ -z "$IMVAR_PORTFOLIOS" ] || IMVAR_PORTFOLIOS=$(imvar_abspath "$IMVAR_PORTFOLIOS")
  # Run inside an allocation: srun uses the job's tasks. Outside Slurm (bash
  # jobs/backtest.sbatch on a workstation): mpirun with IMVAR_NTASKS ranks.
  if [ -n "${SLURM_JOB_ID:-}" ]; then
    # shellcheck disable=SC2206
    IMVAR_LAUNCH=(srun $IMVAR_SRUN_ARGS)
    # shellcheck disable=SC2206
    IMVAR_LAUNCH1=(srun $IMVAR_SRUN_ARGS --ntasks=1)
  else
    IMVAR_LAUNCH=(mpirun -n "${IMVAR_NTASKS:-1}")
    IMVAR_LAUNCH1=(mpirun -n 1)
  fi
}

# The --set options every backtest of this run gets: the market file, the
# portfolios (if IMVAR_PORTFOLIOS is set), IMVAR_SET, then the arguments.
# Fills the array IMVAR_SETS with "key=value" words.
imvar_collect_sets() {
  IMVAR_SETS=("market=$IMVAR_MARKET")
  [ -z "$IMVAR_PORTFOLIOS" ] || IMVAR_SETS+=("portfolios=$IMVAR_PORTFOLIOS")
  local w extra
  read -ra extra <<<"$IMVAR_SET" # split on blanks, no globbing
  for w in "${extra[@]}" "$@"; do
    case $w in
      --set | -s) ;;
      --set=*) IMVAR_SETS+=("${w#--set=}") ;;
      *=*) IMVAR_SETS+=("$w") ;;
      *) imvar_die "'$w' is not a key=value override (IMVAR_SET or job arguments)" 2 ;;
    esac
  done
}

# The market file: kept if it exists, else imported from IMVAR_MARKET_CSV
# (NAME=FILE words; default the shipped Binance daily closes of 7 coins) into
# a temporary name and renamed, so that concurrent jobs never see half a file.
imvar_ensure_market() {
  [ -s "$IMVAR_MARKET" ] && return 0
  local csv=() u
  if [ -n "$IMVAR_MARKET_CSV" ]; then
    # shellcheck disable=SC2206
    csv=($IMVAR_MARKET_CSV)
  else
    for u in BTC ETH SOL BNB XRP ADA DOGE; do
      csv+=("$u=$IMVAR_ROOT/data/market/${u,,}_usdt_binance_daily.csv")
    done
  fi
  mkdir -p "$(dirname "$IMVAR_MARKET")"
  local tmp="$IMVAR_MARKET.tmp.${SLURM_JOB_ID:-$$}.${SLURM_ARRAY_TASK_ID:-0}"
  imvar_log "importing ${csv[*]} -> $IMVAR_MARKET"
  "${IMVAR_LAUNCH1[@]}" "$IMVAR_BIN" import -o "$tmp" "${csv[@]}" || {
    rm -f "$tmp"
    imvar_die "import of the market data failed"
  }
  mv -f "$tmp" "$IMVAR_MARKET"
}

# The effective configuration: the YAML, then one "# --set key=value" line per
# override (the same text imvar stores in results.h5 as the 'config' attribute).
# usage: imvar_effective_config FILE key=value...
imvar_effective_config() {
  local f=$1 s
  shift
  {
    cat "$IMVAR_CONFIG"
    for s in "$@"; do echo "# --set $s"; done
  } >"$f.tmp.$$" && mv -f "$f.tmp.$$" "$f"
}

imvar_sha256() { if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; else echo "(missing)"; fi; }

# Appends one record of this run (a requeued job appends another) to
# DIR/provenance.txt: job, node list, imvar and source revisions, inputs with
# their sha256, the command. usage: imvar_provenance DIR COMMAND...
imvar_provenance() {
  local dir=$1 rev src
  shift
  rev=$("${IMVAR_LAUNCH1[@]}" "$IMVAR_BIN" --version 2>/dev/null) || rev="(imvar --version failed)"
  if command -v git >/dev/null && src=$(git -C "$IMVAR_ROOT" rev-parse HEAD 2>/dev/null); then
    [ -z "$(git -C "$IMVAR_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || src="$src (modified working tree)"
  else
    src="(not a git checkout)"
  fi
  {
    echo "== $(date -u +%FT%TZ)"
    echo "job:        ${SLURM_JOB_NAME:-local} id ${SLURM_JOB_ID:-none}${SLURM_ARRAY_JOB_ID:+ array ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}} restart ${SLURM_RESTART_COUNT:-0}"
    echo "allocation: ${SLURM_NTASKS:-${IMVAR_NTASKS:-1}} tasks on ${SLURM_JOB_NODELIST:-$(uname -n)} partition ${SLURM_JOB_PARTITION:-none} account ${SLURM_JOB_ACCOUNT:-none}"
    echo "submitted:  from ${SLURM_SUBMIT_DIR:-$PWD}"
    echo "imvar:      $rev ($IMVAR_BIN)"
    echo "source:     $IMVAR_ROOT at $src"
    echo "modules:    ${IMVAR_MODULES:-none}"
    echo "config:     $IMVAR_CONFIG sha256 $(imvar_sha256 "$IMVAR_CONFIG")"
    echo "market:     $IMVAR_MARKET sha256 $(imvar_sha256 "$IMVAR_MARKET")"
    [ -z "$IMVAR_PORTFOLIOS" ] || echo "portfolios: $IMVAR_PORTFOLIOS sha256 $(imvar_sha256 "$IMVAR_PORTFOLIOS")"
    echo "command:    $*"
  } >>"$dir/provenance.txt"
}

# After a backtest step: 0 passes; 75 (stopped by SIGTERM with a checkpoint,
# e.g. the --signal before the time limit, or preemption) requeues this job,
# whose restart continues the checkpoint with --resume; anything else fails the job.
# usage: imvar_handle_exit RC WHAT
imvar_handle_exit() {
  local rc=$1 what=$2
  [ "$rc" = 0 ] && return 0
  if [ "$rc" = 75 ]; then
    imvar_log "$what stopped with a checkpoint (exit 75)"
    if [ -n "${SLURM_JOB_ID:-}" ] && [ "$IMVAR_REQUEUE" = 1 ]; then
      # Logged first: the requeue ends this shell at once.
      imvar_log "requeueing job $SLURM_JOB_ID: its restart resumes from the checkpoint"
      for _ in 1 2 3; do
        scontrol requeue "$SLURM_JOB_ID" && exit 75
        sleep 2
      done
      imvar_log "scontrol requeue failed (job submitted with --no-requeue?)"
    fi
    imvar_log "submit the same job again: it resumes from the checkpoint"
    exit 75
  fi
  imvar_die "$what failed with exit code $rc" "$rc"
}
