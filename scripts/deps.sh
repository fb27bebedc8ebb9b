#!/usr/bin/env bash
# Installs the Debian packages imvar needs to build and test, only those missing.
# Debian 12 (bookworm), run as root (or with sudo on PATH).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libgsl-dev
  libyaml-dev
  libcsv-dev
  libcmocka-dev
  librandom123-dev
  munge slurmctld slurmd slurm-client
  gnuplot-nox chromium fonts-dejavu-core python3
  # tests/reference and tests/mpi: independent checks of results.h5
  python3-numpy python3-h5py
  # tests/fuzz and tests/sanitize: clang with libFuzzer and the sanitizer runtimes
  # (libclang-rt-14-dev), llvm-symbolizer for readable reports (llvm-14), valgrind
  clang libclang-rt-14-dev llvm-14 valgrind
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
