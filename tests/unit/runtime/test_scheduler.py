"""The scheduler's fault handling against a fake executor: retry, @catch, @timeout and stop.

The fake runs no code. Each attempt follows a script per step: commit a
success or a raised exception (as the task runtime would, into the store),
die without committing (an exit code, an OOM kill), or hang until cancelled.
So these tests pin down what the scheduler decides, and nothing else.
"""

from __future__ import annotations

import os
import queue
import textwrap
import time
from dataclasses import replace
from typing import Dict, List

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.executors.base import Executor, TaskResult, TaskState
from orchestrator.runtime.scheduler import RunContext, Scheduler
from orchestrator.states import Status
from orchestrator.store.local import LocalBackend
from orchestrator.store.metadata import MetadataStore
from orchestrator.store.records import AttemptEnd, ExceptionInfo
from orchestrator.task.spec import TaskSpec

FLOW = """
from orchestrator import FlowSpec, catch, retry, step, timeout


class FakeRunFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=3)
    @step
    def flaky(self):
        self.next(self.guarded)

    @catch(var="failure")
    @timeout(seconds=1)
    @step
    def guarded(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


class FakeExecutor(Executor):
    """Follows ``script[step][attempt]``: 'ok', 'raise', 'exit', 'oom' or 'hang' (default 'ok')."""

    name = "fake"

    def __init__(self, meta: MetadataStore, script: Dict[str, List[str]]) -> None:
        self.meta, self.script = meta, script
        self.submitted: List[TaskSpec] = []
        self.cancelled: List[TaskState] = []
        self.closed = False
        self._results: queue.Queue[TaskResult] = queue.Queue()
        self._hanging: Dict[str, float] = {}  # handle → when it gives up by itself, so a broken test fails
        self.on_hang = lambda spec: None

    def submit(self, spec: TaskSpec) -> str:
        self.submitted.append(spec)
        os.makedirs(os.path.dirname(spec.log_files(self.meta.backend)[1]), exist_ok=True)  # as a task would
        handle = "h%d" % len(self.submitted)
        plan = self.script.get(spec.step, [])
        if spec.parallel_control is not None:  # a @parallel member: "step#node" scripts one node
            plan = self.script.get("%s#%d" % (spec.step, spec.foreach_stack[-1].index), plan)
        what = "ok" if spec.fallback_reason is not None else (plan[spec.attempt] if spec.attempt < len(plan) else "ok")
        if what == "hang":
            self._hanging[handle] = time.monotonic() + 10
            self.on_hang(spec)
            return handle
        if what in ("ok", "raise"):
            failed = what == "raise"
            end = AttemptEnd(
                attempt=spec.attempt,
                status=Status.FAILED if failed else Status.SUCCEEDED,
                finished_at=time.time(),
                next=() if failed else spec.next_steps,
                exception=ExceptionInfo("ValueError", "boom in %s" % spec.step) if failed else None,
            )
            if spec.parallel_split and not failed:
                end = replace(end, num_splits=3)
            self.meta.finish_attempt(spec.flow, spec.run_id, spec.step, spec.task_id, end)
            state, code = (TaskState.FAILED, 1) if failed else (TaskState.SUCCEEDED, 0)
            self._results.put(TaskResult(handle, state, code))
        elif what == "exit":
            self._results.put(TaskResult(handle, TaskState.FAILED, 3, "exited with code 3"))
        elif what == "segv":
            self._results.put(TaskResult(handle, TaskState.KILLED, -11, "killed by signal SIGSEGV"))
        elif what == "oom":
            self._results.put(TaskResult(handle, TaskState.OOM, 137, "killed: out of memory (limit 64 MiB)"))
        return handle

    def poll(self, timeout: float) -> List[TaskResult]:
        for handle, due in list(self._hanging.items()):
            if time.monotonic() > due:
                del self._hanging[handle]
                self._results.put(TaskResult(handle, TaskState.FAILED, 1, "hung until the fake gave up"))
        try:
            return [self._results.get(timeout=timeout)]
        except queue.Empty:
            return []

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        if self._hanging.pop(handle, None) is not None:
            self.cancelled.append(state)
            self._results.put(TaskResult(handle, state, -9, message))

    def close(self) -> None:
        self.closed = True


class _Quiet:
    def task_started(self, spec):
        pass

    def task_finished(self, spec, result, then):
        pass

    def task_cloned(self, step, origin):
        pass


GANG_FLOW = """
from orchestrator import FlowSpec, catch, parallel, retry, step


class FakeRunFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @catch(var="failure")
    @retry(times=2)
    @parallel
    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _world(tmp_path, source: str):
    (tmp_path / "fake_run_flow.py").write_text(textwrap.dedent(source))
    graph = load_flow(str(tmp_path / "fake_run_flow.py")).graph
    meta = MetadataStore(LocalBackend(str(tmp_path / "store")))
    ctx = RunContext("FakeRunFlow", "1", str(tmp_path / "store"), str(tmp_path), "fake_run_flow.py", "me")

    def run(script: Dict[str, List[str]], on_hang=None):
        executor = FakeExecutor(meta, script)
        scheduler = Scheduler(graph, ctx, executor, meta, _Quiet(), max_workers=4)
        if on_hang is not None:
            executor.on_hang = lambda spec: on_hang(scheduler, spec)
        outcome = scheduler.run()
        return outcome, executor, meta

    run.scheduler = lambda executor: Scheduler(graph, ctx, executor, meta, _Quiet())
    return run


@pytest.fixture
def world(tmp_path):
    return _world(tmp_path, FLOW)


@pytest.fixture
def gang_world(tmp_path):
    """A flow with a @parallel gang of 3 under @retry(times=2) and @catch."""
    return _world(tmp_path, GANG_FLOW)


def _attempts(executor: FakeExecutor, step: str) -> List[TaskSpec]:
    return [s for s in executor.submitted if s.step == step]


def test_a_clean_run_submits_each_step_once(world):
    outcome, executor, _ = world({})
    assert outcome.succeeded and outcome.tasks_run == 4
    assert [s.step for s in executor.submitted] == ["start", "flaky", "guarded", "end"]


def test_retry_runs_again_until_it_succeeds_and_marks_the_last_attempt(world):
    """Locally the retries come at once, as in Metaflow's local runtime: minutes_between_retries=3
    does not make this test wait six minutes."""
    began = time.monotonic()
    outcome, executor, meta = world({"flaky": ["raise", "exit"]})
    assert outcome.succeeded and time.monotonic() - began < 30
    tries = _attempts(executor, "flaky")
    assert [(s.attempt, s.last_attempt) for s in tries] == [(0, False), (1, False), (2, True)]
    died = meta.attempt_end("FakeRunFlow", "1", "flaky", tries[1].task_id, 1)
    assert died.died is not None and died.died.state is TaskState.FAILED and died.exception is None
    raised = meta.attempt_end("FakeRunFlow", "1", "flaky", tries[0].task_id, 0)
    assert raised.exception.message == "boom in flaky" and raised.died is None


def test_retries_used_up_fail_the_run_and_nothing_downstream_runs(world):
    outcome, executor, _ = world({"flaky": ["raise", "raise", "raise"]})
    assert not outcome.succeeded and len(_attempts(executor, "flaky")) == 3
    assert [f.pathspec.split("/")[2] for f in outcome.failures] == ["flaky"]
    assert outcome.failures[0].exception.type == "ValueError"
    assert _attempts(executor, "guarded") == []


def test_a_death_under_catch_gets_a_fallback_attempt_that_records_it(world):
    outcome, executor, _ = world({"guarded": ["oom"]})
    assert outcome.succeeded
    fallback = _attempts(executor, "guarded")[-1]
    assert fallback.attempt == 1 and fallback.fallback_reason == "oom: killed: out of memory (limit 64 MiB)"
    assert _attempts(executor, "end")


def test_timeout_cancels_the_attempt_as_timed_out_and_catch_records_it(world):
    began = time.monotonic()
    outcome, executor, meta = world({"guarded": ["hang"]})
    assert outcome.succeeded and 0.9 <= time.monotonic() - began < 10
    assert executor.cancelled == [TaskState.TIMED_OUT]
    first = _attempts(executor, "guarded")[0]
    end = meta.attempt_end("FakeRunFlow", "1", "guarded", first.task_id, 0)
    assert end.died.state is TaskState.TIMED_OUT and "timed out after 1 seconds" in end.died.message
    assert _attempts(executor, "guarded")[-1].fallback_reason.startswith("timed_out: ")


def test_a_stop_cancels_what_runs_and_starts_nothing_more(world):
    def stop(scheduler, spec):
        scheduler.stop_requested = "SIGINT"

    outcome, executor, _ = world({"flaky": ["hang"]}, on_hang=stop)
    assert outcome.interrupted == "SIGINT" and not outcome.succeeded
    assert executor.cancelled == [TaskState.KILLED]
    assert [s.step for s in executor.submitted] == ["start", "flaky"]  # no retry after a stop


def test_only_steps_run_elsewhere_wait_between_retries(world, tmp_path):
    """A Batch step (not bounded by this machine) waits out minutes_between_retries, as Metaflow's @batch."""
    executor = FakeExecutor(MetadataStore(LocalBackend(str(tmp_path / "other"))), {})
    scheduler = world.scheduler(executor)
    assert scheduler._retry_delay("flaky") == 0.0 and scheduler._retry_delay("start") == 0.0
    scheduler.ctx = replace(scheduler.ctx, elsewhere=frozenset({"flaky"}))
    assert scheduler._retry_delay("flaky") == 180.0 and scheduler._retry_delay("start") == 0.0


def test_a_death_is_noted_in_the_tasks_own_stderr_log(world):
    """As Metaflow: a task log that just stops says why, and a segfault is named."""
    outcome, executor, meta = world({"start": ["segv"]})
    assert not outcome.succeeded
    start = _attempts(executor, "start")[0]
    path = start.log_files(meta.backend)[1]
    with open(path) as handle:
        assert "orch: Task failed with a segmentation fault." in handle.read()


def _nodes(executor: FakeExecutor, step: str) -> Dict[int, List[TaskSpec]]:
    found: Dict[int, List[TaskSpec]] = {}
    for spec in _attempts(executor, step):
        found.setdefault(spec.foreach_stack[-1].index, []).append(spec)
    return found


def test_a_gang_member_that_fails_retries_the_whole_gang(gang_world):
    """As Metaflow's control task relaunching its workers: one member's failure reruns every member."""
    outcome, executor, _ = gang_world({"train#2": ["exit"]})
    assert outcome.succeeded
    nodes = _nodes(executor, "train")
    assert {node: [s.attempt for s in specs] for node, specs in nodes.items()} == {0: [0, 1], 1: [0, 1], 2: [0, 1]}
    join = _attempts(executor, "join")
    assert len(join) == 1 and sorted(ref.attempt for ref in join[0].inputs) == [1, 1, 1]


def test_a_dead_gang_falls_back_through_its_control_task_alone(gang_world):
    """Metaflow's TagCatchTest on a parallel graph: workers show attempts 0-2, the control 0-3 (its
    @catch fallback), and the join receives the control task only."""
    outcome, executor, meta = gang_world({"train": ["exit", "exit", "exit"]})
    assert outcome.succeeded, outcome.failures
    nodes = _nodes(executor, "train")
    assert [s.attempt for s in nodes[0]] == [0, 1, 2, 3]
    assert [s.attempt for s in nodes[1]] == [0, 1, 2] and [s.attempt for s in nodes[2]] == [0, 1, 2]
    assert nodes[0][-1].fallback_reason.startswith("failed: exited with code 3")
    join = _attempts(executor, "join")
    assert len(join) == 1 and [str(ref) for ref in join[0].inputs] == ["train/%s/3" % nodes[0][0].task_id]
    assert _attempts(executor, "end")


def test_a_dead_worker_on_the_last_attempt_falls_back_through_the_control(gang_world):
    outcome, executor, _ = gang_world({"train#1": ["exit", "exit", "oom"]})
    assert outcome.succeeded
    control = _nodes(executor, "train")[0]
    assert [s.attempt for s in control] == [0, 1, 2, 3]
    assert control[-1].fallback_reason.startswith("gang member 1 (task ")
    assert "out of memory" in control[-1].fallback_reason


def test_a_gang_with_retries_used_up_and_no_catch_fails_the_run(tmp_path):
    run = _world(tmp_path, GANG_FLOW.replace('@catch(var="failure")', ""))
    outcome, executor, _ = run({"train#1": ["exit", "raise", "exit"]})
    assert not outcome.succeeded and _attempts(executor, "join") == []
    assert [f.pathspec.split("/")[2:] for f in outcome.failures] == [["train", _nodes(executor, "train")[1][0].task_id]]
    assert all(len(specs) == 3 for specs in _nodes(executor, "train").values())  # no fallback without @catch
