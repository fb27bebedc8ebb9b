#!/usr/bin/env bash
# Checkpoint and resume: a backtest stopped (1) by the fault-injection hook,
# (2) by a real SIGTERM and (3) by kill -9 of its ranks, then resumed at
# another rank count, must end with results byte-identical to an
# uninterrupted run's. usage: checkpoint.sh BUILD_DIR SOURCE_DIR WORKDIR
set -uo pipefail
build=$1 src=$2 work=$3
imvar=$build/src/app/imvar compare=$build/tests/mpi/compare_results
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export HDF5_USE_FILE_LOCKING=FALSE # to peek at the checkpoint while it is written
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

args=()
for u in BTC ETH SOL; do args+=("$u=$src/data/market/${u,,}_usdt_binance_daily.csv"); done
"$imvar" import -o market.h5 "${args[@]}" >/dev/null || exit 1
"$imvar" portfolios generate --count 4000 --seed 11 --market market.h5 --max-positions 8 \
  -o ports.csv >/dev/null || exit 1
cat >cp.yaml <<YAML
market: market.h5
portfolios: ports.csv
output: out.h5
start: 2023-01-01
end: 2023-12-31
tiles:
  portfolios: 200
  dates: 73
models:
  hs99:
    window: 500
    horizon: 2
YAML
"$imvar" backtest -q -c cp.yaml -o ref.h5 2>/dev/null || { echo "reference run failed"; exit 1; }

done_tiles() { h5dump -d /checkpoint/done "$1" 2>/dev/null | grep -o '\b1\b' | wc -l; }
# wait_tiles FILE N PID: until N tiles are recorded (10 s deadline).
wait_tiles() {
  for _ in $(seq 1 200); do
    [ -f "$1" ] && [ "$(done_tiles "$1")" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# 1. Fault injection: a rank stops after 3 tiles, and so the others after their
#    current one; exit 75, checkpoint kept.
rc=0
IMVAR_FAULT_STOP_AFTER_TILES=3 mpirun -n 2 "$imvar" backtest -q -c cp.yaml -o f.h5 2>f.err || rc=$?
n=$(done_tiles f.h5.partial)
if [ "$rc" = 75 ] && [ ! -e f.h5 ] && [ "$n" -ge 3 ] && [ "$n" -lt 100 ] && grep -q -- "--resume" f.err; then
  ok "fault stop: exit 75, $n of 100 tiles recorded, no final output"
else
  bad "fault stop: rc=$rc, $n tiles"; cat f.err
fi
mpirun -n 3 "$imvar" backtest -q -c cp.yaml -o f.h5 --resume 2>f2.err && "$compare" ref.h5 f.h5 >/dev/null &&
  [ ! -e f.h5.partial ] && ok "fault stop: resumed at 3 ranks, identical to the uninterrupted run" ||
  { bad "fault stop: resume"; cat f2.err; }

# 2. A real SIGTERM to a running (singleton) backtest.
"$imvar" backtest -q -c cp.yaml -o s.h5 2>s.err &
pid=$!
if wait_tiles s.h5.partial 3 $pid; then
  kill -TERM $pid
  rc=0
  wait $pid || rc=$?
  n=$(done_tiles s.h5.partial)
  [ "$rc" = 75 ] && [ "$n" -lt 100 ] && ok "SIGTERM: exit 75 after $n of 100 tiles" ||
    { bad "SIGTERM: rc=$rc, $n tiles"; cat s.err; }
  mpirun -n 2 "$imvar" backtest -q -c cp.yaml -o s.h5 --resume 2>s2.err &&
    "$compare" ref.h5 s.h5 >/dev/null && ok "SIGTERM: resumed at 2 ranks, identical" ||
    { bad "SIGTERM: resume"; cat s2.err; }
else
  bad "SIGTERM: the run finished or stalled before 3 tiles were recorded"
  wait $pid
fi

# 3. kill -9 of every rank mid-run; the resumed run recomputes only what is missing.
mpirun -n 2 "$imvar" backtest -q -c cp.yaml -o k.h5 2>k.err &
mpid=$!
if wait_tiles k.h5.partial 4 $mpid; then
  pkill -KILL -f "$imvar backtest -q -c cp.yaml -o k.h5"
  wait $mpid
  n=$(done_tiles k.h5.partial)
  "$imvar" backtest -q -c cp.yaml -o k.h5 --resume 2>k2.err
  rc=$?
  redone=$(grep -o '[0-9]* done now' k2.err | grep -o '^[0-9]*')
  [ "$rc" = 0 ] && [ "$redone" = $((100 - n)) ] && "$compare" ref.h5 k.h5 >/dev/null &&
    ok "kill -9 after $n tiles: resume computed the other $redone, identical" ||
    { bad "kill -9: rc=$rc n=$n redone=$redone"; cat k2.err; }
else
  bad "kill -9: the run finished or stalled before 4 tiles were recorded"
  wait $mpid
fi

# 4. Resuming with another configuration is refused and keeps the checkpoint.
IMVAR_FAULT_STOP_AFTER_TILES=1 "$imvar" backtest -q -c cp.yaml -o d.h5 2>/dev/null
rc=0
"$imvar" backtest -q -c cp.yaml -o d.h5 --resume --set models.hs99.window=400 2>d.err || rc=$?
[ "$rc" = 3 ] && [ -e d.h5.partial ] && grep -q "configuration differs" d.err &&
  ok "resume with another configuration: exit 3, checkpoint kept" || { bad "config change: rc=$rc"; cat d.err; }

echo "checkpoint: $pass passed, $fail failed"
[ "$fail" = 0 ]
