"""The job script of one Slurm submission: its ``#SBATCH`` options and the container it runs. Pure.

One script is written per submission (one task, or one job array of a
step's tasks) into the run's scratch folder, so ``sbatch SCRIPT`` reruns it
by hand and a user can read exactly what ran. The script:

- starts the step's image with the chosen runtime, as a non-root user with
  the same hardening as orch's Docker executor, the store bound at its path,
  and the job's CPUs and memory passed on (Docker's containers live outside
  Slurm's cgroups, so Slurm alone would not limit them);
- traps SIGTERM (``scancel``, ``--time``) and stops its container, because a
  container started through a daemon outlives the job that started it;
- refuses to start, and later stops, when the run that submitted it stopped
  beating its heartbeat file (orch was killed): no job outlives its run for
  longer than ``STALE_SECONDS``;
- writes its exit record (exit code, whether it was killed out of memory)
  atomically into the scratch folder: Slurm forgets finished jobs and has no
  ``sacct`` without a database, so orch's own record is what it reads.

Names that reach the script are quoted; none carries a credential: the
environment variables the container gets are passed by name only.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import List, Optional, Tuple

STOP_SECONDS = 5  # a stopped task's grace before its container is killed: well inside Slurm's KillWait
CLIENT_MB = 128  # what a job asks beyond its container's memory for the engine's client (docker, podman)
STALE_SECONDS = 120  # a run whose heartbeat is older than this is gone
BEAT_SECONDS = 15  # how often a run touches its heartbeat, and a job looks at it
CONTAINER_HOME = "/home/orch"
ENTRY = ("-m", "orchestrator.task", "--entry", "slurm")
# Passed to the container by name when the job has them: the store's (S3) settings and Slurm's own facts.
PASSED = (
    "ORCH_STORE",
    "ORCH_SLURM_SPECS",
    "ORCH_SLURM_JOB_ID",
    "SLURM_JOB_ID",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_JOB_PARTITION",
    "SLURMD_NODENAME",
    "SLURM_CPUS_PER_TASK",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)


@dataclass(frozen=True)
class JobShape:
    """How one step's tasks run on Slurm: the image, the runtime and what the job asks for."""

    image: str  # docker/podman: a reference (tag, id or registry@digest); charliecloud: an unpacked folder
    python: str  # the interpreter inside the image
    runtime: str = "docker"
    cpu: Optional[float] = None
    memory: Optional[int] = None  # MiB; None: the partition's default (DefMemPerCPU), read by the job
    gpu: int = 0
    time: Optional[str] = None
    partition: Optional[str] = None
    account: Optional[str] = None
    qos: Optional[str] = None
    constraint: Optional[str] = None
    max_concurrent: Optional[int] = None
    archive: Optional[str] = None  # a saved image for nodes that lack it (the shared image cache)
    user: str = "1000:1000"  # uid:gid the container runs as (docker, podman)
    submit_as: Optional[Tuple[int, int]] = None  # orch is root: the job itself runs as this uid:gid (ch-run)
    pids_limit: int = 4096


@dataclass(frozen=True)
class Submission:
    """One sbatch: a single task or an array of ``size`` tasks of one step."""

    name: str
    size: int
    comment: str  # "orch-owner=HOST:PID,run=FLOW/RUN": how orch finds its jobs again
    specs_key: str  # the store key of the TaskSpecs, one per array index
    store_url: str
    store_dir: Optional[str]  # the store's folder, bound into the container; None for S3
    log_dir: str  # Slurm's own output files: %A_%a.out / .err
    exit_dir: str  # exit records, one per job id
    heartbeat: str  # the run's heartbeat file
    throttle: Optional[int] = None  # the array's %N
    stale: int = STALE_SECONDS  # a heartbeat older than this means the run's orch is gone


def beat_seconds(stale: int) -> int:
    """How often a run touches its heartbeat and a job looks at it: a few times per ``stale``."""
    return max(1, min(BEAT_SECONDS, stale // 4))


def directives(shape: JobShape, job: Submission) -> List[str]:
    """The ``#SBATCH`` options of a submission."""
    array = job.size > 1
    pattern = "%A_%a" if array else "%j"
    options = [
        "--job-name=%s" % job.name,
        "--output=%s/%s.out" % (job.log_dir, pattern),
        "--error=%s/%s.err" % (job.log_dir, pattern),
        "--cpus-per-task=%d" % max(1, math.ceil(shape.cpu or 1)),
        "--comment=%s" % job.comment,
        "--open-mode=append",
        "--no-requeue",
    ]
    if array:
        throttle = shape.max_concurrent or job.throttle
        options.append("--array=0-%d%s" % (job.size - 1, "%%%d" % throttle if throttle else ""))
    if shape.submit_as:
        options += ["--uid=%d" % shape.submit_as[0], "--gid=%d" % shape.submit_as[1]]
    if shape.memory:  # an engine's container lives outside the job's cgroup: its client is in it
        engine = shape.runtime in ("docker", "podman")
        options.append("--mem=%dM" % (shape.memory + (CLIENT_MB if engine else 0)))
    if shape.gpu:
        options.append("--gres=gpu:%d" % shape.gpu)
    for option, value in (
        ("time", shape.time),
        ("partition", shape.partition),
        ("account", shape.account),
        ("qos", shape.qos),
        ("constraint", shape.constraint),
    ):
        if value:
            options.append("--%s=%s" % (option, value))
    return ["#SBATCH %s" % shlex.quote(option) for option in options]


_PRELUDE = r"""set -u
jobkey="$SLURM_JOB_ID"
[ -n "${SLURM_ARRAY_JOB_ID:-}" ] && jobkey="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
export ORCH_SLURM_JOB_ID="$jobkey" ORCH_STORE=%(store)s ORCH_SLURM_SPECS=%(specs)s
exits=%(exits)s
heartbeat=%(heartbeat)s
record() {  # the exit record: "CODE OOM", written atomically, read by orch
    printf '%%s %%s\n' "$1" "$2" >"$exits/.$jobkey.tmp" && mv -f "$exits/.$jobkey.tmp" "$exits/$jobkey"
}
stale() {  # the run that submitted this job stopped beating its heartbeat: orch is gone
    local beat; beat=$(stat -c %%Y "$heartbeat" 2>/dev/null) || return 0
    [ $(( $(date +%%s) - beat )) -gt %(stale)d ]
}
if stale; then
    echo "orch: the run that submitted this job is gone (no heartbeat in $heartbeat); not starting." >&2
    record 125 false
    exit 125
fi
mem=%(mem)s
if [ -z "$mem" ]; then mem="${SLURM_MEM_PER_NODE:-}"; fi
if [ -z "$mem" ] && [ -n "${SLURM_MEM_PER_CPU:-}" ]; then mem=$(( SLURM_MEM_PER_CPU * ${SLURM_CPUS_PER_TASK:-1} )); fi
cpus=%(cpus)s
"""

_WATCH = r"""watch() {  # its sleep is ended with it: a process left in the job holds the job's end for a second
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
        sleep %(beat)d & nap=$!
        wait "$nap"
        if stale; then
            echo "orch: the run that submitted this job is gone (no heartbeat); stopping." >&2; stop; return
        fi
    done
}
watch & watcher=$!
trap 'stop' TERM INT
"""

_WAIT = r"""main=$!
code=0
while :; do wait "$main"; code=$?; kill -0 "$main" 2>/dev/null || break; done
kill "$watcher" 2>/dev/null
"""


def _env_flags(flag: str) -> str:
    return " ".join("%s %s" % (flag, name) for name in PASSED)


def _engine_body(shape: JobShape, job: Submission, engine: str) -> str:
    """Docker, or podman (its command line is Docker's): a hardened container, stopped on TERM."""
    image = shlex.quote(shape.image)
    fetch = ""
    if shape.archive:
        fetch = "%s image inspect %s >/dev/null 2>&1 || %s load -q -i %s >&2\n" % (
            engine,
            image,
            engine,
            shlex.quote(shape.archive),
        )
    mounts = "-v %s:%s:rw" % ((shlex.quote(job.store_dir),) * 2) if job.store_dir else ""
    limits = '--cpus "$cpus"' + ' ${mem:+--memory "${mem}m" --memory-swap "${mem}m"}'
    gpus = " --gpus %d" % shape.gpu if shape.gpu and engine == "docker" else ""
    create = (
        '%(engine)s create --name "$name" --label org.orch.slurm-job="$jobkey" --user %(user)s'
        " --cap-drop ALL --security-opt no-new-privileges:true --pids-limit %(pids)d --read-only"
        " --tmpfs /tmp:rw,nosuid,nodev,mode=1777 --tmpfs %(home)s:rw,nosuid,nodev,mode=0777"
        " -e HOME=%(home)s %(env)s %(mounts)s %(limits)s%(gpus)s %(image)s %(python)s %(entry)s >/dev/null"
    ) % {
        "engine": engine,
        "user": shlex.quote(shape.user),
        "pids": shape.pids_limit,
        "home": CONTAINER_HOME,
        "env": _env_flags("-e"),
        "mounts": mounts,
        "limits": limits,
        "gpus": gpus,
        "image": image,
        "python": shlex.quote(shape.python),
        "entry": " ".join(ENTRY),
    }
    return (
        'name="orch-slurm-$jobkey-$$"\n'
        # Stopped and removed in the trap, which is set before the container exists: Slurm's SIGKILL
        # follows SIGTERM after KillWait (30 s by default), and a container the job did not remove by
        # then would outlive it.
        + 'stop() { stopping=1; %s stop -t %d "$name" >/dev/null 2>&1; %s rm -f "$name" >/dev/null 2>&1; }\n'
        % (engine, STOP_SECONDS, engine)
        + "trap 'stop' TERM INT\n"
        + fetch
        + create
        + ' || { echo "orch: could not create the task container" >&2; record 125 false; exit 125; }\n'
        + 'if [ -n "${stopping:-}" ]; then stop; record 143 false; exit 143; fi\n'
        + _WATCH % {"beat": beat_seconds(job.stale)}
        + '%s start -a "$name" &\n' % engine
        + _WAIT
        + 'state=$(%s inspect -f "{{.State.ExitCode}} {{.State.OOMKilled}}" "$name" 2>/dev/null)' % engine
        + ' || state="$code false"\n'
        + '%s rm -f "$name" >/dev/null 2>&1\n' % engine
        + "record ${state% *} ${state#* }\n"
        + "exit ${state% *}\n"
    )


def _charliecloud_body(shape: JobShape, job: Submission) -> str:
    """ch-run: no daemon, so the container is this job's own process tree, in Slurm's cgroup (which
    enforces the job's memory); the image is an unpacked folder, mounted read-only."""
    binds = "-b %s:%s " % ((shlex.quote(job.store_dir),) * 2) if job.store_dir else ""
    passed = " ".join('${%s:+%s="$%s"}' % (n, n, n) for n in PASSED)
    run = (
        'env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin USER="${USER:-orch}" HOME=/tmp'
        " %(passed)s ch-run --private-tmp --no-passwd %(binds)s%(image)s -- %(python)s %(entry)s &\n"
    ) % {
        "passed": passed,
        "binds": binds,
        "image": shlex.quote(shape.image),
        "python": shlex.quote(shape.python),
        "entry": " ".join(ENTRY),
    }
    return (
        'stop() { [ -n "${main:-}" ] && kill -TERM "$main" 2>/dev/null; }\n'
        + _WATCH % {"beat": beat_seconds(job.stale)}
        + run
        + _WAIT
        + "record $code false\n"  # an OOM kill here is Slurm's own: orch reads OUT_OF_MEMORY from squeue
        + "exit $code\n"
    )


def _apptainer_body(shape: JobShape, job: Submission) -> str:
    """apptainer exec (untested here: Apptainer is not in Debian): like ch-run, the job's own process
    tree in Slurm's cgroup. The image is the registry reference or the saved archive; Apptainer converts
    it on a node's first use and caches it. Variables go in by name (APPTAINERENV_*), never by value."""
    image = ("docker-archive:%s" % shape.archive) if shape.archive else ("docker://%s" % shape.image)
    binds = "--bind %s:%s " % ((shlex.quote(job.store_dir),) * 2) if job.store_dir else ""
    exports = "".join('[ -n "${%s:-}" ] && export APPTAINERENV_%s="$%s"\n' % (n, n, n) for n in PASSED)
    run = "apptainer exec --containall --cleanenv --no-home --no-mount home %s%s %s %s &\n" % (
        binds,
        shlex.quote(image),
        shlex.quote(shape.python),
        " ".join(ENTRY),
    )
    return (
        'stop() { [ -n "${main:-}" ] && kill -TERM "$main" 2>/dev/null; }\n'
        + _WATCH % {"beat": beat_seconds(job.stale)}
        + exports
        + run
        + _WAIT
        + "record $code false\n"
        + "exit $code\n"
    )


def render(shape: JobShape, job: Submission) -> str:
    """The whole job script."""
    prelude = _PRELUDE % {
        "store": shlex.quote(job.store_url),
        "specs": shlex.quote(job.specs_key),
        "exits": shlex.quote(job.exit_dir),
        "heartbeat": shlex.quote(job.heartbeat),
        "stale": job.stale,
        "cpus": "%g" % shape.cpu if shape.cpu else '"${SLURM_CPUS_PER_TASK:-1}"',
        "mem": str(shape.memory) if shape.memory else '""',
    }
    if shape.runtime == "charliecloud":
        body = _charliecloud_body(shape, job)
    elif shape.runtime == "apptainer":
        body = _apptainer_body(shape, job)
    elif shape.runtime in ("docker", "podman"):
        body = _engine_body(shape, job, shape.runtime)
    else:
        raise ValueError("unknown container runtime %r" % shape.runtime)
    header = "#!/bin/bash\n%s\n# Written by orch: %d task(s), job %s. `sbatch` this file to run it again.\n" % (
        "\n".join(directives(shape, job)),
        job.size,
        job.name,
    )
    return header + prelude + body


def exit_record(text: str) -> Optional[Tuple[int, bool]]:
    """An exit record's (exit code, out of memory), or None when it is not one."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].lstrip("-").isdigit():
        return None
    return int(parts[0]), parts[1] == "true"
