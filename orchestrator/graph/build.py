"""Facts → ``Graph``: step types, incoming edges, split nesting and matching joins.

Pure: takes the parsed step facts of a flow class (inherited steps merged
in) plus the specs the imported class recorded, and derives everything the
planner needs. It tolerates broken flows (unknown targets, cycles) so that
``lint`` can report every problem instead of the first crash.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from .model import Graph, ParameterInfo, StepNode, StepType
from .parse import StepFacts


def step_type(facts: StepFacts) -> StepType:
    tail = facts.tail
    if facts.name == "end":
        return StepType.END
    if len(facts.args) == 2 and not facts.has_varargs:
        return StepType.JOIN
    if tail is not None and (tail.foreach is not None or tail.foreach_bad is not None):
        return StepType.FOREACH
    if tail is not None and len(tail.targets) > 1:
        return StepType.SPLIT
    if facts.name == "start":
        return StepType.START
    return StepType.LINEAR


def _topological(steps: Mapping[str, StepFacts]) -> list[str]:
    """Start first, then each step after all its (known) predecessors; leftovers by line."""
    outs = {n: [t for t in (f.tail.targets if f.tail else ()) if t in steps] for n, f in steps.items()}
    indegree = {n: 0 for n in steps}
    for targets in outs.values():
        for t in set(targets):
            indegree[t] += 1
    by_line = sorted(steps, key=lambda n: (n != "start", steps[n].line))
    ready = [n for n in by_line if indegree[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for t in dict.fromkeys(outs[name]):
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
        ready.sort(key=lambda n: (n != "start", steps[n].line))
    order += [n for n in by_line if n not in order]
    return order


def _nesting(steps: Mapping[str, StepFacts], types: Mapping[str, StepType]) -> tuple[dict, dict]:
    """split_parents of each reachable step and the matching join of each split."""
    parents: dict[str, tuple[str, ...]] = {}
    matching: dict[str, str] = {}
    pending = [("start", ())] if "start" in steps else []
    while pending:
        name, stack = pending.pop()
        if name in parents:
            continue
        parents[name] = stack
        kind = types[name]
        if kind in (StepType.SPLIT, StepType.FOREACH):
            stack = stack + (name,)
        elif kind is StepType.JOIN and stack:
            matching.setdefault(stack[-1], name)
            stack = stack[:-1]
        tail = steps[name].tail
        for target in reversed(tail.targets if tail else ()):
            if target in steps:
                pending.append((target, stack))
    return parents, matching


def build_graph(
    name: str,
    file: str,
    line: int,
    doc: str,
    steps: Iterable[StepFacts],
    decorators: Optional[Mapping[str, tuple]] = None,
    parameters: tuple[ParameterInfo, ...] = (),
    flow_decorators: tuple[Any, ...] = (),
) -> Graph:
    by_name = {s.name: s for s in steps}
    types = {n: step_type(f) for n, f in by_name.items()}
    incoming: dict[str, list[str]] = {n: [] for n in by_name}
    for n, facts in by_name.items():
        for target in dict.fromkeys(facts.tail.targets if facts.tail else ()):
            if target in incoming:
                incoming[target].append(n)
    parents, matching = _nesting(by_name, types)
    nodes = []
    for n in _topological(by_name):
        facts = by_name[n]
        tail = facts.tail
        nodes.append(
            StepNode(
                name=n,
                type=types[n],
                line=facts.line,
                doc=facts.doc,
                out=tail.targets if tail else (),
                next_line=tail.line if tail else 0,
                foreach_var=tail.foreach if tail else None,
                num_args=len(facts.args),
                decorators=tuple((decorators or {}).get(n, ())),
                in_funcs=tuple(incoming[n]),
                split_parents=parents.get(n, ()),
                matching_join=matching.get(n),
            )
        )
    return Graph(name, file, line, doc, tuple(nodes), parameters, flow_decorators)
