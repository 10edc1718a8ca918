"""The local executor: every task a fresh OS process, forked from a server that pre-imported the flow.

There is one fork server per Python environment: the host's, or the cached
venv / conda prefix of a step's pinned environment, so each step runs with
its own packages. A reader thread per server turns its events into
``TaskResult``s on one queue, so ``poll`` blocks on the queue instead of
spinning. Cancelling kills the task's whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import OrchError
from ..task.spec import TaskSpec
from .base import Attempts, Executor, ExecutorSetup, RunPlace, SetupRequest, TaskResult, TaskState

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ExecutorStartError(OrchError):
    """The executor could not start (the fork server failed to import the flow)."""


class _ForkServer:
    """One ``orchestrator.executors.forkserver`` process and the tasks it forked."""

    def __init__(self, python: str, argv_tail: List[str], attempts: Attempts, host: bool) -> None:
        env = dict(os.environ)
        if host:  # the host env finds orch on PYTHONPATH; a step env has it through its .pth file
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        else:
            env.pop("PYTHONPATH", None)
        self.python = python
        self.attempts = attempts  # the executor's: handle → the server running it
        self.lock = threading.Lock()  # a start and a cancel of one task see each other
        self.pids: Dict[str, int] = {}
        self.ready = threading.Event()
        self.error = ""
        self.process = subprocess.Popen(
            [python, "-m", "orchestrator.executors.forkserver", *argv_tail],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        threading.Thread(target=self._read_events, name="orch-forkserver", daemon=True).start()

    def wait_ready(self) -> None:
        """Block until the server imported the flow; it boots in the background from ``__init__`` on."""
        self.ready.wait()
        if self.error:
            raise ExecutorStartError(
                "The local executor could not import the flow with %s: %s" % (self.python, self.error),
                "Run 'orch check' on the flow to see the problem.",
            )

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            kind = event["event"]
            if kind == "ready":
                self.ready.set()
            elif kind == "error":
                self.error = event["message"]
                self.ready.set()
            elif kind == "started":
                with self.lock:
                    self.pids[event["id"]] = event["pid"]
                    pending = self.attempts.cancelled(event["id"]) is not None
                if pending:
                    self.kill(event["id"])
            elif kind == "exited":
                self.attempts.finish(self._result(event["id"], event["status"]))
        self.ready.set()  # the server is gone: whatever was still running is lost
        if not self.error and self.process.poll() not in (None, 0):
            self.error = "the fork server exited with %s" % self.process.returncode
        for handle, server in self.attempts.live().items():
            if server is self:
                self.attempts.finish(TaskResult(handle, TaskState.LOST, None, "the local fork server exited"))

    def _result(self, handle: str, status: int) -> TaskResult:
        with self.lock:
            self.pids.pop(handle, None)
        if status == 0:
            return TaskResult(handle, TaskState.SUCCEEDED, 0)
        if status < 0:
            name = signal.Signals(-status).name if -status in signal.Signals._value2member_map_ else str(-status)
            return TaskResult(handle, TaskState.KILLED, status, "killed by signal %s" % name)
        return TaskResult(handle, TaskState.FAILED, status, "exited with code %d" % status)

    def submit(self, handle: str, spec: TaskSpec) -> None:
        line = json.dumps({"op": "run", "id": handle, "spec": spec.to_json()}) + "\n"
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.attempts.finish(TaskResult(handle, TaskState.LOST, None, "the local fork server is not running"))

    def cancel(self, handle: str, state: TaskState, message: str) -> None:
        with self.lock:
            if not self.attempts.cancel(handle, state, message):
                return
            started = handle in self.pids
        if started:
            self.kill(handle)

    def kill(self, handle: str) -> None:
        with self.lock:
            pid = self.pids.get(handle)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    def close(self) -> None:
        try:
            if self.process.stdin:
                self.process.stdin.close()  # the server kills its tasks and exits
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LocalExecutor(Executor):
    name = "local"

    def __init__(
        self,
        code_dir: str,
        flow_file: str,
        flow_name: str,
        step_pythons: Optional[Mapping[str, str]] = None,
        cards: bool = False,
    ) -> None:
        """``step_pythons``: step → python of its pinned env; other steps use this interpreter.
        ``cards``: some step has @card, so the servers load the card code before forking any task."""
        self._argv_tail = [code_dir, flow_file, flow_name] + (["--cards"] if cards else [])
        self._step_pythons = dict(step_pythons or {})
        self._servers: Dict[str, _ForkServer] = {}
        self.attempts = Attempts()  # handle → the fork server running it

    def _server(self, step: str) -> _ForkServer:
        python = self._step_pythons.get(step) or sys.executable
        if python not in self._servers:
            self._servers[python] = _ForkServer(
                python, self._argv_tail, self.attempts, host=step not in self._step_pythons
            )
        return self._servers[python]

    def prepare(self, steps: List[str], flow: str) -> None:
        """Start the first steps' fork servers now: they import the flow while the run is set up."""
        for step in steps:
            self._server(step)

    def submit(self, spec: TaskSpec) -> str:
        server = self._server(spec.step)
        server.wait_ready()
        handle = self.attempts.open(spec, server)
        server.submit(handle, spec)
        return handle

    def poll(self, timeout: float) -> List[TaskResult]:
        return self.attempts.poll(timeout)

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        server = self.attempts.get(handle)
        if server is not None:
            server.cancel(handle, state, message)

    def close(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()


@dataclass(frozen=True)
class LocalSetup(ExecutorSetup):
    """The local executor, prepared: the Python of each step with a pinned env (a cached host env)."""

    steps: Tuple[str, ...]
    step_pythons: Mapping[str, str] = field(default_factory=dict)

    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        return {}

    def create(self, place: RunPlace) -> LocalExecutor:
        cards = any(node.decorator("card") is not None for node in place.graph if node.name in self.steps)
        return LocalExecutor(place.code_dir, place.flow_file, place.flow, self.step_pythons, cards)


def prepare(request: SetupRequest) -> LocalSetup:
    """Build (or reuse) a host venv or conda prefix for each distinct locked env of the steps."""
    from ..envs.local import ensure_env

    built: Dict[str, str] = {}
    pythons: Dict[str, str] = {}
    for step, lock in request.locks_of_steps().items():
        if lock is None:
            continue
        if lock.digest not in built:
            request.notice("Preparing the %s environment %s for step %s" % (lock.spec.kind, lock.short, step))
            built[lock.digest] = ensure_env(lock, request.config.sources)
        pythons[step] = built[lock.digest]
    return LocalSetup(request.steps, pythons)
