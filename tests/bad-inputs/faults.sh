#!/usr/bin/env bash
# Fault injection. A rank killed (kill -9) in the middle of a 3-rank backtest,
# during the tiles or the validation, or SIGTERM to mpirun: the job exits
# non-zero promptly, never hangs, leaves no final output (only <output>.partial,
# which validate refuses), and --resume then finishes with results identical
# to an uninterrupted run. The fault hook IMVAR_FAULT_STOP_AFTER_TILES: exit 75
# on every rank. A full disk (a 256 KiB tmpfs) and a read-only one: a clear
# error for backtest (1 and 3 ranks), import, report and portfolios generate,
# and nothing left behind. Standard output on a full device (/dev/full): exit 1.
# usage: faults.sh BUILD_DIR SOURCE_DIR WORKDIR
set -uo pipefail
build=$1 src=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
imvar=$build/src/app/imvar compare=$build/tests/mpi/compare_results
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export HDF5_USE_FILE_LOCKING=FALSE # to read the checkpoint while it is written
prompt=${IMVAR_FAULT_PROMPT_S:-15}  # "promptly": seconds from the kill to mpirun's exit
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; }
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' "$2" | head -20; }

d=$src/data/market
"$imvar" import -o market.h5 BTC="$d/btc_usdt_binance_daily.csv" ETH="$d/eth_usdt_binance_daily.csv" \
  SOL="$d/sol_usdt_binance_daily.csv" >/dev/null || exit 1
"$imvar" portfolios generate --count 4000 --seed 11 --market market.h5 --max-positions 8 \
  -o ports.csv >/dev/null || exit 1
cat >k.yaml <<'YAML'
market: market.h5
portfolios: ports.csv
start: 2019-01-01
end: 2023-12-31
tiles:
  portfolios: 200
  dates: 73
models:
  hs99:
    window: 500
    horizon: 2
YAML
tiles=$((20 * 26))
"$imvar" backtest -q -c k.yaml -o ref.h5 2>/dev/null || { echo "reference run failed"; exit 1; }

done_tiles() { h5dump -d /checkpoint/done "$1" 2>/dev/null | grep -o '\b1\b' | wc -l; }
# rank_pid MPIRUN_PID RANK: the pid of that rank (a child of mpirun).
rank_pid() {
  for c in $(pgrep -P "$1"); do
    if tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$c"
      return
    fi
  done
}
# wait_until COND_CMD PID: polls (20 s) until COND_CMD succeeds while PID lives.
wait_until() {
  for _ in $(seq 1 400); do
    eval "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# kill_rank NAME RANK PHASE: 3-rank backtest to NAME.h5, kill -9 of RANK once
# PHASE is reached (tiles: >= 30 tiles recorded; validation: all recorded).
kill_rank() {
  local name=$1 rank=$2 phase=$3
  mpirun -n 3 "$imvar" backtest -q -c k.yaml -o "$name.h5" >"$name.out" 2>"$name.err" &
  local mp=$! cond
  if [ "$phase" = tiles ]; then
    cond="[ -f $name.h5.partial ] && [ \$(done_tiles $name.h5.partial) -ge 30 ]"
  else
    cond="[ -f $name.h5.partial ] && [ \$(done_tiles $name.h5.partial) -ge $tiles ]"
  fi
  if ! wait_until "$cond" $mp; then
    bad "kill rank $rank during $phase: the run ended or stalled before that point" "$name.err"
    wait $mp
    return
  fi
  local victim
  victim=$(rank_pid $mp "$rank")
  local n0
  n0=$(done_tiles "$name.h5.partial")
  local t0=$SECONDS rc=0
  kill -9 "$victim"
  # mpirun must end by itself; the watchdog only bounds the test.
  (sleep 60 && kill -9 $mp 2>/dev/null) &
  local dog=$!
  wait $mp || rc=$?
  kill $dog 2>/dev/null
  local took=$((SECONDS - t0)) n
  n=$(done_tiles "$name.h5.partial")
  local v=0
  "$imvar" validate "$name.h5.partial" >/dev/null 2>"$name.val" || v=$?
  local why=""
  [ "$rc" != 0 ] || why="mpirun exit 0"
  [ "$took" -le "$prompt" ] || why="$why; mpirun took ${took} s to exit (limit $prompt s)"
  [ ! -e "$name.h5" ] || why="$why; $name.h5 exists"
  [ -e "$name.h5.partial" ] || why="$why; no checkpoint left"
  if [ "$phase" = tiles ]; then
    [ "$n" -lt "$tiles" ] || why="$why; all tiles recorded"
    [ "$v" = 3 ] && grep -q "an interrupted backtest" "$name.val" ||
      why="$why; validate of the checkpoint: exit $v"
  fi
  if [ -z "$why" ]; then
    ok "kill -9 of rank $rank during the $phase ($n0 of $tiles tiles recorded): mpirun exit $rc after ${took} s, no $name.h5, checkpoint with $n tiles"
  else
    bad "kill -9 of rank $rank during the $phase: ${why#; }" "$name.err"
  fi
  rc=0
  mpirun -n 2 "$imvar" backtest -q -c k.yaml -o "$name.h5" --resume >/dev/null 2>"$name.res" || rc=$?
  if [ "$rc" = 0 ] && "$compare" ref.h5 "$name.h5" >/dev/null && [ ! -e "$name.h5.partial" ] &&
    [ ! -e "$name.h5.lock" ]; then
    ok "  resumed at 2 ranks: identical to the uninterrupted run, no lock left$(grep -q 'removed the stale lock' "$name.res" && echo ' (stale lock taken over)')"
  else
    bad "  resume after killing rank $rank: exit $rc" "$name.res"
  fi
}
kill_rank k1 1 tiles
kill_rank k0 0 tiles
kill_rank kv 2 validation

# signal_stop NAME SIGNAL TARGET WANT: a 3-rank backtest to NAME.h5 gets SIGNAL
# once 30 tiles are recorded, sent to TARGET: mpirun, or ranks (each rank, as
# srun and Slurm's --signal do). mpirun must exit promptly with WANT ("non-zero":
# any), leave no NAME.h5 and no lock, keep the checkpoint; --resume then
# finishes identical to the uninterrupted run.
signal_stop() {
  local name=$1 sig=$2 target=$3 want=$4
  mpirun -n 3 "$imvar" backtest -q -c k.yaml -o "$name.h5" >/dev/null 2>"$name.err" &
  local mp=$!
  if ! wait_until "[ -f $name.h5.partial ] && [ \$(done_tiles $name.h5.partial) -ge 30 ]" $mp; then
    bad "$sig to $target: the run ended before 30 tiles" "$name.err"
    wait $mp
    return
  fi
  local t0=$SECONDS rc=0 why=""
  if [ "$target" = mpirun ]; then kill -"$sig" $mp; else kill -"$sig" $(pgrep -P $mp); fi
  wait $mp || rc=$?
  local took=$((SECONDS - t0))
  if [ "$want" = non-zero ]; then [ "$rc" != 0 ] || why="exit 0"; else [ "$rc" = "$want" ] || why="exit $rc, expected $want"; fi
  [ "$took" -le "$prompt" ] || why="$why; took ${took} s"
  [ ! -e "$name.h5" ] && [ -e "$name.h5.partial" ] || why="$why; $name.h5 written or no checkpoint"
  if [ -z "$why" ]; then
    ok "$sig to $target: exit $rc after ${took} s, no $name.h5, checkpoint kept"
  else
    bad "$sig to $target: ${why#; }" "$name.err"
  fi
  mpirun -n 3 "$imvar" backtest -q -c k.yaml -o "$name.h5" --resume >/dev/null 2>"$name.res" &&
    "$compare" ref.h5 "$name.h5" >/dev/null && [ ! -e "$name.h5.lock" ] &&
    ok "  resumed at 3 ranks: identical" || bad "  resume after $sig to $target" "$name.res"
}
# SIGTERM or Ctrl-C to mpirun itself: a graceful stop, but Open MPI's mpirun
# exits 1 whenever it is signalled so (its own status, whatever the ranks
# return); SIGTERM to the ranks (srun, Slurm's --signal) and SIGUSR1 to
# mpirun (which forwards it) give 75.
signal_stop st TERM mpirun non-zero
signal_stop sr TERM ranks 75
signal_stop su USR1 mpirun 75

# Two runs with the same -o at once: the second (a shorter run that would
# finish first) is refused with a message naming the first, plain or with
# --resume, and touches nothing; the first ends with its own results.
# The first run is slowed (50 ms a tile, about 13 s) so that it is still
# writing while the second is tried, however fast the machine.
IMVAR_FAULT_TILE_MS=50 mpirun -n 2 -x IMVAR_FAULT_TILE_MS "$imvar" backtest -q -c k.yaml -o same.h5 \
  >/dev/null 2>same1.err &
mp=$!
if wait_until "[ -f same.h5.partial ] && [ \$(done_tiles same.h5.partial) -ge 10 ]" $mp; then
  why=""
  for extra in "" --resume; do
    rc=0
    # shellcheck disable=SC2086
    "$imvar" backtest -q -c k.yaml --set end=2019-06-30 -o same.h5 $extra >/dev/null 2>same2.err || rc=$?
    [ "$rc" = 1 ] && grep -q "same.h5: another imvar run is writing it (pid [0-9]* on host" same2.err ||
      why="$why; second run ${extra:-plain}: exit $rc, message: $(head -c 300 same2.err)"
  done
  kill -0 $mp 2>/dev/null || why="$why; the first run ended before the second was tried"
  rc=0
  wait $mp || rc=$?
  [ "$rc" = 0 ] && "$compare" ref.h5 same.h5 >/dev/null || why="$why; first run: exit $rc or results not its own"
  [ ! -e same.h5.lock ] && [ ! -e same.h5.partial ] || why="$why; lock or checkpoint left behind"
  if [ -z "$why" ]; then
    ok "same -o twice: second run refused (exit 1, $(grep -o 'another imvar run is writing it ([^;]*' same2.err)), first run's results its own"
  else
    bad "same -o twice: ${why#; }" same2.err
  fi
else
  bad "same -o twice: the first run ended before 10 tiles" same1.err
  wait $mp
fi

# The fault hook at 3 ranks: every rank exits 75, the checkpoint stays partial.
rm -f ranks.txt
rc=0
IMVAR_FAULT_STOP_AFTER_TILES=2 mpirun --mca orte_abort_on_non_zero_status 0 -n 3 \
  bash "$here/rank-rc.sh" ranks.txt "$imvar" backtest -q -c k.yaml -o fh.h5 >/dev/null 2>fh.err || rc=$?
codes=$(sort ranks.txt | awk '{printf "%s ", $2}')
if [ "$codes" = "75 75 75 " ] && [ ! -e fh.h5 ] && [ "$(done_tiles fh.h5.partial)" -lt "$tiles" ]; then
  ok "IMVAR_FAULT_STOP_AFTER_TILES=2 at 3 ranks: exit 75 on every rank, $(done_tiles fh.h5.partial) tiles recorded, no fh.h5"
else
  bad "fault hook at 3 ranks: exit codes '$codes'" fh.err
fi

# ---- full and read-only disks -------------------------------------------------
# check NAME WANT_RC PATTERN DIR cmd...: exit code, message, DIR left empty.
check() {
  local name=$1 want=$2 pattern=$3 dir=$4
  shift 4
  local rc=0
  timeout -k 5 120 "$@" >"$name.out" 2>"$name.err" || rc=$?
  local left
  left=$(find "$dir" -mindepth 1 | head -3 | tr '\n' ' ')
  if [ "$rc" = "$want" ] && grep -q -- "$pattern" "$name.err" && [ -z "$left" ]; then
    ok "$name: exit $rc, $(grep -m1 'imvar: error' "$name.err")"
  else
    bad "$name: exit $rc (expected $want), left: '$left', message:" "$name.err"
  fi
}
mkdir -p full ro rep
"$imvar" backtest -q -c k.yaml --set end=2019-06-30 -o small.h5 2>/dev/null
if mount -t tmpfs -o size=256k tmpfs full 2>/dev/null && mounts+=("$PWD/full") &&
  mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null && mounts+=("$PWD/ro"); then
  check full-backtest-np1 1 "full/r.h5.partial: not enough disk space" full "$imvar" backtest -q -c k.yaml -o full/r.h5
  check full-backtest-np3 1 "full/r.h5.partial: not enough disk space" full mpirun -n 3 "$imvar" backtest -q -c k.yaml -o full/r.h5
  all=()
  for u in btc eth sol bnb xrp ada doge; do all+=("${u^^}=$d/${u}_usdt_binance_daily.csv"); done
  mkdir -p full/sub
  head -c 100000 /dev/zero >full/filler # about 150 KB left: less than each output needs
  check full-import 1 "full/sub/m.h5.*disk full" full/sub "$imvar" import -o full/sub/m.h5 "${all[@]}"
  check full-report 1 "full/sub/report.html.*disk full" full/sub "$imvar" report small.h5 -o full/sub/report.html
  check full-portfolios 1 "full/sub/p.csv.*disk full" full/sub "$imvar" portfolios generate --count 20000 \
    --seed 1 --market market.h5 -o full/sub/p.csv
  rm -rf full/sub full/filler
  # The disk filling up while the backtest writes (room for it at the start,
  # then a filler takes the rest): an error, then every HDF5 file closed or
  # abandoned without a crash (was: segfault in HDF5's close at MPI_Finalize,
  # exit 139), exit 1, no output, checkpoint or lock left.
  mkdir -p fill
  if mount -t tmpfs -o size=40m tmpfs fill 2>/dev/null && mounts+=("$PWD/fill"); then
    for n in 1 2; do
      rc=0
      mpirun -n $n "$imvar" backtest -q -c k.yaml --set end=2019-12-31 -o fill/r.h5 >/dev/null 2>fill.err &
      mp=$!
      wait_until "[ -f fill/r.h5.partial ]" $mp
      dd if=/dev/zero of=fill/filler bs=64k 2>/dev/null
      wait $mp || rc=$?
      rm -f fill/filler
      left=$(find fill -mindepth 1 | head -3 | tr '\n' ' ')
      if [ "$rc" = 1 ] && grep -q "imvar: error: fill/r.h5.partial" fill.err && [ -z "$left" ] &&
        ! grep -qE 'Segmentation fault|signal [0-9]+|Process received signal' fill.err; then
        ok "disk filled during a backtest at $n rank(s): exit 1, $(grep -m1 'imvar: error' fill.err)"
      else
        bad "disk filled during a backtest at $n rank(s): exit $rc, left: '$left'" fill.err
      fi
    done
  fi
  check readonly-backtest-np3 1 "ro/r.h5: cannot write there" ro mpirun -n 3 "$imvar" backtest -q -c k.yaml -o ro/r.h5
  check readonly-import 1 "ro/m.h5: cannot write there" ro "$imvar" import -o ro/m.h5 "${all[@]}"
  check readonly-report 1 "ro/report.html: cannot write there" ro "$imvar" report small.h5 -o ro/report.html
else
  skip=$((skip + 1))
  echo "skip full and read-only disks: cannot mount a tmpfs (not root?)"
fi

# Standard output on a full device: the lost output is an error (1 rank; under
# mpirun the output goes through mpirun, which does not report write errors).
for cmd in "validate small.h5" "validate small.h5 --json" "--help"; do
  rc=0
  # shellcheck disable=SC2086
  "$imvar" $cmd >/dev/full 2>full.err || rc=$?
  if [ "$rc" = 1 ] && grep -q "imvar: error: standard output" full.err; then
    ok "imvar $cmd >/dev/full: exit 1, $(cat full.err)"
  else
    bad "imvar $cmd >/dev/full: exit $rc" full.err
  fi
done

echo "faults: $pass passed, $fail failed, $skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
