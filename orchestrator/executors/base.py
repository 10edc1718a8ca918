"""The interface every executor implements: submit, poll, cancel, close; and the states a task ends in."""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..states import TaskState
from ..task.spec import TaskSpec

__all__ = ["Executor", "TaskResult", "TaskState", "drain"]


@dataclass(frozen=True)
class TaskResult:
    handle: str
    state: TaskState
    exit_code: Optional[int] = None
    message: str = ""  # why it ended, for people: "killed: out of memory (limit 512 MiB)"


class Executor:
    """Runs task attempts. ``poll`` blocks until something finishes or the timeout passes."""

    name = "base"
    bounded_here = True  # its tasks run on this machine and count against --max-workers

    def submit(self, spec: TaskSpec) -> str:
        """Start one attempt; returns a handle for poll and cancel."""
        raise NotImplementedError

    def poll(self, timeout: float) -> List[TaskResult]:
        """Results of attempts that ended since the last call; waits up to ``timeout`` for the first."""
        raise NotImplementedError

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        """Stop an attempt; its result is reported by poll with ``state``."""
        raise NotImplementedError

    def flush(self) -> None:
        """Called after each burst of submits: an executor may send them together (Batch array jobs)."""

    def bounded(self, step: str) -> bool:
        """Whether ``step``'s tasks count against --max-workers."""
        return self.bounded_here

    def stats(self) -> Dict[str, Any]:
        """Figures for the run's done record, e.g. API calls made."""
        return {}

    def prepare(self, steps: List[str], flow: str) -> None:
        """A hint that ``steps`` run first: an executor may start their sandboxes early."""

    def close(self) -> None:
        """Stop everything still running and release resources."""


def drain(results: queue.Queue[TaskResult], timeout: float) -> List[TaskResult]:
    """Block up to ``timeout`` for the first result, then take whatever else is already there."""
    out: List[TaskResult] = []
    try:
        out.append(results.get(timeout=max(0.0, timeout)))
    except queue.Empty:
        return out
    while True:
        try:
            out.append(results.get_nowait())
        except queue.Empty:
            return out
