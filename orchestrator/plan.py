"""Planning: which tasks become runnable when a task succeeds. Pure logic, no I/O.

A task is identified by its step and its foreach key (the indices of the
enclosing foreach splits). When one succeeds, its successors are planned:
one task per element after a foreach split, one task per branch after a
static split, and a join once every branch it waits for has succeeded
(counted, not searched, so a 10,000-way foreach stays linear).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .graph.model import Graph, StepType
from .ids import AttemptRef, Frame, foreach_key


class Target(str, enum.Enum):
    """Where a step's tasks run."""

    LOCAL = "local"  # a process on this machine, in a host env
    DOCKER = "docker"  # a container on this machine's engine
    BATCH = "batch"  # an AWS Batch job

    @property
    def on_this_machine(self) -> bool:
        return self is not Target.BATCH


def step_targets(graph: Graph, here: Target) -> Dict[str, Target]:
    """Each step's target: AWS Batch for steps with ``@batch`` (``--with batch`` adds it to every step),
    ``here`` (local or docker) for the rest."""
    return {node.name: Target.BATCH if node.decorator("batch") is not None else here for node in graph}


def run_label(targets: Dict[str, Target]) -> str:
    """What the run record calls its executor: local, docker, batch, or e.g. local+batch."""
    used = list(dict.fromkeys(sorted(targets.values(), key=lambda t: t is Target.BATCH)))
    return "+".join(t.value for t in used)


@dataclass(frozen=True)
class PlannedTask:
    step: str
    inputs: Tuple[AttemptRef, ...]  # the parents' committed attempts
    foreach_stack: Tuple[Frame, ...]

    @property
    def key(self) -> Tuple[str, Tuple[int, ...]]:
        return self.step, foreach_key(self.foreach_stack)


@dataclass(frozen=True)
class Finished:
    """A task that succeeded, as the planner needs to know it."""

    step: str
    ref: AttemptRef
    foreach_stack: Tuple[Frame, ...]
    num_splits: Optional[int] = None


class Planner:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        # join step + group key -> {position: attempt}; position orders the branches
        self._waiting: Dict[Tuple[str, Tuple[int, ...]], Dict[int, AttemptRef]] = {}

    def start(self) -> List[PlannedTask]:
        return [PlannedTask("start", (), ())]

    def on_success(self, done: Finished) -> List[PlannedTask]:
        node = self.graph[done.step]
        planned = []
        for target in node.out:
            if node.type is StepType.FOREACH:
                count = done.num_splits or 0
                for index in range(count):
                    frame = Frame(node.name, node.foreach_var or "", index, count)
                    planned.append(PlannedTask(target, (done.ref,), done.foreach_stack + (frame,)))
            elif self.graph[target].type is StepType.JOIN:
                ready = self._arrive(target, done)
                if ready is not None:
                    planned.append(ready)
            else:
                planned.append(PlannedTask(target, (done.ref,), done.foreach_stack))
        return planned

    def _arrive(self, join: str, done: Finished) -> Optional[PlannedTask]:
        node = self.graph[join]
        split = self.graph[node.split_parents[-1]]
        if split.type is StepType.FOREACH:
            stack = done.foreach_stack[:-1]
            position, expected = done.foreach_stack[-1].index, done.foreach_stack[-1].num_splits
        else:
            stack = done.foreach_stack
            position, expected = node.in_funcs.index(done.step), len(node.in_funcs)
        group = (join, foreach_key(stack))
        arrived = self._waiting.setdefault(group, {})
        arrived[position] = done.ref
        if len(arrived) < expected:
            return None
        del self._waiting[group]
        return PlannedTask(join, tuple(arrived[i] for i in sorted(arrived)), stack)
