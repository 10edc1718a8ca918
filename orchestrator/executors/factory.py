"""From step targets to one executor: each target's module prepares its own setup, then creates it.

``--executor auto`` is resolved here, at the edge, because it asks the
engine whether it answers. Executor modules load only when a run uses them,
so ``orch check`` never imports Docker or boto3.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable, Dict, List, Mapping, Sequence

from ..errors import UsageError
from ..plan import Target
from ..store.location import StoreLocation
from .base import Executor, ExecutorSetup, RunPlace, SetupRequest

CHOICES = ("local", "docker", "auto")  # --executor: where the steps without @batch run
_MODULES = {Target.LOCAL: "local", Target.DOCKER: "docker", Target.BATCH: "batch"}


def resolve_here(choice: str, store: StoreLocation, notice: Callable[[str], None]) -> Target:
    """The target of the steps that run on this machine. ``auto`` picks Docker when an engine answers
    and the store is a directory it can mount; otherwise local, saying so when the engine is missing."""
    if choice not in CHOICES:
        raise UsageError("Unknown executor %r." % choice, "Choose one of: %s." % ", ".join(CHOICES))
    if choice != "auto":
        return Target(choice)
    if not store.is_local:
        return Target.LOCAL  # containers here need a store directory to mount
    from ..images.engine import available

    if available():
        return Target.DOCKER
    notice("No Docker engine is reachable: running each task as a local process instead (--executor local).")
    return Target.LOCAL


def prepare_setups(request: SetupRequest, targets: Mapping[str, Target]) -> List[ExecutorSetup]:
    """One setup per target in use, each prepared by its own module for the steps placed on it."""
    by_target: Dict[Target, List[str]] = {}
    for step, target in targets.items():
        by_target.setdefault(target, []).append(step)
    setups = []
    for target in sorted(by_target, key=lambda t: t is Target.BATCH):  # this machine's first
        module = importlib.import_module("%s.%s" % (__package__, _MODULES[target]))
        setups.append(module.prepare(dataclasses.replace(request, steps=tuple(by_target[target]))))
    return setups


def create_executor(setups: Sequence[ExecutorSetup], place: RunPlace) -> Executor:
    """The run's executor: the only setup's, or a router sending each step to its own."""
    executors = [setup.create(place) for setup in setups]
    if len(executors) == 1:
        return executors[0]
    from .routing import RoutingExecutor

    routes = {step: executor for setup, executor in zip(setups, executors) for step in setup.steps}
    return RoutingExecutor(routes, executors[0])
