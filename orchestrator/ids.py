"""Typed identifiers: pathspecs, foreach frames and attempt references, each with one text form.

A pathspec (``Flow/run/step/task``) and an attempt reference are built and
taken apart only here: ``str(path)`` writes one, ``Pathspec.parse`` and
``AttemptRef.parse`` read them back, and nothing else formats or splits
these strings. Standard library only: the task runtime uses these inside
containers.
"""

from __future__ import annotations

from typing import Any, Iterable, List, NamedTuple, Optional, Sequence, Tuple


class Pathspec(NamedTuple):
    """``Flow``, ``Flow/run``, ``Flow/run/step``, ``Flow/run/step/task`` or ``.../task/artifact``: what
    Metaflow's client calls a pathspec. Build one with ``run_path``/``task_path`` or ``child``; ``str()``
    is its text."""

    flow: str
    run: Optional[str] = None
    step: Optional[str] = None
    task: Optional[str] = None
    artifact: Optional[str] = None

    @classmethod
    def parse(cls, text: str, depth: Optional[int] = None) -> Pathspec:
        """Split a pathspec; ``depth`` (1 flow ... 4 task, 5 artifact) says how many parts it must have."""
        parts = str(text).split("/")
        if not all(parts) or len(parts) > 5 or (depth is not None and len(parts) != depth):
            raise ValueError("not a pathspec of %s parts: %r" % (depth or "1 to 5", text))
        return cls(*parts)

    @property
    def parts(self) -> Tuple[str, ...]:
        return tuple(p for p in self if p is not None)

    def child(self, name: str) -> Pathspec:
        """The path one level down: a flow's run, a run's step, a step's task."""
        return Pathspec(*(self.parts + (str(name),)))

    @property
    def in_run(self) -> str:
        """``run/step/task`` (or less): the path without its flow, as the console and ``orch dump`` show it."""
        return "/".join(self.parts[1:])

    def __str__(self) -> str:
        return "/".join(self.parts)


def run_path(flow: str, run: str) -> Pathspec:
    return Pathspec(flow, run)


def task_path(flow: str, run: str, step: str, task: str) -> Pathspec:
    return Pathspec(flow, run, step, task)


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

    def __str__(self) -> str:
        head = "%s/" % self.run if self.run else ""
        return "%s%s/%s/%d" % (head, self.step, self.task, self.attempt)
