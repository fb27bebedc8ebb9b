#!/usr/bin/env bash
# The AddressSanitizer + UndefinedBehaviorSanitizer build and its tests:
# builds BUILD_DIR with IMVAR_SANITIZE=address,undefined (any UBSan report is
# fatal), then runs under CTest the unit tests, the MPI tests (1-4 ranks,
# determinism, checkpoint/resume with SIGTERM and kill -9) and the fuzz corpus
# replays with leak checking on (Open MPI's own leaks suppressed, see env.sh).
# With IMVAR_ASAN_BAD_INPUTS=1 also the bad-input catalogue at 1 rank with leak
# checking off (about 2.5 min more, so not in CI's ./run.sh test; LeakSanitizer
# costs about 1 s a process here; the parsers' error paths are leak-checked by
# the fuzzers, the commands' by tests/sanitize/valgrind.sh).
# usage: [IMVAR_ASAN_BAD_INPUTS=1] asan.sh BUILD_DIR [JOBS]
set -uo pipefail
build=$1 jobs=${2:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build" && build=$(cd "$build" && pwd) # absolute: the bad-input runner changes directory
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMVAR_SANITIZE=address,undefined \
  >"$build.cmake.log" 2>&1 || { cat "$build.cmake.log"; exit 1; }
cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1 || { tail -40 "$build.build.log"; exit 1; }
# shellcheck source=env.sh
source "$root/tests/sanitize/env.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
pass=0 fail=0
if ctest --test-dir "$build" --output-on-failure -j "$jobs" -R '^(test_|mpi_|fuzz_replay_)' \
  >"$build/ctest-asan.log" 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1))
  grep -aE -B2 -A40 'Failed|ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$build/ctest-asan.log" | head -120
fi
grep -E 'tests passed|Total Test time' "$build/ctest-asan.log"
if [ "${IMVAR_ASAN_BAD_INPUTS:-0}" = 1 ]; then
  ASAN_OPTIONS=${ASAN_OPTIONS//detect_leaks=1/detect_leaks=0} \
    bash "$root/tests/bad-inputs/run" "$build/src/app/imvar" 1 "$build/test-out/bad-inputs-asan" \
    "$root" "$build/tests/bad-inputs/mkbad_h5" >"$build/bad-inputs-asan.log" 2>&1
  if [ $? = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); grep -a -A12 '^FAIL' "$build/bad-inputs-asan.log" | head -80; fi
  tail -2 "$build/bad-inputs-asan.log" | head -1
fi
echo "sanitizers: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
