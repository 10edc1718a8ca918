"""The procq executor: ``python -m orchestrator.task -`` per attempt, its TaskSpec on stdin.

It keeps its attempts with orch's shared ``Attempts`` helper, so cancelling (``@timeout``, Ctrl-C)
and reporting behave as orch's own executors do.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Tuple

from orchestrator.config import backend_settings
from orchestrator.executors.base import (
    Attempts,
    Executor,
    ExecutorSetup,
    RunPlace,
    SetupRequest,
    TaskResult,
    TaskState,
)
from orchestrator.task.spec import TaskSpec

from . import SECTION


class ProcqExecutor(Executor):
    name = "procq"

    def __init__(self, queues: Mapping[str, str], slots: int) -> None:
        self.queues = dict(queues)
        self.attempts = Attempts("procq-")  # handle → its process (None until it started)
        self._slots = itertools.cycle(range(slots))

    def submit(self, spec: TaskSpec) -> str:
        handle = self.attempts.open(spec)
        env = dict(os.environ, PROCQ_SLOT=str(next(self._slots)), PROCQ_QUEUE=self.queues[spec.step])
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.task", "-"], stdin=subprocess.PIPE, env=env, start_new_session=True
        )
        self.attempts.set(handle, process)
        threading.Thread(target=self._wait, args=(handle, process, spec.to_json()), daemon=True).start()
        return handle

    def _wait(self, handle: str, process: Any, spec: str) -> None:
        try:
            process.communicate(spec.encode())
        except OSError:
            pass
        code = process.wait()
        state = TaskState.SUCCEEDED if code == 0 else TaskState.FAILED
        self.attempts.finish(TaskResult(handle, state, code, "" if code == 0 else "exited with code %d" % code))

    def poll(self, timeout: float) -> List[TaskResult]:
        return self.attempts.poll(timeout)

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        if self.attempts.cancel(handle, state, message):
            self._kill(self.attempts.get(handle))

    @staticmethod
    def _kill(process: Any) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass

    def close(self) -> None:
        for handle, process in self.attempts.live().items():
            self.attempts.cancel(handle, TaskState.KILLED, "stopped by orch")
            self._kill(process)


@dataclass(frozen=True)
class ProcqSetup(ExecutorSetup):
    steps: Tuple[str, ...]
    queues: Mapping[str, str] = field(default_factory=dict)
    slots: int = 2

    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        return {step: {"procq_queue": queue} for step, queue in self.queues.items()}

    def create(self, place: RunPlace) -> ProcqExecutor:
        return ProcqExecutor(self.queues, self.slots)


def prepare(request: SetupRequest) -> ProcqSetup:
    settings = backend_settings(SECTION)
    default = settings.get("queue") or "default"
    queues = {}
    for step in request.steps:
        spec = request.graph[step].decorator("procq")
        queues[step] = (spec.queue if spec is not None else None) or default
    return ProcqSetup(request.steps, queues, int(settings.get("slots") or 2))
