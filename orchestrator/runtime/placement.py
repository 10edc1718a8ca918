"""Where a run's tasks execute, and in what environment: the local executor with host envs, or Docker images.

``auto`` picks Docker when an engine answers, otherwise local with a one-line
notice. For Docker, missing images are built first, exactly as
``orch build-envs`` would; for local, each step env becomes a cached venv or
conda prefix on the host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from ..config import Config
from ..envs.lock import LockRef
from ..envs.resolve import ensure_locks
from ..errors import UsageError
from ..executors.base import Executor
from ..loader import LoadedFlow
from ..task.runner import log_paths

EXECUTORS = ("local", "docker", "auto")
CONTAINER_USER = (1000, 1000)  # when orch itself runs as root, its containers still do not


@dataclass
class Placement:
    """The executor's name, its per-step setup, and what the run record says about each step's env."""

    name: str
    env_records: Dict[str, dict] = field(default_factory=dict)
    step_pythons: Dict[str, str] = field(default_factory=dict)  # local
    step_images: Dict[str, tuple] = field(default_factory=dict)  # docker: step → (tag, python)
    engine: Any = None


def resolve_executor_name(name: str, notice: Callable[[str], None]) -> str:
    if name not in EXECUTORS:
        raise UsageError("Unknown executor %r." % name, "Choose one of: %s." % ", ".join(EXECUTORS))
    if name != "auto":
        return name
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
    """Lock every step env, then build what the chosen executor needs (host envs or images)."""
    name = resolve_executor_name(executor, message)
    flow_dir = os.path.dirname(loaded.abspath)
    locks = ensure_locks(loaded.graph, flow_dir, sources=config.sources)
    placement = Placement(name, _records(locks, flow_dir))
    if name == "local":
        from ..envs.local import ensure_env

        built: Dict[str, str] = {}
        for step, lock in locks.items():
            if lock is None:
                continue
            if lock.digest not in built:
                message("Preparing the %s environment %s for step %s" % (lock.spec.kind, lock.short, step))
                built[lock.digest] = ensure_env(lock, config.sources)
            placement.step_pythons[step] = built[lock.digest]
        return placement
    if "://" in config.store_url:
        raise UsageError(
            "The docker executor needs a local store directory, not %s." % config.store_url,
            "Use --store DIR, or run S3-backed flows on AWS Batch (--with batch).",
        )
    from ..images.engine import client
    from ..images.ensure import ensure_images, image_plan_for_flow

    engine = client()
    plans = image_plan_for_flow(engine, locks, config.base_image)
    ensure_images(
        engine,
        plans,
        locks,
        config.sources,
        on_done=lambda built: (
            built.status == "built"
            and message("Built image %s (%s) in %.1fs" % (built.spec.tag, built.spec.kind, built.seconds))
        ),
    )
    for step, spec in plans.items():
        python = "/usr/bin/python3" if spec.kind == "default" else "/opt/env/bin/python"
        placement.step_images[step] = (spec.tag, python)
        placement.env_records.setdefault(step, {})["image"] = spec.tag
    placement.engine = engine
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
        lambda spec: log_paths(spec, backend),
        successors={node.name: list(node.out) for node in loaded.graph},
        preload=(code_dir, flow_file, loaded.name),
    )
