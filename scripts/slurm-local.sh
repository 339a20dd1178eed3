#!/usr/bin/env bash
# A one-node Slurm cluster for tests, without systemd: munged, slurmctld and slurmd as
# root, every file (key, config, state, logs, sockets) in one directory.
#
#   scripts/slurm-local.sh start DIR   start the daemons; prints `export SLURM_CONF=...`
#   scripts/slurm-local.sh stop DIR    stop every daemon started in DIR, remove DIR
#
# The node is this machine as `slurmd -C` describes it (CPUs, sockets, cores, memory).
# Ports are free ones picked at start, so a Slurm already running elsewhere is untouched.
# Binding: task/affinity (no cgroups needed); process tracking: proctrack/linuxproc.
set -euo pipefail

die() { echo "slurm-local: $*" >&2; exit 1; }

free_port() { # first port from $1 up that no TCP socket uses (/proc/net/tcp{,6}: hex ports)
    local p=$1
    while grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
        p=$((p + 1))
    done
    echo "$p"
}

wait_for() { # wait_for SECONDS command...: retry until it succeeds
    local end=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.3
    done
}

start() {
    local dir=$1
    [ "$(id -u)" -eq 0 ] || die "needs root (slurmd and munged run as root here)"
    for p in munged slurmctld slurmd srun sbatch scontrol; do
        command -v "$p" >/dev/null || die "$p not found (install munge slurmctld slurmd slurm-client)"
    done
    mkdir -p "$dir"/{state,spool,log}
    chmod 700 "$dir"
    # munge: a fresh key, its own socket.
    dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge.key"
    munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munged.seed" || die "munged did not start: $(tail -3 "$dir/log/munged.log")"

    local host node ctld_port slurmd_port
    host=$(hostname -s)
    node=$(slurmd -C | head -1)
    ctld_port=$(free_port 16817)
    slurmd_port=$(free_port $((ctld_port + 1)))
    cat >"$dir/slurm.conf" <<CONF
ClusterName=hpool-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
PlugStackConfig=$dir/plugstack.conf
$node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    : >"$dir/plugstack.conf"
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log")"
    slurmd -f "$SLURM_CONF" || die "slurmd did not start: $(tail -5 "$dir/log/slurmd.log")"
    wait_for 30 bash -c "scontrol show node $host | grep -qE 'State=IDLE'" ||
        die "node $host did not come up idle: $(scontrol show node "$host" 2>&1 | grep State); $(tail -5 "$dir/log/slurmd.log")"
    echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
    local dir=$1 pid d
    [ -d "$dir" ] || return 0
    for d in slurmd slurmctld munged; do
        [ -s "$dir/$d.pid" ] || continue
        pid=$(cat "$dir/$d.pid")
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?slurm-local.sh start DIR}" ;;
    stop) stop "${2:?slurm-local.sh stop DIR}" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
