#!/usr/bin/env bash
# Stops the cluster slurm-up.sh started under BASE: cancels its jobs and waits
# (30 s at most) for the node to drain -- linuxproc does not track job
# processes once slurmd is gone -- then stops slurmd, slurmctld and munged by
# their PID files (never by name), SIGKILL after 5 s. Safe to run twice or on a
# half-started cluster. usage: slurm-down.sh BASE [--rm]  (--rm: delete BASE)
set -uo pipefail
BASE=${1:?usage: slurm-down.sh BASE [--rm]}
export SLURM_CONF=$BASE/slurm/slurm.conf
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st:0:1}" != Z ]; }
pidof_file() { [ -s "$1" ] && cat "$1"; }

if pid=$(pidof_file "$BASE/slurm/slurmctld.pid") && alive "$pid"; then
  timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
  for _ in $(seq 1 60); do
    [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] &&
      ! timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE 'completing|mixed|allocated' && break
    sleep 0.5
  done
fi
for p in "$BASE/slurm/slurmd.pid" "$BASE/slurm/slurmctld.pid" "$BASE/munge/munged.pid"; do
  pid=$(pidof_file "$p") || continue
  alive "$pid" || continue
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
  alive "$pid" && kill -9 "$pid" 2>/dev/null
done
if [ "${2:-}" = --rm ]; then rm -rf "$BASE"; fi
exit 0
