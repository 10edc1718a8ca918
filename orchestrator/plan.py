"""Planning: which tasks become runnable when a task succeeds. Pure logic, no I/O.

A task is identified by its step, its foreach key (the indices of the
enclosing foreach splits) and its loop counts. When one succeeds, its
successors are planned: one task per element after a foreach split, one
task per branch after a static split, the one case a switch chose, and a
join once every branch it waits for has succeeded (counted, not searched,
so a 10,000-way foreach stays linear).

Recursion (a switch case that leads back to an earlier step, or to the
switch itself) starts a new iteration: ``loops`` holds one count per
foreach level (the outermost first, then one per enclosing foreach), and a
loop back increments the innermost, so every task keeps a distinct key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .graph.model import Graph, StepType
from .ids import PARALLEL_VAR, AttemptRef, Frame, foreach_key, loop_key

Key = Tuple[str, Tuple[int, ...], Tuple[int, ...]]


@dataclass(frozen=True)
class PlannedTask:
    step: str
    inputs: Tuple[AttemptRef, ...]  # the parents' committed attempts
    foreach_stack: Tuple[Frame, ...]
    loops: Tuple[int, ...] = (0,)  # recursion iterations, one per foreach level (see the module)

    @property
    def key(self) -> Key:
        return self.step, foreach_key(self.foreach_stack), loop_key(self.loops)


@dataclass(frozen=True)
class Finished:
    """A task that succeeded, as the planner needs to know it."""

    step: str
    ref: AttemptRef
    foreach_stack: Tuple[Frame, ...]
    num_splits: Optional[int] = None
    loops: Tuple[int, ...] = (0,)
    chosen: Optional[str] = None  # a switch: the case it took


class Planner:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        # join step + group key -> {position: attempt}; position orders the branches
        self._waiting: Dict[Tuple[str, Tuple[int, ...], Tuple[int, ...]], Dict[int, AttemptRef]] = {}

    def start(self) -> List[PlannedTask]:
        return [PlannedTask("start", (), ())]

    def on_success(self, done: Finished) -> List[PlannedTask]:
        node = self.graph[done.step]
        loops = done.loops or (0,)
        targets = node.out
        if node.type is StepType.SWITCH:
            targets = (done.chosen,) if done.chosen in node.out else ()
        planned = []
        for target in targets:
            if node.type is StepType.FOREACH:
                count = done.num_splits or 0
                for index in range(count):
                    frame = Frame(node.name, node.foreach_var or PARALLEL_VAR, index, count)
                    planned.append(PlannedTask(target, (done.ref,), done.foreach_stack + (frame,), loops + (0,)))
            elif self.graph[target].type is StepType.JOIN:
                ready = self._arrive(target, done, loops)
                if ready is not None:
                    planned.append(ready)
            else:
                again = loops[:-1] + (loops[-1] + 1,) if target in node.loops_to else loops
                planned.append(PlannedTask(target, (done.ref,), done.foreach_stack, again))
        return planned

    def _arrive(self, join: str, done: Finished, loops: Tuple[int, ...]) -> Optional[PlannedTask]:
        node = self.graph[join]
        split = self.graph[node.split_parents[-1]]
        if split.type is StepType.FOREACH:
            stack, loops = done.foreach_stack[:-1], loops[:-1] or (0,)
            position, expected = done.foreach_stack[-1].index, done.foreach_stack[-1].num_splits
        else:
            # The branch of the split the finished step is on: with switches inside a branch,
            # several steps may end one branch, and only the case taken arrives.
            stack = done.foreach_stack
            lanes = self.graph[done.step].split_branches
            branch = lanes[-1] if lanes else done.step
            position = split.out.index(branch) if branch in split.out else node.in_funcs.index(done.step)
            expected = len(split.out)
        group = (join, foreach_key(stack), loop_key(loops))
        arrived = self._waiting.setdefault(group, {})
        arrived[position] = done.ref
        if len(arrived) < expected:
            return None
        del self._waiting[group]
        return PlannedTask(join, tuple(arrived[i] for i in sorted(arrived)), stack, loops)
