#!/usr/bin/env bash
# Runs a command and appends "<MPI rank> <exit code>" to FILE, so that a test
# can check the exit code of every rank, not only the one mpirun reports.
# usage: rank-rc.sh FILE command...
out=$1
shift
"$@"
rc=$?
echo "${OMPI_COMM_WORLD_RANK:-0} $rc" >>"$out"
exit $rc
