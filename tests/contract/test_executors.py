"""The executor contract: the same cases over the local, Docker, AWS Batch (moto) and Slurm executors.

Each executor is prepared and created exactly as a run does it (its module's
``prepare``, then ``create``), and driven through the interface only:
``submit``, ``poll``, ``cancel``, ``close``. The tasks are the steps of
``contract_flow.py``, each submitted on its own. What every executor must do:

- a step that succeeds ends SUCCEEDED, with its artifacts committed;
- a step that raises ends FAILED, its exception recorded by the task;
- a process that exits non-zero ends FAILED with that exit code, and no record;
- ``cancel`` with TIMED_OUT (what ``@timeout`` does) or KILLED (Ctrl-C) stops it and says so;
- its stdout and stderr are captured into the store;
- where the executor can impose a memory limit (Docker), an OOM kill is reported as OOM.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.backends.registry import get as backend_named
from orchestrator.config import Config
from orchestrator.envs.resolve import ensure_locks
from orchestrator.executors.base import Executor, RunPlace, SetupRequest, TaskResult, TaskState
from orchestrator.executors.factory import create_executor, prepare_setups
from orchestrator.store.artifacts import load_artifact
from orchestrator.store.backend import MissingKey
from orchestrator.store.cas import ContentAddressedStore
from orchestrator.store.factory import open_backend
from orchestrator.store.metadata import MetadataStore, log_key
from orchestrator.task.codepkg import DEFAULT_SUFFIXES, build_package, extract_package
from orchestrator.task.spec import TaskSpec
from tests.conftest import FLOWS

FLOW_FILE = FLOWS / "contract" / "contract_flow.py"
NEXT = {"start": "fails", "fails": "exits", "exits": "sleeps", "sleeps": "hog", "hog": "end"}
KINDS = ["local", "docker", "batch", "slurm-docker", "slurm-charliecloud"]


class Kit:
    """One executor under test, with the store its tasks write to."""

    def __init__(self, executor: Executor, backend: Any, store_url: str, code_dir: str, code_key: str) -> None:
        self.executor, self.backend, self.store_url = executor, backend, store_url
        self.code_dir, self.code_key = code_dir, code_key
        self.meta = MetadataStore(backend)
        self.run_id = str(int(time.time() * 1e6))
        self._ids = 0

    def spec(self, step: str) -> TaskSpec:
        self._ids += 1
        return TaskSpec(
            flow="ContractFlow",
            run_id=self.run_id,
            step=step,
            task_id=str(self._ids),
            attempt=0,
            store_url=self.store_url,
            code_dir=self.code_dir,
            flow_file=FLOW_FILE.name,
            next_steps=(NEXT[step],),
            log_dir=self.code_dir + ".logs",
            code_key=self.code_key,
        )

    def run(self, spec: TaskSpec, seconds: float = 240) -> TaskResult:
        handle = self.executor.submit(spec)
        self.executor.flush()
        return self.wait(handle, seconds)

    def wait(self, handle: str, seconds: float = 240) -> TaskResult:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for result in self.executor.poll(1.0):
                if result.handle == handle:
                    return result
        raise AssertionError("no result for %s within %ds" % (handle, seconds))

    def started(self, spec: TaskSpec, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while self.meta.attempt_start(spec.flow, spec.run_id, spec.step, spec.task_id, 0) is None:
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.2)

    def log(self, spec: TaskSpec, stream: str) -> str:
        try:
            data = self.backend.get(log_key(spec.flow, spec.run_id, spec.step, spec.task_id, 0, stream))
        except MissingKey:
            return ""
        return bytes(data).decode("utf-8", "replace")


def _config(kind: str, store: str, environ: Dict[str, str]) -> Config:
    return Config.from_env(dict(os.environ, **environ), store=store)


@pytest.fixture(params=KINDS)
def kit(request, tmp_path, monkeypatch):
    kind = request.param
    environ: Dict[str, str] = {}
    if kind == "batch":
        infra, registry = request.getfixturevalue("batch_world")
        environ = {
            "ORCH_CONFIG": str(tmp_path / "no-config.json"),
            "ORCH_BATCH_QUEUE": infra.queue,
            "ORCH_REGISTRY": registry.host,
            "ORCH_BATCH_FORWARD_CREDENTIALS": "1",  # moto's jobs have no role to get keys from
        }
        store = "s3://orch-batch/contract-%s" % tmp_path.name
    elif kind.startswith("slurm-"):
        request.getfixturevalue("slurm_cluster")
        request.getfixturevalue("engine")
        tmp_path = request.getfixturevalue("shared_dir")  # the jobs' user reaches it, as on a cluster
        environ = {
            "ORCH_CONFIG": str(tmp_path / "no-config.json"),
            "ORCH_SLURM_RUNTIME": kind.split("-", 1)[1],
            "ORCH_SLURM_SCRATCH": str(tmp_path / "scratch"),
        }
        store = str(tmp_path / "store")
    else:
        if kind == "docker":
            request.getfixturevalue("engine")
        store = str(tmp_path / "store")
    config = _config(kind, store, environ)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    loaded = load_flow(str(FLOW_FILE))
    flow_dir = str(FLOW_FILE.parent)
    backend = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
    package = build_package(flow_dir, str(FLOW_FILE), DEFAULT_SUFFIXES)
    code_key = ContentAddressedStore(backend).save_blob([package]).key
    code_dir = str(tmp_path / "code")
    extract_package(package, code_dir)
    locks = ensure_locks(loaded.graph, flow_dir, sources=config.sources)
    request_ = SetupRequest(loaded.graph, loaded.name, flow_dir, (), locks, config, lambda message: None)
    targets = {node.name: backend_named(kind.split("-")[0]) for node in loaded.graph}
    setups = prepare_setups(request_, targets)
    executor = create_executor(setups, RunPlace(loaded.name, code_dir, FLOW_FILE.name, backend, config, loaded.graph))
    kit = Kit(executor, backend, config.store.url, code_dir, code_key)
    kit.kind = kind
    yield kit
    executor.close()


def test_success_commits_the_artifacts(kit):
    spec = kit.spec("start")
    result = kit.run(spec)
    assert result.state is TaskState.SUCCEEDED, result
    end = kit.meta.attempt_end(spec.flow, spec.run_id, "start", spec.task_id, 0)
    assert end is not None and end.succeeded and end.next == ("fails",)
    assert load_artifact(ContentAddressedStore(kit.backend), end.artifacts["answer"]) == 42


def test_stdout_and_stderr_are_captured_into_the_store(kit):
    spec = kit.spec("start")
    assert kit.run(spec).state is TaskState.SUCCEEDED
    assert "to stdout from ContractFlow" in kit.log(spec, "stdout")
    assert "to stderr from ContractFlow" in kit.log(spec, "stderr")
    assert "to stderr" not in kit.log(spec, "stdout")


def test_a_step_that_raises_fails_with_its_message(kit):
    spec = kit.spec("fails")
    result = kit.run(spec)
    assert result.state is TaskState.FAILED, result
    end = kit.meta.attempt_end(spec.flow, spec.run_id, "fails", spec.task_id, 0)
    assert end is not None and not end.succeeded and end.died is None
    assert (end.exception.type, end.exception.message) == ("ValueError", "contract failure")
    assert "ValueError: contract failure" in kit.log(spec, "stderr")


def test_a_non_zero_exit_fails_with_its_code_and_leaves_no_record(kit):
    spec = kit.spec("exits")
    result = kit.run(spec)
    assert result.state is TaskState.FAILED and result.exit_code == 3, result
    assert kit.meta.attempt_end(spec.flow, spec.run_id, "exits", spec.task_id, 0) is None


@pytest.mark.parametrize(
    "state, message", [(TaskState.TIMED_OUT, "timed out after 1 seconds (@timeout)"), (TaskState.KILLED, "stopped")]
)
def test_cancel_stops_a_running_task_and_reports_why(kit, state, message):
    spec = kit.spec("sleeps")
    handle = kit.executor.submit(spec)
    kit.executor.flush()
    kit.started(spec)
    began = time.monotonic()
    kit.executor.cancel(handle, state, message)
    result = kit.wait(handle, 120)
    assert (result.state, result.message) == (state, message), result
    assert time.monotonic() - began < 60  # stopped, not waited out (the step sleeps for 600 s)
    assert kit.meta.attempt_end(spec.flow, spec.run_id, "sleeps", spec.task_id, 0) is None


def test_results_are_told_apart_when_tasks_run_together(kit):
    specs: List[TaskSpec] = [kit.spec(step) for step in ("start", "fails", "exits")]
    handles = {kit.executor.submit(spec): spec.step for spec in specs}
    kit.executor.flush()
    states: Dict[str, Optional[TaskState]] = {}
    deadline = time.monotonic() + 240
    while len(states) < 3 and time.monotonic() < deadline:
        for result in kit.executor.poll(1.0):
            states[handles[result.handle]] = result.state
    assert states == {"start": TaskState.SUCCEEDED, "fails": TaskState.FAILED, "exits": TaskState.FAILED}


@pytest.mark.parametrize("kit", ["docker", "slurm-docker", "slurm-charliecloud"], indirect=True)
def test_an_oom_kill_is_reported_as_such(kit):
    """The executors that impose @resources(memory=) on this machine are held to this case: Docker, and
    Slurm (its container's limit, or the job's cgroup). Local processes have no limit; moto's Batch
    does not enforce one."""
    spec = kit.spec("hog")
    result = kit.run(spec)
    assert result.state is TaskState.OOM, result
    assert result.message == "killed: out of memory (limit 64 MiB)"
