"""From step placements to one executor: each backend prepares its own setup, then creates it.

``--executor auto`` is resolved here, at the edge, because it asks the
engine whether it answers. A backend's modules load only when a run uses
it (its descriptor names them), so ``orch check`` never imports Docker or
boto3.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Mapping, Sequence

from ..backends import registry
from ..backends.spec import Backend, load
from ..errors import UsageError
from ..store.location import StoreLocation
from .base import Executor, ExecutorSetup, RunPlace, SetupRequest


def resolve_here(choice: str, store: StoreLocation, notice: Callable[[str], None]) -> Backend:
    """The backend of the steps that run on this machine. ``auto`` picks Docker when an engine answers
    and the store is a directory it can mount; otherwise local, saying so when the engine is missing."""
    if choice != "auto":
        if choice not in registry.here_choices(builtin=True) and choice not in registry.here_choices():
            choices = registry.here_choices() + ("auto",)
            raise UsageError("Unknown executor %r." % choice, "Choose one of: %s." % ", ".join(choices))
        return registry.get(choice)  # orch's own first: the plugins are read only for another name
    if not store.is_local:
        return registry.LOCAL  # containers here need a store directory to mount
    from ..images.engine import available

    if available():
        return registry.DOCKER
    notice("No Docker engine is reachable: running each task as a local process instead (--executor local).")
    return registry.LOCAL


def prepare_setups(request: SetupRequest, targets: Mapping[str, Backend]) -> List[ExecutorSetup]:
    """One setup per backend in use, each prepared by its backend for the steps placed on it."""
    steps: Dict[Backend, List[str]] = {}
    for step, backend in targets.items():
        steps.setdefault(backend, []).append(step)
    return [
        load(backend.prepare)(dataclasses.replace(request, steps=tuple(steps[backend])))
        for backend in registry.in_use(targets)
    ]


def create_executor(setups: Sequence[ExecutorSetup], place: RunPlace) -> Executor:
    """The run's executor: the only setup's, or a router sending each step to its own."""
    executors = [setup.create(place) for setup in setups]
    if len(executors) == 1:
        return executors[0]
    from .routing import RoutingExecutor

    routes = {step: executor for setup, executor in zip(setups, executors) for step in setup.steps}
    return RoutingExecutor(routes, executors[0])
