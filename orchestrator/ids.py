"""Typed identifiers: foreach frames and attempt references, each with one text form.

A reference is built and taken apart only here: ``str(ref)`` writes
``step/task/attempt`` (or ``run/step/task/attempt``), ``AttemptRef.parse``
reads it back, and nothing else formats or splits these strings. Standard
library only: the task runtime uses these inside containers.
"""

from __future__ import annotations

from typing import Any, Iterable, List, NamedTuple, Optional, Sequence, Tuple


class Frame(NamedTuple):
    """One level of foreach nesting, as the planner and the records know it."""

    step: str  # the foreach split step
    var: str  # its foreach variable
    index: int
    num_splits: int

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Frame:
        step, var, index, num_splits = data[:4]
        return cls(str(step), str(var), int(index), int(num_splits))


def id_order(identifier: str) -> Tuple[int, str]:
    """Run and task ids in the order they were made: a longer id is a later one (``10`` after ``9``),
    then by text. The one sort key for ids: every listing of runs or tasks uses it."""
    return len(identifier), identifier


def in_order(identifiers: Iterable[str], newest_first: bool = False) -> List[str]:
    return sorted(identifiers, key=id_order, reverse=newest_first)


def foreach_key(stack: Sequence[Frame]) -> tuple:
    """The indices of the enclosing splits: with the step name, what identifies a task across runs."""
    return tuple(frame.index for frame in stack)


PARALLEL_VAR = "_parallel_ubf_iter"  # the foreach variable of a num_parallel split's frames (Metaflow's name)


def loop_key(loops: Sequence[int]) -> tuple:
    """A task's recursion iterations (one count per foreach level, see ``plan``) as part of its
    identity: empty for a task that no switch looped back to, so flows without recursion keep
    their keys."""
    return tuple(loops) if any(loops) else ()


class AttemptRef(NamedTuple):
    """One attempt of one task: ``step/task/attempt`` within a run, ``run/step/task/attempt`` across runs."""

    step: str
    task: str
    attempt: int
    run: Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> AttemptRef:
        parts = str(text).split("/")
        if len(parts) not in (3, 4) or not parts[-1].isdigit() or not all(parts):
            raise ValueError("not an attempt reference (step/task/attempt or run/step/task/attempt): %r" % text)
        if len(parts) == 4:
            return cls(parts[1], parts[2], int(parts[3]), parts[0])
        return cls(parts[0], parts[1], int(parts[2]))

    def in_run(self, run: str) -> AttemptRef:
        return self._replace(run=run)

    @property
    def task_path(self) -> str:
        """``step/task``: the task, whichever attempt."""
        return "%s/%s" % (self.step, self.task)

    def __str__(self) -> str:
        head = "%s/" % self.run if self.run else ""
        return "%s%s/%s/%d" % (head, self.step, self.task, self.attempt)
