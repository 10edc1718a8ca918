"""Preparing a run's Slurm steps: settings, images on the nodes' side, and each step's job shape.

``prepare`` runs once per run, before any job: it checks that a cluster
answers and that the store is one the nodes can reach, builds each step's
image exactly as ``--executor docker`` would, and makes it reachable by the
configured runtime (``images``). ``create`` starts the executor, after
cancelling the jobs that killed orch runs on this host left behind.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from ...config import Config, backend_settings
from ...errors import UsageError
from ...executors.base import ExecutorSetup, RunPlace, SetupRequest, resources_of
from .commands import SlurmCommands
from .descriptor import SECTION
from .executor import Scratch, SlurmExecutor, cancel_orphans
from .script import STALE_SECONDS, JobShape

CONTAINER_USER = (1000, 1000)  # when orch runs as root, its containers still do not
DAEMONLESS = ("charliecloud", "apptainer")  # a task runs as the job's own user: orch as root submits as 1000


def _name(uid: int) -> str:
    import pwd

    return pwd.getpwuid(uid).pw_name


def _check_user(uid: int) -> None:
    """ch-run runs a task as the user whose job it is; orch (as root) submits as uid 1000, which must exist."""
    import pwd

    try:
        pwd.getpwuid(uid)
    except KeyError:
        raise UsageError(
            "orch runs as root, so its Charliecloud jobs run as uid %d, and this machine has no such user." % uid,
            "Run orch as a regular user, or create one: useradd -u %d orch" % uid,
        ) from None


def settings(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    return backend_settings(SECTION, environ)


def run_config(config: Config) -> Config:
    """A run with steps on Slurm keeps its store where ``orch configure slurm --store`` says, unless one was given."""
    store = settings().get("store")
    return config.with_store(store) if store else config


def scratch_dir(config: Config, values: Mapping[str, Any]) -> str:
    """The configured scratch folder; by default one beside a local store (on the same filesystem)."""
    if values.get("scratch"):
        return os.path.abspath(os.path.expanduser(values["scratch"]))
    if config.store.is_local:
        return os.path.join(os.path.dirname(os.path.abspath(config.store.url)), ".orch-slurm")
    raise UsageError(
        "Slurm jobs need a scratch folder on the shared filesystem, and the store is %s." % config.store.url,
        "Set one with: orch configure slurm --scratch /shared/orch-scratch",
    )


def step_shape(node: Any, values: Mapping[str, Any], image: str, python: str, runtime: str) -> JobShape:
    slurm, timeout, wanted = node.decorator("slurm"), node.decorator("timeout"), resources_of(node)
    time_limit = slurm.time if slurm and slurm.time else None
    if time_limit is None and timeout is not None:  # a backstop behind orch's own @timeout
        time_limit = str(max(2, math.ceil(timeout.total_seconds / 60) + 1))

    def pick(name: str) -> Optional[str]:
        return (getattr(slurm, name) if slurm else None) or values.get(name) or None

    return JobShape(
        image=image,
        python=python,
        runtime=runtime,
        cpu=wanted.cpu,
        memory=wanted.memory,
        gpu=int(wanted.gpu or 0),
        time=time_limit,
        partition=pick("partition"),
        account=pick("account"),
        qos=pick("qos"),
        constraint=slurm.constraint if slurm else None,
        max_concurrent=slurm.max_concurrent if slurm else None,
        user="%d:%d" % (CONTAINER_USER if os.getuid() == 0 else (os.getuid(), os.getgid())),
        submit_as=CONTAINER_USER if os.getuid() == 0 and runtime in DAEMONLESS else None,
        pids_limit=(node.decorator("sandbox").pids_limit if node.decorator("sandbox") else 4096),
    )


@dataclass(frozen=True)
class SlurmSetup(ExecutorSetup):
    """The Slurm executor, prepared: each step's job shape, its image where the nodes reach it."""

    steps: Tuple[str, ...]
    shapes: Mapping[str, JobShape]
    scratch: str
    image_tags: Mapping[str, str] = field(default_factory=dict)
    runs_as_user: bool = False  # jobs run as the container user (ch-run, when orch is root)
    orphan_seconds: int = STALE_SECONDS

    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            step: dict(
                {"slurm_image": shape.image}, **({"image": self.image_tags[step]} if step in self.image_tags else {})
            )
            for step, shape in self.shapes.items()
        }

    def create(self, place: RunPlace) -> SlurmExecutor:
        root = os.getuid() == 0
        as_user = root and self.runs_as_user
        commands = SlurmCommands(users=(_name(os.getuid()), _name(CONTAINER_USER[0])) if as_user else ())
        cancel_orphans(commands)
        store_dir = place.config.store.url if place.config.store.is_local else None
        if store_dir is not None and root:
            place.backend.share_with(*CONTAINER_USER)
        backend = place.backend
        return SlurmExecutor(
            commands,
            self.shapes,
            backend,
            os.path.abspath(store_dir) if store_dir else None,
            Scratch(self.scratch, CONTAINER_USER if as_user else None),
            lambda spec: spec.log_files(backend),
            max_workers=place.max_workers,
            stale=self.orphan_seconds,
        )


def prepare(request: SetupRequest) -> SlurmSetup:
    """Build each Slurm step's image, make it reachable from the nodes, and record every step's job shape."""
    from ...images.engine import client
    from ...images.ensure import ensure_step_images
    from . import images

    config = request.config
    values = settings()
    runtime = values.get("runtime") or "docker"
    if runtime in DAEMONLESS and os.getuid() == 0:
        _check_user(CONTAINER_USER[0])
    if not SlurmCommands().answers():
        raise UsageError(
            "No Slurm cluster answers here (sinfo failed).",
            "Run orch on a login node of your cluster; to try Slurm on this machine: make slurm",
        )
    scratch = scratch_dir(config, values)
    os.makedirs(scratch, exist_ok=True)
    cache = os.path.abspath(os.path.expanduser(values.get("image_cache") or os.path.join(scratch, "images")))
    mounts = (os.path.abspath(config.store.url),) if config.store.is_local else ()
    engine = client()
    plans = ensure_step_images(engine, request.locks_of_steps(), config.base_image, config.sources, request.notice)
    shapes: Dict[str, JobShape] = {}
    known: Dict[str, Tuple[str, Optional[str]]] = {}
    for step, spec in plans.items():
        node = request.graph[step]
        given = node.decorator("slurm").image if node.decorator("slurm") else None
        if given:
            image, archive = given, None
        else:
            if spec.tag not in known:
                known[spec.tag] = images.reference(
                    engine, spec.tag, runtime, values.get("registry"), cache, request.notice, mounts
                )
            image, archive = known[spec.tag]
        shape = step_shape(node, values, image, spec.python, runtime)
        shapes[step] = JobShape(**dict(shape.__dict__, archive=archive))
    tags = {step: spec.tag for step, spec in plans.items()}
    orphan = int(values.get("orphan_seconds") or STALE_SECONDS)
    return SlurmSetup(request.steps, shapes, scratch, tags, runtime in DAEMONLESS, orphan)
