#!/usr/bin/env bash
# Starts a throw-away single-node Slurm on 127.0.0.1: munged, slurmctld, slurmd,
# no systemd and no cgroups (proctrack/linuxproc, task/none), MPI through PMIx.
# Everything (keys, state, spool, logs, sockets, PMIx directories) lives under
# BASE; the ports are chosen free. Writes BASE/env.sh (SLURM_CONF for clients)
# and BASE/ports. Stop it with slurm-down.sh BASE, which the caller must run
# from an EXIT trap. Run as root (slurmd starts jobs as root here).
# usage: slurm-up.sh BASE [NCPUS]      (BASE: a short path, unix sockets live there)
set -euo pipefail
BASE=${1:?usage: slurm-up.sh BASE [NCPUS]}
NCPUS=${2:-${NCPUS:-8}}
H=localhost # Slurm maps it to this host for SlurmctldHost and NodeName: no host name needed
M=$BASE/munge S=$BASE/slurm

for b in munged mungekey slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || { echo "slurm-up: $b not found (bash scripts/deps.sh installs munge, slurmctld, slurmd, slurm-client)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "slurm-up: must run as root" >&2; exit 1; }

# Two free TCP ports (not in any state in /proc/net/tcp*), from a range picked by PID.
used_ports() {
  local f files=()
  for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] || return 0
  awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' "${files[@]}" |
    while read -r hex; do echo $((16#$hex)); done | sort -u
}
used=" $(used_ports | tr '\n' ' ') "
pick_port() {
  local p=$1
  while [[ $used == *" $p "* ]]; do p=$((p + 1)); done
  used="$used$p "
  echo "$p"
}
start=$((20000 + ($$ % 2000) * 10))
CTLD_PORT=${SLURMCTLD_PORT:-$(pick_port $start)}
SLURMD_PORT=${SLURMD_PORT:-$(pick_port $((CTLD_PORT + 1)))}

# Job ids distinct from another test cluster's running at the same time: Open
# MPI derives its session names from the PMIx namespace, slurm.pmix.<job>.<step>.
FIRST_JOB_ID=$((($$ % 60000) * 1000 + 1))

mkdir -p "$M" "$S"/{state,spool,log,pmix}
chmod 755 "$BASE" "$M" # munged: every directory above its socket must be o+x
[ -s "$M/munge.key" ] || mungekey --create --keyfile="$M/munge.key"
chmod 600 "$M/munge.key"
munged --socket="$M/munge.socket.2" --key-file="$M/munge.key" --pid-file="$M/munged.pid" \
  --log-file="$M/munged.log" --seed-file="$M/munged.seed"

cat >"$S/slurm.conf" <<CONF
ClusterName=imvartest
FirstJobId=$FIRST_JOB_ID
SlurmctldHost=${H}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$M/munge.socket.2,cred_expire=${CRED_EXPIRE:-5}
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$S/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=${H} NodeAddr=127.0.0.1 CPUs=${NCPUS} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=60 State=UP
CONF
# Test-cluster settings: cred_expire=5 (default 120) is how long a requeued
# job is held before it may start again; sched_interval=1 and bf_interval=1
# (default 60 and 30 s) start eligible jobs at once.
# mpi.conf is read from the slurm.conf directory: PMIx directories under BASE,
# not /tmp/spmix_appdir_* (a fresh cluster reuses job id 1 and would collide).
echo "PMIxCliTmpDirBase=$S/pmix" >"$S/mpi.conf"
echo "export SLURM_CONF=$S/slurm.conf" >"$BASE/env.sh"
echo "$CTLD_PORT $SLURMD_PORT" >"$BASE/ports"
export SLURM_CONF=$S/slurm.conf

slurmctld -c # daemonizes; -c: empty state
slurmd
for _ in $(seq 1 120); do # 30 s deadline
  [ "$(timeout 5 sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 0.25
done
if [ "$(timeout 5 sinfo -h -o %T 2>/dev/null)" != idle ]; then
  echo "slurm-up: the node did not become idle in 30 s" >&2
  timeout 5 sinfo >&2 || true
  tail -n 20 "$S/log/slurmctld.log" "$S/log/slurmd.log" >&2 || true
  exit 1
fi
echo "slurm-up: cluster up under $BASE (slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT, $NCPUS CPUs)"
