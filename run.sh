#!/usr/bin/env bash
# The two set-up commands of the README, for a fresh Debian 12 machine:
#   ./run.sh main    install what is missing, build, run the main job on the shipped data
#   ./run.sh test    install what is missing, build, run the whole test suite
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
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: ./run.sh main | test" >&2
    exit 2
    ;;
esac
