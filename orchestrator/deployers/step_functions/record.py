"""The deployment record: what every job of a deployed flow reads to become its task.

``create`` saves it as a blob of the content-addressed store (so a job
verifies its hash on read) and names its key in the state machine. It holds
each step's TaskSpec template and how a task finds its inputs and its
foreach frames from nothing but its step, its run and its foreach indices:

- ``same``: the parent step's task at the same foreach indices;
- ``up``: the foreach split that fans out to this step (one index fewer);
- ``down``: every task of the foreach body's last step, one per split item.

Task-side code (jobs read it): standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from ...graph.model import Graph, StepType

RECORD_VERSION = 1


@dataclass(frozen=True)
class StepRule:
    ordinal: int  # the head of its tasks' ids
    spec: Dict[str, Any]  # the TaskSpec template (run, task, inputs and foreach stack filled in by the job)
    inputs: Tuple[Tuple[str, str], ...] = ()  # (parent step, "same" | "up" | "down")
    frames: Tuple[str, ...] = ()  # the enclosing foreach splits, outermost first
    retries: int = 0


@dataclass(frozen=True)
class Deployment:
    flow: str
    state_machine: str
    code_key: str
    flow_file: str
    username: str  # who deployed: the production runs' user
    steps: Mapping[str, StepRule]
    graph: Mapping[str, Any] = field(default_factory=dict)
    environments: Mapping[str, Any] = field(default_factory=dict)
    tags: Tuple[str, ...] = ()
    system_tags: Tuple[str, ...] = ()
    project: Mapping[str, Any] = field(default_factory=dict)  # @project: what current says
    constants: Mapping[str, Any] = field(default_factory=dict)  # saved at deploy: artifact records' JSON
    configs: Mapping[str, Any] = field(default_factory=dict)
    max_num_splits: int = 10000
    events: Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...] = ()  # @trigger: (event, (param, field)...)
    flows: Tuple[str, ...] = ()  # @trigger_on_finish: upstream state machine names
    created_at: float = 0.0
    version: int = RECORD_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        data = json.loads(text)
        if data.get("version", 1) > RECORD_VERSION:
            raise SystemExit("orch: this deployment was made by a newer orch; redeploy it with this one")
        steps = {
            name: StepRule(
                int(rule["ordinal"]),
                dict(rule["spec"]),
                tuple((str(a), str(b)) for a, b in rule.get("inputs") or ()),
                tuple(rule.get("frames") or ()),
                int(rule.get("retries") or 0),
            )
            for name, rule in data["steps"].items()
        }
        events = tuple(
            (str(name), tuple((str(p), str(f)) for p, f in pairs)) for name, pairs in data.get("events") or ()
        )
        return cls(
            **dict(
                {k: v for k, v in data.items() if k not in ("steps", "events", "tags", "system_tags", "flows")},
                steps=steps,
                events=events,
                tags=tuple(data.get("tags") or ()),
                system_tags=tuple(data.get("system_tags") or ()),
                flows=tuple(data.get("flows") or ()),
            )
        )


def input_rules(graph: Graph, step: str) -> Tuple[Tuple[str, str], ...]:
    """How a task of ``step`` names its parents (see the module)."""
    node = graph[step]
    if node.type is StepType.JOIN:
        split = graph[node.split_parents[-1]]
        if split.type is StepType.FOREACH:
            return ((node.in_funcs[0], "down"),)
        return tuple((parent, "same") for parent in node.in_funcs)
    rules = []
    for parent in node.in_funcs:
        kind = "up" if graph[parent].type is StepType.FOREACH else "same"
        rules.append((parent, kind))
    return tuple(rules)


def foreach_frames(graph: Graph, step: str) -> Tuple[str, ...]:
    """The foreach splits whose bodies hold ``step``, outermost first (a join is outside the split it joins)."""
    node = graph[step]
    parents = node.split_parents[:-1] if node.type is StepType.JOIN else node.split_parents
    return tuple(s for s in parents if graph[s].type is StepType.FOREACH)


def rule_of(graph: Graph, step: str, ordinal: int, spec_json: str) -> StepRule:
    retry = graph[step].decorator("retry")
    return StepRule(
        ordinal,
        json.loads(spec_json),
        input_rules(graph, step),
        foreach_frames(graph, step),
        retry.times if retry else 0,
    )


def foreach_path(indices: Tuple[int, ...]) -> str:
    return "".join("-%d" % i for i in indices)


def parse_foreach(text: str) -> Tuple[int, ...]:
    """``-2-0`` → (2, 0); the empty text outside any foreach."""
    if not text:
        return ()
    head, *parts = text.split("-")
    if head or not all(p.isdigit() for p in parts):
        raise SystemExit("orch: ORCH_SFN_FOREACH=%r is not a foreach path such as -2-0" % text)
    return tuple(int(p) for p in parts)


def step_of(deployment: Deployment, step: Optional[str]) -> StepRule:
    if not step or step not in deployment.steps:
        raise SystemExit("orch: step %r is not in the deployment of %s" % (step, deployment.flow))
    return deployment.steps[step]
