#!/usr/bin/env bash
# Size and power of the backtests with asymptotic and simulated p-values (not
# a test): builds the core in Release and runs the two parts of es_size (see
# tests/bench/es_size.c) side by side on 2 cores; prints key=value lines.
# Takes a few minutes.   usage: tests/bench/es_size.sh [S [M [S_ES [M_Z [seed]]]]]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build-bench-es
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DIMVAR_CORE_ONLY=ON >/dev/null
cmake --build "$build" -j 2 --target es_size >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/tests/bench/es_size" var "$@" >"$out/var" &
pid=$!
"$build/tests/bench/es_size" es "$@" >"$out/es"
wait "$pid"
cat "$out/var" "$out/es"
