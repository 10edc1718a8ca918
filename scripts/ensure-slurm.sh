#!/usr/bin/env bash
# Make sure a Slurm cluster answers: use the running one, or (as root, on Debian/Ubuntu) install Debian's
# slurmctld, slurmd, slurm-client and munge, write a one-node configuration and start the daemons.
#
# The one-node cluster is the way to try `orch run --with slurm` on one machine, and the one the tests
# use. Its configuration enforces what a real cluster does: memory per job (cgroup v1, DefMemPerCPU so a
# job that asks for nothing does not take the whole node), cores, and time limits. It also installs
# Charliecloud (ch-run), the rootless container runtime orch tests on Slurm beside Docker.
# A slurm.conf that this script did not write is never touched.
set -euo pipefail

CONF_DIR=/etc/slurm
MARK="# written by orch's scripts/ensure-slurm.sh"
STATE=/var/lib/orch-slurm

answers() { timeout 10 sinfo -h >/dev/null 2>&1; }

if answers; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "No Slurm cluster answers (sinfo), and starting a one-node one needs root." >&2
    echo "Point orch at your cluster's login node, or run: sudo make slurm" >&2
    exit 1
fi
if [ -f "$CONF_DIR/slurm.conf" ] && ! grep -qF "$MARK" "$CONF_DIR/slurm.conf"; then
    echo "$CONF_DIR/slurm.conf exists but its cluster does not answer (sinfo). Start its daemons;" >&2
    echo "orch does not overwrite a configuration it did not write." >&2
    exit 1
fi
missing=""
for tool in slurmctld:slurmctld slurmd:slurmd sinfo:slurm-client munged:munge ch-run:charliecloud-runtime; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
    echo "Installing$missing..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 || {
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    }
fi

# orch, as root, runs its Charliecloud jobs as uid 1000 (its containers' user): make sure it exists.
getent passwd 1000 >/dev/null || useradd -u 1000 -M -s /usr/sbin/nologin orch

node=$(hostname -s)
cpus=$(nproc)
memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))  # MiB, less some for the system
mkdir -p "$CONF_DIR" "$STATE/ctld" "$STATE/d" /var/log/slurm /run/munge /var/lib/munge /var/log/munge
cat >"$CONF_DIR/slurm.conf" <<EOF
$MARK
ClusterName=orch
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
ReturnToService=2
KillWait=10
MinJobAge=600
MaxArraySize=10001
MaxJobCount=100000
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,default_queue_depth=1000
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$CONF_DIR/cgroup.conf" <<EOF
$MARK
CgroupPlugin=cgroup/v1
CgroupAutomount=yes
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
EOF

if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 60); do
    if answers && [ -n "$(sinfo -h -t idle,mix,alloc -o %n 2>/dev/null)" ]; then
        echo "Slurm cluster 'orch' is up: one node ($node, $cpus CPUs, $memory MiB)." >&2
        exit 0
    fi
    scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
    sleep 0.5
done
echo "The Slurm cluster did not come up; see /var/log/slurm/slurmctld.log and slurmd.log:" >&2
tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
