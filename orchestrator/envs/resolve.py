"""A flow's environments: which lock each step uses, solving only what is missing or asked to upgrade."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Dict, List, Optional

from ..config import NO_SOURCES, PackageSources
from ..graph.model import Graph
from .lock import LockError, LockRef, file_digest, lock_path, reusable
from .spec import DEFAULT_CHANNELS, EnvSpec, flow_envs


def with_default_channels(spec: EnvSpec, channels: Optional[List[str]]) -> EnvSpec:
    """Conda specs without channels= get ORCH_CONDA_CHANNELS (or conda-forge)."""
    if spec.kind != "conda" or spec.channels:
        return spec
    return spec.with_channels(channels or DEFAULT_CHANNELS)


def step_specs(graph: Graph, channels: Optional[List[str]] = None) -> Dict[str, Optional[EnvSpec]]:
    return {step: with_default_channels(spec, channels) if spec else None for step, spec in flow_envs(graph).items()}


def ensure_locks(
    graph: Graph, flow_dir: str, upgrade: bool = False, sources: PackageSources = NO_SOURCES
) -> Dict[str, Optional[LockRef]]:
    """step → LockRef (None for the default image). Steps with equal specs share one lock."""
    specs = step_specs(graph, list(sources.conda_channels) or None)
    steps_by_spec: Dict[EnvSpec, List[str]] = defaultdict(list)
    for step, spec in specs.items():
        if spec is not None:
            steps_by_spec[spec].append(step)
    locks: Dict[EnvSpec, LockRef] = {}
    for spec, steps in steps_by_spec.items():
        path = lock_path(flow_dir, spec)
        if spec.lockfile:
            if not os.path.isfile(path):
                raise LockError(
                    "The lock file %s given to step %s does not exist." % (spec.lockfile, steps[0]),
                    "Check the path in @conda(lockfile=...); it is relative to the flow's folder.",
                )
            from .conda import check_lockfile

            check_lockfile(path, steps)
            locks[spec] = LockRef(spec, path, file_digest(path))
        elif reusable(path, spec) and not upgrade:
            locks[spec] = LockRef(spec, path, file_digest(path))
        elif spec.kind == "pypi":
            from .pypi import solve

            locks[spec] = solve(spec, path, steps, sources)
        else:
            from .conda import solve as conda_solve

            locks[spec] = conda_solve(spec, path, steps, sources)
    return {step: locks[spec] if spec is not None else None for step, spec in specs.items()}
