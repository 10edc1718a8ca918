"""The interface every executor implements, and how each one is set up for a run.

An executor runs task attempts: ``submit``, ``poll``, ``cancel`` and
``close`` are the contract (``tests/contract/test_executors.py`` runs the
same cases over each). Before a run, each executor module's ``prepare``
turns the steps placed on it into a frozen ``ExecutorSetup`` (host envs,
images, job definitions): the setup is the only place executor-specific
facts live, and it creates the executor once the run's code is packaged.
"""

from __future__ import annotations

import abc
import itertools
import os
import queue
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..config import Config
from ..envs.lock import LockRef
from ..graph.model import Graph
from ..states import TaskState
from ..store.backend import Backend
from ..task.spec import TaskSpec

__all__ = [
    "Attempts",
    "Executor",
    "ExecutorSetup",
    "RunPlace",
    "SetupRequest",
    "TaskResult",
    "TaskState",
    "drain",
    "process_alive",
    "stderr_tail",
]


@dataclass(frozen=True)
class TaskResult:
    handle: str
    state: TaskState
    exit_code: Optional[int] = None
    message: str = ""  # why it ended, for people: "killed: out of memory (limit 512 MiB)"


class Executor(abc.ABC):
    """Runs task attempts. ``poll`` blocks until something finishes or the timeout passes."""

    name = "base"

    @abc.abstractmethod
    def submit(self, spec: TaskSpec) -> str:
        """Start one attempt; returns a handle for poll and cancel."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> List[TaskResult]:
        """Results of attempts that ended since the last call; waits up to ``timeout`` for the first."""

    @abc.abstractmethod
    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        """Stop an attempt; its result is reported by poll with ``state``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop everything still running and release resources."""

    def flush(self) -> None:
        """Called after each burst of submits: an executor may send them together (Batch array jobs)."""
        return None

    def stats(self) -> Dict[str, Any]:
        """Figures for the run's done record, e.g. API calls made."""
        return {}

    def prepare(self, steps: List[str], flow: str) -> None:
        """A hint that ``steps`` run first: an executor may start their sandboxes early."""
        return None


@dataclass(frozen=True)
class SetupRequest:
    """What an executor module's ``prepare`` is given: the steps placed on it and their locked envs."""

    graph: Graph
    flow_name: str
    flow_dir: str
    steps: Tuple[str, ...]
    locks: Mapping[str, Optional[LockRef]]  # step → its env's lock, None for the default env
    config: Config
    notice: Callable[[str], None]  # progress for people: "Built image ...", "Pushed ..."

    def locks_of_steps(self) -> Dict[str, Optional[LockRef]]:
        return {step: self.locks.get(step) for step in self.steps}


@dataclass(frozen=True)
class RunPlace:
    """What a setup creates its executor with, once the run's code package is unpacked."""

    flow: str
    code_dir: str
    flow_file: str
    backend: Backend
    config: Config
    graph: Graph
    max_workers: Optional[int] = None  # --max-workers: a backend elsewhere may throttle with it (a job array's %N)


class ExecutorSetup(abc.ABC):
    """A frozen, prepared executor for some steps of one run. Subclasses are frozen dataclasses."""

    steps: Tuple[str, ...]

    @abc.abstractmethod
    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        """step → what the run record adds about its environment (image tags, pushed references)."""

    @abc.abstractmethod
    def create(self, place: RunPlace) -> Executor:
        """The executor itself, for one run."""


class Attempts:
    """Handles, cancellations and results, kept the same way by every executor.

    ``open`` gives a submitted attempt its handle, and the executor may keep what it tracks of it
    there (a process, a container, a job). ``cancel`` records that orch stopped it, and ``finish``
    reports its end exactly once: a cancellation recorded meanwhile decides the state and message,
    so a task killed by a timeout reads as timed out, not as a failed exit. ``poll`` drains the ends.
    """

    def __init__(self, prefix: str = "", lock: Optional[threading.RLock] = None) -> None:
        self.lock = lock or threading.RLock()  # an executor may share its own (Batch waits on it)
        self.prefix = prefix
        self._numbers = itertools.count(1)
        self._live: Dict[str, Any] = {}
        self._cancelled: Dict[str, Tuple[TaskState, str]] = {}
        self._results: queue.Queue[TaskResult] = queue.Queue()

    def open(self, spec: TaskSpec, value: Any = None) -> str:
        handle = "%s%s-%d" % (self.prefix, spec.task_id, next(self._numbers))
        with self.lock:
            self._live[handle] = value
        return handle

    def set(self, handle: str, value: Any) -> None:
        with self.lock:
            if handle in self._live:
                self._live[handle] = value

    def get(self, handle: str) -> Any:
        with self.lock:
            return self._live.get(handle)

    def live(self) -> Dict[str, Any]:
        """The attempts not yet finished, handle → what the executor keeps of each."""
        with self.lock:
            return dict(self._live)

    def cancel(self, handle: str, state: TaskState, message: str = "") -> bool:
        """Record that orch stops this attempt; False when it already finished (nothing to stop)."""
        with self.lock:
            if handle not in self._live:
                return False
            self._cancelled.setdefault(handle, (state, message or state.value))
            return True

    def cancelled(self, handle: str) -> Optional[Tuple[TaskState, str]]:
        with self.lock:
            return self._cancelled.get(handle)

    def finish(self, result: TaskResult) -> None:
        """Report an attempt's end (once; a second report of the same handle is dropped)."""
        with self.lock:
            if result.handle not in self._live:
                return
            del self._live[result.handle]
            cancelled = self._cancelled.pop(result.handle, None)
        if cancelled is not None:
            result = replace(result, state=cancelled[0], message=cancelled[1])
        self._results.put(result)

    def poll(self, timeout: float) -> List[TaskResult]:
        return drain(self._results, timeout)


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


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` on this host still runs: an executor's orphans (containers, jobs) are
    those whose orchestrator process is gone."""
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stderr_tail(path: str, lines: int = 3) -> str:
    """``": last | lines"`` of a task's stderr log, to explain a failure in one line; "" when there is none."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 4000))
            found = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return (": " + " | ".join(line.strip() for line in found[-lines:])) if found else ""


@dataclass(frozen=True)
class StepResources:
    """What a step asks of the machine its task runs on; None where it asks nothing."""

    cpu: Optional[float] = None
    memory: Optional[int] = None  # megabytes
    gpu: Optional[int] = None


def resources_of(node: Any) -> StepResources:
    """A step's ``@resources`` and its backend decorator's requests (``@batch(cpu=4)``) together: the
    larger wins, as in Metaflow, whatever executor runs the step."""
    asked = [d for d in node.decorators if d.NAME == "resources" or d.RESOURCES]

    def largest(field: str) -> Any:
        present = [v for v in (getattr(spec, field, None) for spec in asked) if isinstance(v, (int, float)) and v]
        return max(present) if present else None

    return StepResources(largest("cpu"), largest("memory"), largest("gpu"))
