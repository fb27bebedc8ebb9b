# Shared by the Slurm tests (chain.sh, requeue.sh): a private single-node
# cluster that is always torn down, bounded waits, job states, pass/fail.
# Sourced after setting: build, src, work. Sets imvar, compare, BASE.
# shellcheck shell=bash
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
imvar=$build/src/app/imvar
compare=$build/tests/mpi/compare_results
t_start=$(date +%s.%N)
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   [$(elapsed) s] $1"; }
bad() { fail=$((fail + 1)); echo "FAIL [$(elapsed) s] $1"; }
check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
  local d=$1
  shift
  if "$@"; then ok "$d"; else
    bad "$d"
    return 1
  fi
}

if [ "${IMVAR_SKIP_SLURM:-0}" = 1 ]; then
  echo "IMVAR_SKIP_SLURM=1: Slurm test skipped"
  exit 77
fi
if [ "$(id -u)" != 0 ]; then
  echo "not root: this test starts slurmd, which runs the jobs as root here; skipped"
  exit 77
fi
for f in "$imvar" "$compare"; do [ -x "$f" ] || { echo "missing $f (build first)"; exit 1; }; done

# Every job inherits this environment (sbatch --export=ALL): Open MPI as root,
# more ranks than the machine's cores (yield_when_idle, or they spin).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 \
  OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE # the tests peek at checkpoints being written
unset SLURM_JOB_ID SLURM_JOBID SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID # not inside someone's job

# The cluster: state under a short path of our own (unix sockets), stopped on
# any exit of the test, including a CTest timeout's SIGTERM.
BASE=/tmp/imvar-slurm-$$
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  kill "$watchdog" 2>/dev/null
  bash "$here/slurm-down.sh" "$BASE" --rm >/dev/null 2>&1
  exit "$rc"
}
trap teardown EXIT
trap 'echo "terminated (CTest, or the watchdog after $watchdog_secs s)"; exit 143' INT TERM
# Watchdog: before CTest's TIMEOUT (which kills without a trap), stop the
# cluster even if this shell is stuck in a command, then end the test.
watchdog_secs=${IMVAR_SLURM_TEST_DEADLINE:-210}
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$watchdog_secs" &
  sleeper=$!
  wait "$sleeper"
  bash "$here/slurm-down.sh" "$BASE"
  kill -TERM $$
) </dev/null >/dev/null 2>&1 &
watchdog=$!
cluster_up() {
  mkdir -p "$BASE/tmp" && export TMPDIR=$BASE/tmp # Open MPI session directories, per cluster
  if ! bash "$here/slurm-up.sh" "$BASE" 8; then
    echo "could not start Slurm"
    return 1
  fi
  # shellcheck disable=SC1091
  . "$BASE/env.sh"
}

# wait_gone SECONDS ID...: until none of the jobs (array tasks included) is
# pending, running or completing; 1 at the deadline.
wait_gone() {
  local deadline ids
  deadline=$(($(date +%s) + $1))
  shift
  ids=$(IFS=,; echo "$*")
  local q
  while [ "$(date +%s)" -lt "$deadline" ]; do
    # Only an answer counts: a query that fails (controller busy) is retried.
    if q=$(timeout 10 squeue -h -j "$ids" -o %i 2>>"$work/slurm-client.err"); then
      [ -z "$q" ] && return 0
    fi
    sleep 0.5
  done
  echo "deadline: still in the queue after the wait:"
  timeout 10 squeue -j "$ids"
  return 1
}
# job_field ID FIELD: the FIELD=value words of scontrol show job (one per
# array task), e.g. job_field 12 JobState -> COMPLETED.
# A query the controller does not answer (busy: scontrol times out) is retried.
job_field() {
  local out i
  for i in 1 2 3 4 5; do
    out=$(timeout 10 scontrol show job "$1" 2>>"$work/slurm-client.err") && [ -n "$out" ] && break
    sleep 0.5
  done
  echo "$out" | grep -oE "(^| )$2=[^ ]*" | sed "s/.*$2=//"
}
# job_ended ID: the job is in a final state (not pending, running, requeued...).
job_ended() { [[ "$(job_field "$1" JobState)" =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$ ]]; }
# all_completed ID [N]: every record of the job COMPLETED with exit 0:0
# (and N records, for an array).
all_completed() {
  local st ex n
  st=$(job_field "$1" JobState) ex=$(job_field "$1" ExitCode)
  n=$(echo "$st" | grep -c .)
  [ -n "$st" ] && [ -z "$(echo "$st" | grep -v '^COMPLETED$')" ] && [ -z "$(echo "$ex" | grep -v '^0:0$')" ] &&
    [ "$n" = "${2:-1}" ] && return 0
  echo "  job $1: states $(echo $st) exit codes $(echo $ex)"
  return 1
}
# diagnose ID...: what Slurm says about jobs that did not end as expected.
diagnose() {
  local j
  for j in "$@"; do
    echo "  -- job $j:"
    timeout 10 scontrol show job "$j" 2>&1 | grep -E 'JobState|Restarts|Time=|Reason' | sed 's/^/     /'
    grep -E "JobId=${j}[ _]|[ =]${j}[ _.]" "$BASE/slurm/log/slurmctld.log" | tail -n 15 | sed 's/^/     ctld: /'
    grep -E "$j" "$BASE/slurm/log/slurmd.log" | tail -n 15 | sed 's/^/     slurmd: /'
  done
  return 1
}
# done_tiles FILE: tiles recorded in a checkpoint (0 while unreadable).
done_tiles() { h5dump -y -d /checkpoint/done "$1" 2>/dev/null | grep -o '\b1\b' | wc -l; }
# Direct (outside Slurm) run for references.
direct() { timeout 120 mpirun -n "$1" "$imvar" "${@:2}"; }
finish() {
  if [ -s "$work/slurm-client.err" ]; then
    echo "note: $(wc -l <"$work/slurm-client.err") Slurm client errors (retried), first:"
    head -n 3 "$work/slurm-client.err"
  fi
  echo "$name: $pass passed, $fail failed ($(elapsed) s)"
  [ "$fail" = 0 ]
}
