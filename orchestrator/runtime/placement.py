"""Where a run's tasks execute, and in what environment: the local executor with host envs, or Docker images.

``auto`` picks Docker when an engine answers, otherwise local with a one-line
notice. For Docker, missing images are built first, exactly as
``orch build-envs`` would; for local, each step env becomes a cached venv or
conda prefix on the host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ..config import Config
from ..envs.lock import LockRef
from ..envs.resolve import ensure_locks
from ..errors import UsageError
from ..executors.base import Executor
from ..loader import LoadedFlow

EXECUTORS = ("local", "docker", "auto")
CONTAINER_USER = (1000, 1000)  # when orch itself runs as root, its containers still do not


@dataclass
class Placement:
    """The executor's name, its per-step setup, and what the run record says about each step's env."""

    name: str
    env_records: Dict[str, dict] = field(default_factory=dict)
    step_pythons: Dict[str, str] = field(default_factory=dict)  # local
    step_images: Dict[str, tuple] = field(default_factory=dict)  # docker: step → (tag, python)
    batch_jobs: Dict[str, Any] = field(default_factory=dict)  # step → StepJob, for steps on AWS Batch
    here_steps: List[str] = field(default_factory=list)  # steps that run on this machine
    engine: Any = None

    @property
    def label(self) -> str:
        """What the run record calls the executor: local, docker, batch, or local+batch."""
        if not self.batch_jobs:
            return self.name
        if not self.here_steps:
            return "batch"
        return "%s+batch" % self.name


def batch_steps(loaded: LoadedFlow) -> List[str]:
    """Steps that run on AWS Batch: those with @batch (``--with batch`` adds it to every step)."""
    return [node.name for node in loaded.graph if node.decorator("batch") is not None]


def resolve_executor_name(name: str, notice: Callable[[str], None], store_url: str = "") -> str:
    if name not in EXECUTORS:
        raise UsageError("Unknown executor %r." % name, "Choose one of: %s." % ", ".join(EXECUTORS))
    if name != "auto":
        return name
    if "://" in store_url:
        return "local"  # containers here need a store directory to mount
    from ..images.engine import available

    if available():
        return "docker"
    notice("No Docker engine is reachable: running each task as a local process instead (--executor local).")
    return "local"


def _records(locks: Dict[str, Optional[LockRef]], flow_dir: str) -> Dict[str, dict]:
    return {
        step: {"spec": lock.spec.to_json(), "lock": os.path.relpath(lock.path, flow_dir), "lock_hash": lock.digest}
        for step, lock in locks.items()
        if lock is not None
    }


def place(loaded: LoadedFlow, config: Config, executor: str, message: Callable[[str], None]) -> Placement:
    """Lock every step env, then build what each step's executor needs: host envs, or images (pushed to
    the registry for steps on AWS Batch)."""
    on_batch = batch_steps(loaded)
    name = resolve_executor_name(executor, message, config.store_url)
    flow_dir = os.path.dirname(loaded.abspath)
    locks = ensure_locks(loaded.graph, flow_dir, sources=config.sources)
    placement = Placement(name, _records(locks, flow_dir))
    here = {step: lock for step, lock in locks.items() if step not in on_batch}
    placement.here_steps = list(here)
    if name == "local":
        from ..envs.local import ensure_env

        built: Dict[str, str] = {}
        for step, lock in here.items():
            if lock is None:
                continue
            if lock.digest not in built:
                message("Preparing the %s environment %s for step %s" % (lock.spec.kind, lock.short, step))
                built[lock.digest] = ensure_env(lock, config.sources)
            placement.step_pythons[step] = built[lock.digest]
    elif "://" in config.store_url and here:
        raise UsageError(
            "The docker executor needs a local store directory, not %s." % config.store_url,
            "Use --store DIR, or run S3-backed flows on AWS Batch (--with batch), or use --executor local.",
        )
    images = dict(here) if name == "docker" else {}
    images.update({step: locks[step] for step in on_batch})
    if not images:
        return placement
    from ..images.engine import client
    from ..images.ensure import ensure_images, image_plan_for_flow

    engine = client()
    plans = image_plan_for_flow(engine, images, config.base_image)
    ensure_images(
        engine,
        plans,
        images,
        config.sources,
        on_done=lambda built: (
            built.status == "built"
            and message("Built image %s (%s) in %.1fs" % (built.spec.tag, built.spec.kind, built.seconds))
        ),
    )
    for step, spec in plans.items():
        python = "/usr/bin/python3" if spec.kind == "default" else "/opt/env/bin/python"
        placement.env_records.setdefault(step, {})["image"] = spec.tag
        if step not in on_batch:
            placement.step_images[step] = (spec.tag, python)
    placement.engine = engine
    if on_batch:
        from .batch_setup import place_batch

        place_batch(placement, loaded, config, {s: plans[s] for s in on_batch}, message)
    return placement


def _limits(node: Any) -> Dict[str, Any]:
    """@resources / @batch → container limits; the larger of the two wins, as in Metaflow."""
    resources, batch = node.decorator("resources"), node.decorator("batch")
    cpus = [v for v in (resources and resources.cpu, batch and batch.cpu) if v]
    memory = [v for v in (resources and resources.memory, batch and batch.memory) if v]
    limits: Dict[str, Any] = {}
    if cpus:
        limits["nano_cpus"] = int(max(cpus) * 1e9)
    if memory:
        limits["mem_limit"] = "%dm" % max(memory)
        limits["memswap_limit"] = "%dm" % max(memory)  # no swap: over the limit means OOM, as on Batch
    return limits


def make_executor(
    placement: Placement, loaded: LoadedFlow, config: Config, code_dir: str, flow_file: str, backend: Any
) -> Executor:
    here = _make_here(placement, loaded, config, code_dir, flow_file, backend)
    if not placement.batch_jobs:
        return here
    from ..executors.routing import RoutingExecutor
    from .batch_setup import make_batch_executor

    on_batch = make_batch_executor(placement, config, backend)
    return RoutingExecutor({step: on_batch for step in placement.batch_jobs}, here)


def _make_here(
    placement: Placement, loaded: LoadedFlow, config: Config, code_dir: str, flow_file: str, backend: Any
) -> Executor:
    """The executor of the steps that run on this machine: local processes or Docker containers."""
    if placement.name == "local":
        from ..executors.local import LocalExecutor

        return LocalExecutor(code_dir, flow_file, loaded.name, placement.step_pythons)
    from ..executors.docker import DockerExecutor, remove_orphans

    remove_orphans(placement.engine)
    if os.getuid() == 0:
        uid, gid = CONTAINER_USER
        backend.share_with(uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    resources = {node.name: _limits(node) for node in loaded.graph}
    return DockerExecutor(
        placement.engine,
        placement.step_images,
        {config.store_url: "rw", code_dir: "ro"},
        "%d:%d" % (uid, gid),
        resources,
        lambda spec: spec.log_files(backend),
        successors={node.name: list(node.out) for node in loaded.graph},
        preload=(code_dir, flow_file, loaded.name),
    )
