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
    if tail is not None and (tail.switch is not None or tail.condition is not None or tail.condition_bad):
        return StepType.SWITCH
    if tail is not None and (tail.foreach is not None or tail.foreach_bad is not None or tail.num_parallel):
        return StepType.FOREACH
    if tail is not None and len(tail.targets) > 1:
        return StepType.SPLIT
    if facts.name == "start":
        return StepType.START
    return StepType.LINEAR


def _outs(steps: Mapping[str, StepFacts]) -> dict[str, list[str]]:
    return {n: [t for t in dict.fromkeys(f.tail.targets if f.tail else ()) if t in steps] for n, f in steps.items()}


def back_edges(steps: Mapping[str, StepFacts], types: Mapping[str, StepType]) -> set[tuple[str, str]]:
    """The edges that close a loop through a switch (recursion), found by a depth-first walk from
    start: an edge back to a step on the current path, when a switch is on that loop. Following one
    starts a new iteration. A loop with no switch on it is left in place for ``lint`` to report."""
    outs = _outs(steps)
    found: set[tuple[str, str]] = set()
    if "start" not in steps:
        return found
    path = ["start"]
    on_path = {"start"}
    done: set[str] = set()
    stack = [iter(outs["start"])]
    while stack:
        child = next(stack[-1], None)
        name = path[-1]
        if child is None:
            stack.pop()
            on_path.discard(path.pop())
            done.add(name)
        elif child in on_path:
            loop = path[path.index(child) :]
            if any(types[n] is StepType.SWITCH for n in loop):
                found.add((name, child))
        elif child not in done:
            path.append(child)
            on_path.add(child)
            stack.append(iter(outs[child]))
    return found


def _topological(steps: Mapping[str, StepFacts], back: set[tuple[str, str]]) -> list[str]:
    """Start first, then each step after all its (known) predecessors; leftovers by line.
    Edges that loop back (recursion) do not order anything."""
    outs = {n: [t for t in targets if (n, t) not in back] for n, targets in _outs(steps).items()}
    indegree = {n: 0 for n in steps}
    for targets in outs.values():
        for t in targets:
            indegree[t] += 1
    by_line = sorted(steps, key=lambda n: (n != "start", steps[n].line))
    ready = [n for n in by_line if indegree[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for t in outs[name]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
        ready.sort(key=lambda n: (n != "start", steps[n].line))
    order += [n for n in by_line if n not in order]
    return order


def _nesting(steps: Mapping[str, StepFacts], types: Mapping[str, StepType]) -> tuple[dict, dict, dict]:
    """split_parents and split_branches of each reachable step, and the matching join of each split.
    A switch opens no split: exactly one of its cases runs, on the same branch as the switch."""
    parents: dict[str, tuple[str, ...]] = {}
    branches: dict[str, tuple[str, ...]] = {}
    matching: dict[str, str] = {}
    pending = [("start", (), ())] if "start" in steps else []
    while pending:
        name, stack, lanes = pending.pop()
        if name in parents:
            continue
        parents[name], branches[name] = stack, lanes
        kind = types[name]
        opens = kind in (StepType.SPLIT, StepType.FOREACH)
        if opens:
            stack = stack + (name,)
        elif kind is StepType.JOIN and stack:
            matching.setdefault(stack[-1], name)
            parents[name], branches[name] = stack, lanes[:-1]
            stack, lanes = stack[:-1], lanes[:-1]
        tail = steps[name].tail
        for target in reversed(tail.targets if tail else ()):
            if target in steps:
                pending.append((target, stack, lanes + (target,) if opens else lanes))
    return parents, branches, matching


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
    parents, branches, matching = _nesting(by_name, types)
    back = back_edges(by_name, types)
    nodes = []
    for n in _topological(by_name, back):
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
                split_branches=branches.get(n, ()),
                condition=tail.condition if tail else None,
                switch_cases=tail.switch or () if tail else (),
                loops_to=tuple(t for t in (tail.targets if tail else ()) if (n, t) in back),
                num_parallel=tail.num_parallel if tail else None,
            )
        )
    return Graph(name, file, line, doc, tuple(nodes), parameters, flow_decorators)
