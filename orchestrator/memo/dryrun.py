"""``orch run --dry-run``: which steps the cache would serve and which would run, running nothing.

The planner walks the flow from ``start`` as a run would. A cached step whose
key and read set match an entry is a hit, and its outputs (the entry's, over
this run's parameters) feed the steps after it, so a whole chain of hits is
found. A step that would run makes everything downstream "depends on" it:
what those steps would read is not known until it has run. Nothing is
written to the store but the parameters' blobs (content-addressed, as a run
writes them), and no environment is built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..authoring.flowspec import FlowSpec
from ..authoring.loader import LoadedFlow
from ..authoring.parameters import flow_constants
from ..authoring.user_configs import bound_values, flow_configs
from ..config import Config
from ..envs.resolve import ensure_locks
from ..graph.model import Graph
from ..ids import AttemptRef
from ..plan import Finished, PlannedTask, Planner
from ..store.artifacts import ArtifactRecord, save_artifact
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from .codehash import CodeIndex
from .lookup import Cache, CachePolicy, Keys


@dataclass
class StepPlan:
    step: str
    cached: List[str] = field(default_factory=list)  # the tasks reused: run/step/task/attempt
    run: int = 0  # tasks that would run
    reason: str = ""  # why they run: "not cached", "no match in the cache", "--refresh"
    depends_on: Optional[str] = None  # the upstream step that must run first

    def describe(self) -> str:
        if self.depends_on:
            return "%s: depends on %s" % (self.step, self.depends_on)
        parts = []
        if self.cached:
            parts.append("cached (%d task%s)" % (len(self.cached), "" if len(self.cached) == 1 else "s"))
        if self.run:
            parts.append("runs %d task%s (%s)" % (self.run, "" if self.run == 1 else "s", self.reason))
        return "%s: %s" % (self.step, ", ".join(parts) or "not reached")


class _DryCache(Cache):
    """A Cache whose hits are only noted: their outputs stay in memory, nothing is recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outputs: Dict[AttemptRef, Dict[str, ArtifactRecord]] = {}

    def _parents(self, inputs: Tuple[AttemptRef, ...]) -> List[Dict[str, ArtifactRecord]]:
        return [dict(self.outputs.get(ref, {})) for ref in inputs]

    def _reuse(self, planned: PlannedTask, task_id: str, key: Any, entry: Any, inherited: Dict) -> Finished:
        self.outputs[AttemptRef(planned.step, task_id, 0)] = self._artifacts(inherited, entry)
        return self._finished(planned, task_id, entry)


def _downstream(graph: Graph, step: str) -> List[str]:
    seen, todo = [], list(graph[step].out)
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo.extend(graph[name].out)
    return seen


def plan(
    loaded: LoadedFlow, config: Config, values: Mapping[str, Any], policy: Optional[CachePolicy] = None
) -> List[StepPlan]:
    """What a run with these parameter values would do, step by step, in the graph's order."""
    policy = policy or CachePolicy()
    backend = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
    cas = ContentAddressedStore(backend)
    records = {attr: save_artifact(cas, attr, value) for attr, value in values.items()}
    constants = {attr: save_artifact(cas, attr, value) for attr, value in flow_constants(loaded.cls, FlowSpec)}
    bound = bound_values(loaded.cls)
    configs = {attr: save_artifact(cas, attr, bound.get(c.name)) for attr, c in flow_configs(loaded.cls)}
    root = os.path.dirname(loaded.abspath)
    locks = ensure_locks(loaded.graph, root, sources=config.sources)
    envs = {step: lock.digest if lock is not None else "default" for step, lock in locks.items()}
    code = CodeIndex(root).steps(loaded.abspath, loaded.name)
    keys = Keys(loaded.graph, loaded.name, code, envs)
    cache = _DryCache(keys, backend, "dry-run", dict(constants, **configs, **records), policy)
    steps = {node.name: StepPlan(node.name) for node in loaded.graph}
    planner = Planner(loaded.graph)
    todo = planner.start()
    ids = iter(range(1, 10**9))
    while todo:
        planned = todo.pop(0)
        task_id = str(next(ids))
        found = cache.hit(planned, task_id)
        entry = steps[planned.step]
        if found is not None:
            entry.cached.append(str(found[1]))
            todo.extend(planner.on_success(found[0]))
            continue
        entry.run += 1
        entry.reason = (
            "not cached" if not keys.cached(planned.step)
            else "--refresh" if planned.step in policy.refresh or not policy.lookups
            else "no match in the cache"
        )  # fmt: skip
        for later in _downstream(loaded.graph, planned.step):
            if not steps[later].cached and not steps[later].run and steps[later].depends_on is None:
                steps[later].depends_on = planned.step
    return [steps[node.name] for node in loaded.graph]
