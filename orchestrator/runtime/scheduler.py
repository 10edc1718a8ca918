"""The scheduler: feeds planned tasks to an executor, handles retries, timeouts, @catch, clones and stops.

It never runs user code and never decides the graph: the planner says what
becomes runnable, the executor runs attempts, and the store holds every
record. Its loop blocks on the executor's ``poll``; it wakes for the
earliest timeout or retry delay, and a few times a second to notice a stop
request and refresh progress.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Dict, Iterator, List, Optional, Protocol, Tuple

from ..defaults import MAX_WORKERS
from ..executors.base import Executor, TaskResult, TaskState
from ..graph.model import Graph
from ..ids import AttemptRef
from ..plan import Finished, PlannedTask, Planner
from ..states import Status
from ..store.metadata import MetadataStore
from ..store.records import AttemptEnd, Death, ExceptionInfo
from ..task.spec import TaskSpec
from .gangs import Gangs, Settled
from .specs import RunContext, task_spec

WAKE_SECONDS = 0.25


def timeout_grace(seconds: float) -> float:
    """How long after its @timeout a task that did not stop itself is killed."""
    return max(5.0, seconds * 0.1)


class Reporter(Protocol):
    def task_started(self, spec: TaskSpec) -> None: ...
    def task_finished(self, spec: TaskSpec, result: TaskResult, then: str) -> None: ...
    def task_cloned(self, step: str, origin: str) -> None: ...
    def task_cached(self, step: str, task_id: str, source: str) -> None: ...


@dataclass
class Failure:
    pathspec: str
    state: TaskState
    message: str
    exception: Optional[ExceptionInfo] = None  # what the step raised; None when its process died


class CloneSource(Protocol):
    def clone(self, planned: PlannedTask, task_id: str) -> Optional[Finished]: ...


class CacheSource(Protocol):
    """Step memoization (``memo.lookup.Cache``): keys for specs, hits instead of runs, entries after."""

    def spec_field(self, planned: PlannedTask) -> Optional[Dict]: ...
    def hit(self, planned: PlannedTask, task_id: str) -> Optional[Tuple[Finished, AttemptRef]]: ...
    def record(self, step: str, task_id: str, end: AttemptEnd) -> Optional[str]: ...


@dataclass
class _Running:
    planned: PlannedTask
    spec: TaskSpec
    deadline: Optional[float]


@dataclass
class RunOutcome:
    succeeded: bool
    failures: List[Failure] = field(default_factory=list)
    interrupted: Optional[str] = None
    tasks_run: int = 0
    tasks_cloned: int = 0
    tasks_cached: int = 0


class Scheduler:
    def __init__(
        self,
        graph: Graph,
        ctx: RunContext,
        executor: Executor,
        meta: MetadataStore,
        reporter: Reporter,
        max_workers: int = MAX_WORKERS,
        clones: Optional[CloneSource] = None,
        planner: Optional[Planner] = None,
        task_ids: Optional[Iterator[str]] = None,
        cache: Optional[CacheSource] = None,
    ) -> None:
        self.graph, self.ctx, self.executor, self.meta = graph, ctx, executor, meta
        self.reporter = reporter
        self.max_workers = max(1, max_workers)
        self.clones = clones
        self.cache = cache
        self.planner = planner or Planner(graph)  # spin gives one of its own: one task, nothing after
        self.stop_requested: Optional[str] = None
        self._ids = task_ids or (str(n) for n in itertools.count(1))
        self._delayed: List[Tuple[float, int, PlannedTask, TaskSpec]] = []  # retries waiting out their delay
        self._seq = itertools.count()
        self._controls: Dict[tuple, str] = {}  # @parallel gang → its control task id
        self._gangs = Gangs()  # @parallel gangs whose attempt has not fully ended

    # specs

    def _spec(self, planned: PlannedTask, task_id: str) -> TaskSpec:
        node = self.graph[planned.step]
        control = self._control_task(planned, task_id) if node.decorator("parallel") else None
        cache = self.cache.spec_field(planned) if self.cache is not None else None
        return task_spec(self.graph, self.ctx, planned, task_id, cache, control)

    def _here(self, step: str) -> bool:
        """Whether ``step``'s tasks run on this machine: the one placement question the scheduler asks."""
        return step not in self.ctx.elsewhere

    def _control_task(self, planned: PlannedTask, task_id: str) -> str:
        """A @parallel gang's control task: node 0's task id (planned first, so known to the others)."""
        gang = (planned.step, planned.inputs, planned.foreach_stack[:-1])
        if planned.foreach_stack[-1].index == 0:
            self._controls[gang] = task_id
        return self._controls.get(gang, task_id)

    def _max_retries(self, step: str) -> int:
        retry = self.graph[step].decorator("retry")
        return retry.times if retry else 0

    def _retry_delay(self, step: str) -> float:
        """Seconds before a retry. As in Metaflow, a task on this machine is retried at once; only a
        step running elsewhere (AWS Batch) waits out ``@retry(minutes_between_retries=)``."""
        retry = self.graph[step].decorator("retry")
        if retry is None or self._here(step):
            return 0.0
        return 60.0 * retry.minutes_between_retries

    def _deadline(self, spec: TaskSpec) -> Optional[float]:
        """When the scheduler kills a task that outlived its ``@timeout``. The task itself raises
        ``TimeoutException`` at the limit (SIGALRM); this backstop, a grace period later, is for a
        step that blocks the signal or hangs in C code. Not for a @catch fallback attempt: it runs no
        user code, and a short timeout could otherwise expire on a slow container start."""
        timeout = self.graph[spec.step].decorator("timeout")
        if not timeout or spec.fallback_reason is not None:
            return None
        return time.monotonic() + timeout.total_seconds + timeout_grace(timeout.total_seconds)

    # the loop

    def run(self) -> RunOutcome:
        outcome = RunOutcome(False)
        # (planned task, spec): spec is None for a first attempt, set for a retry whose delay has passed
        ready: List[Tuple[PlannedTask, Optional[TaskSpec]]] = [(p, None) for p in self.planner.start()]
        running: Dict[str, _Running] = {}
        failed = False
        while ready or running or self._delayed:
            if self.stop_requested and outcome.interrupted is None:
                outcome.interrupted = self.stop_requested
                for handle in list(running):
                    self.executor.cancel(handle, TaskState.KILLED, "stopped: %s" % self.stop_requested)
            if failed or outcome.interrupted:
                ready.clear()
                self._delayed.clear()
            self._release_delayed(ready)
            self._fill(ready, running, outcome)
            if not running and not self._delayed:
                break
            for result in self.executor.poll(self._wait_seconds(running)):
                entry = running.pop(result.handle, None)
                if entry is None:
                    continue
                next_tasks, failure = self._finish(entry, result)
                ready.extend((p, None) for p in next_tasks)
                if failure is not None:
                    outcome.failures.append(failure)
                    failed = True
            self._enforce_deadlines(running)
        outcome.succeeded = not failed and not outcome.interrupted
        return outcome

    def _fill(
        self, ready: List[Tuple[PlannedTask, Optional[TaskSpec]]], running: Dict[str, _Running], outcome: RunOutcome
    ) -> None:
        """Submit ready tasks while --max-workers allows, then let the executor send them as a batch.

        Only tasks on this machine count against --max-workers; steps the executor
        runs elsewhere (AWS Batch) are bounded by their compute environment, so a
        whole foreach goes out together, as one array job.
        """
        local = sum(1 for r in running.values() if self._here(r.spec.step))
        waiting: List[Tuple[PlannedTask, Optional[TaskSpec]]] = []
        while ready:
            planned, spec = ready.pop(0)
            bounded = self._here(planned.step)
            # A @parallel gang starts together whatever --max-workers says: its tasks wait for each other.
            gang = self.graph[planned.step].decorator("parallel") is not None
            if bounded and local >= self.max_workers and not gang:
                waiting.append((planned, spec))
                continue
            if spec is None:
                task_id = next(self._ids)
                cloned = self.clones.clone(planned, task_id) if self.clones else None
                if cloned is not None:
                    outcome.tasks_cloned += 1
                    self.reporter.task_cloned(planned.step, str(cloned.ref))
                    ready.extend((p, None) for p in self.planner.on_success(cloned))
                    continue
                hit = self.cache.hit(planned, task_id) if self.cache is not None else None
                if hit is not None:  # step memoization: an earlier task's results, no code run
                    outcome.tasks_cached += 1
                    self.reporter.task_cached(planned.step, task_id, str(hit[1]))
                    ready.extend((p, None) for p in self.planner.on_success(hit[0]))
                    continue
                spec = self._spec(planned, task_id)
                outcome.tasks_run += 1
            self._submit(planned, spec, running)
            local += bounded
        ready.extend(waiting)
        self.executor.flush()

    def _submit(self, planned: PlannedTask, spec: TaskSpec, running: Dict[str, _Running]) -> None:
        handle = self.executor.submit(spec)
        running[handle] = _Running(planned, spec, self._deadline(spec))
        self.reporter.task_started(spec)

    def _wait_seconds(self, running: Dict[str, _Running]) -> float:
        now = time.monotonic()
        wake = [r.deadline for r in running.values() if r.deadline is not None]
        if self._delayed:
            wake.append(self._delayed[0][0])
        return max(0.0, min([now + WAKE_SECONDS] + wake) - now)

    def _enforce_deadlines(self, running: Dict[str, _Running]) -> None:
        now = time.monotonic()
        for handle, entry in running.items():
            if entry.deadline is not None and now >= entry.deadline:
                seconds = self.graph[entry.spec.step].decorator("timeout").total_seconds
                self.executor.cancel(
                    handle,
                    TaskState.TIMED_OUT,
                    "timed out after %d seconds (@timeout) and did not stop; killed" % seconds,
                )
                entry.deadline = None

    def _release_delayed(self, ready: List[Tuple[PlannedTask, Optional[TaskSpec]]]) -> None:
        """Retries whose delay has passed go to the front of the queue."""
        now = time.monotonic()
        due = []
        while self._delayed and self._delayed[0][0] <= now:
            _, _, planned, spec = heapq.heappop(self._delayed)
            due.append((planned, spec))
        ready[:0] = due

    # results

    def _note_death(self, spec: TaskSpec, result: TaskResult) -> None:
        """Say in the task's own stderr log why its process ended, as Metaflow does: a task log that
        just stops is no help. A segfault (signal 11, or exit 139 from a container) is named."""
        if result.state in (TaskState.TIMED_OUT, TaskState.LOST) or result.message.startswith("stopped"):
            return  # stopped by orch: the console and the record say so
        if not self._here(spec.step):
            return  # its log lives where it ran (a Batch job notes its own death)
        if result.exit_code in (-11, 139):
            line = "Task failed with a segmentation fault."
        else:
            line = "Task failed: %s" % (result.message or result.state.value)
        path = spec.log_files(self.meta.backend)[1]
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write("\norch: %s\n" % line)
        except OSError:
            pass  # the log folder is gone: nothing to add to

    def _settle(self, entry: _Running, result: TaskResult) -> Tuple[Settled, TaskResult]:
        """Read how an attempt ended. A process that ended without committing (timeout, kill, OOM, exit
        code) gets its end recorded here, as a death."""
        spec = entry.spec
        end = self.meta.attempt_end(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt)
        if result.state is TaskState.SUCCEEDED and end is not None and end.succeeded:
            if self.cache is not None and spec.cache:
                self.cache.record(spec.step, spec.task_id, end)  # after its done record: durable
            chosen = end.next[0] if spec.switch and end.next else None
            done = Finished(spec.step, spec.ref, spec.foreach_stack, end.num_splits, entry.planned.loops, chosen)
            return Settled(entry.planned, spec, done), result
        died = end is None
        if end is None:
            if result.state is TaskState.SUCCEEDED:
                result = replace(result, state=TaskState.FAILED, message="the task exited without recording its end")
            end = AttemptEnd(spec.attempt, Status.FAILED, time.time(), died=Death(result.state, result.message))
            self.meta.finish_attempt(spec.flow, spec.run_id, spec.step, spec.task_id, end)
            self._note_death(spec, result)
        elif result.state is TaskState.SUCCEEDED:
            result = replace(result, state=TaskState.FAILED, message="the task reported a failure")
        exception = end.exception
        message = result.message if died else exception.message if exception else ""
        if not died and result.exit_code not in (None, 0):
            result = replace(result, message="%s (exit code %d)" % (message, result.exit_code))
        else:
            result = replace(result, message=message)
        return Settled(entry.planned, spec, None, died, message, result.state, exception), result

    def _finish(self, entry: _Running, result: TaskResult) -> Tuple[List[PlannedTask], Optional[Failure]]:
        settled, shown = self._settle(entry, result)
        spec = settled.spec
        retries_left = spec.attempt < self._max_retries(spec.step) and not self.stop_requested
        if spec.parallel_control is not None:
            return self._finish_gang(settled, shown, retries_left)
        if settled.finished is not None:
            self.reporter.task_finished(spec, shown, "")
            too_many = self._too_many_splits(spec.pathspec, settled.finished)
            return ([], too_many) if too_many else (self.planner.on_success(settled.finished), None)
        # A step that raised was caught inside the task; one whose process died gets a fallback attempt
        # that runs no user code and records the failure in the @catch variable.
        fallback = (
            not retries_left
            and settled.died
            and spec.catch_var is not None
            and spec.fallback_reason is None
            and not self.stop_requested
        )
        then = "retrying" if retries_left else "@catch records it" if fallback else ""
        self.reporter.task_finished(spec, shown, then)
        if retries_left:
            self._again(entry.planned, spec)
        elif fallback:
            self._again(entry.planned, spec, "%s: %s" % (shown.state.value, settled.message))
        else:
            return [], Failure(spec.pathspec, settled.state, settled.message, settled.exception)
        return [], None

    def _too_many_splits(self, pathspec: str, done: Finished) -> Optional[Failure]:
        """A foreach wider than --max-num-splits: as in Metaflow, its task succeeded and the run fails."""
        limit = self.ctx.max_num_splits
        if done.num_splits is None or done.num_splits <= limit:
            return None
        message = (
            "Foreach in step %s yielded %d child steps, more than the maximum of %d (--max-num-splits). "
            "Raise it with --max-num-splits %d." % (done.step, done.num_splits, limit, done.num_splits)
        )
        return Failure(pathspec, TaskState.FAILED, message)

    def _finish_gang(
        self, settled: Settled, shown: TaskResult, retries_left: bool
    ) -> Tuple[List[PlannedTask], Optional[Failure]]:
        """A @parallel member: the gang retries, falls back or fails as one (see ``gangs``)."""
        spec = settled.spec
        can_catch = spec.catch_var is not None and not self.stop_requested
        if settled.succeeded:
            then = ""
        else:
            then = "its gang retries" if retries_left else "@catch records it" if can_catch else ""
        self.reporter.task_finished(spec, shown, then)
        decision = self._gangs.settle(settled, retries_left, can_catch)
        if decision is None:
            return [], None
        for member in decision.retry:
            self._again(member.planned, member.spec)
        if decision.fallback is not None:
            self._again(decision.fallback.planned, decision.fallback.spec, decision.fallback_reason)
        if decision.failed is not None:
            failed = decision.failed
            return [], Failure(failed.spec.pathspec, failed.state, failed.message, failed.exception)
        planned = []
        for done in decision.proceed:
            planned.extend(self.planner.on_success(done))
        return planned, None

    def _again(self, planned: PlannedTask, spec: TaskSpec, fallback_reason: Optional[str] = None) -> None:
        """Queue the task's next attempt: a retry after its delay, or at once the @catch fallback."""
        attempt = spec.attempt + 1
        next_spec = spec.with_attempt(attempt, attempt >= self._max_retries(spec.step))
        delay = 0.0
        if fallback_reason is not None:
            next_spec = replace(next_spec, fallback_reason=fallback_reason)
        else:
            delay = self._retry_delay(spec.step)
        heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), planned, next_spec))
