#!/usr/bin/env bash
# The two set-up commands of the README, for a fresh Debian 12 machine:
#   ./run.sh main    install what is missing, build, run the main job on the shipped data
#   ./run.sh test    install what is missing, build, run the whole test suite, then the
#                    sanitizer (ASan+UBSan) build's tests and each fuzzer briefly
# BUILD_DIR (default build) and JOBS (default 2) may be set in the environment.
set -euo pipefail
cd "$(dirname "$0")"
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}

configure_and_build() {
  bash scripts/deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMVAR_WERROR=ON "$@" >/dev/null
  cmake --build "$build" -j "$jobs"
}

case "${1:-}" in
  main)
    configure_and_build
    bash scripts/main-job.sh "$build" data/configs/default.yaml out
    ;;
  test)
    configure_and_build
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1
    # core/ and its tests alone, with no MPI or HDF5 in the build.
    cmake -S . -B "$build-core" -DIMVAR_CORE_ONLY=ON -DIMVAR_WERROR=ON >/dev/null
    cmake --build "$build-core" -j "$jobs"
    ctest --test-dir "$build-core" --output-on-failure -j "$jobs"
    # Every stage runs; the first failure decides the exit code.
    rc=0
    ctest --test-dir "$build" --output-on-failure -j "$jobs" || rc=1
    # AddressSanitizer + UBSan build: unit, MPI and fuzz-replay tests, the bad-input catalogue.
    bash tests/sanitize/asan.sh "$build-asan" "$jobs" || rc=1
    # libFuzzer: each harness briefly (FUZZ_SECONDS, default 20; tests/fuzz/run -s 3600 for a campaign).
    bash tests/fuzz/run -s "${FUZZ_SECONDS:-20}" -j "$jobs" -b "$build-fuzz" || rc=1
    exit "$rc"
    ;;
  *)
    echo "usage: ./run.sh main | test" >&2
    exit 2
    ;;
esac
