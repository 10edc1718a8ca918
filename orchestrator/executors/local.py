"""The local executor: every task a fresh OS process, forked from a server that pre-imported the flow.

A reader thread turns the fork server's events into ``TaskResult``s on a
queue, so ``poll`` blocks on the queue instead of spinning. Cancelling kills
the task's whole process group.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from typing import Dict, List, Optional, Tuple

from ..errors import OrchError
from ..task.spec import TaskSpec
from .base import Executor, TaskResult, TaskState


class ExecutorStartError(OrchError):
    """The executor could not start (the fork server failed to import the flow)."""


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, code_dir: str, flow_file: str, flow_name: str, python: str = sys.executable) -> None:
        self._argv = [python, "-m", "orchestrator.executors.forkserver", code_dir, flow_file, flow_name]
        self._server: Optional[subprocess.Popen] = None
        self._results: queue.Queue[TaskResult] = queue.Queue()
        self._lock = threading.Lock()
        self._pids: Dict[str, int] = {}
        self._cancelled: Dict[str, Tuple[TaskState, str]] = {}
        self._live: set = set()
        self._counter = 0
        self._ready = threading.Event()
        self._error = ""

    def _start(self) -> subprocess.Popen:
        if self._server is not None:
            return self._server
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else root
        self._server = subprocess.Popen(
            self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True
        )
        threading.Thread(target=self._read_events, name="orch-forkserver-events", daemon=True).start()
        self._ready.wait()
        if self._error:
            raise ExecutorStartError(
                "The local executor could not import the flow: %s" % self._error,
                "Run 'orch check' on the flow to see the problem.",
            )
        return self._server

    def _read_events(self) -> None:
        assert self._server is not None and self._server.stdout is not None
        for line in self._server.stdout:
            event = json.loads(line)
            kind = event["event"]
            if kind == "ready":
                self._ready.set()
            elif kind == "error":
                self._error = event["message"]
                self._ready.set()
            elif kind == "started":
                with self._lock:
                    self._pids[event["id"]] = event["pid"]
                    pending = self._cancelled.get(event["id"])
                if pending is not None:
                    self._kill(event["id"])
            elif kind == "exited":
                self._results.put(self._result(event["id"], event["status"]))
        # The server is gone: whatever was still running is lost.
        self._ready.set()
        with self._lock:
            lost = list(self._live)
            self._live.clear()
        for handle in lost:
            self._results.put(TaskResult(handle, TaskState.LOST, None, "the local fork server exited"))

    def _result(self, handle: str, status: int) -> TaskResult:
        with self._lock:
            self._live.discard(handle)
            self._pids.pop(handle, None)
            cancelled = self._cancelled.pop(handle, None)
        if cancelled is not None:
            return TaskResult(handle, cancelled[0], status, cancelled[1])
        if status == 0:
            return TaskResult(handle, TaskState.SUCCEEDED, 0)
        if status < 0:
            name = signal.Signals(-status).name if -status in signal.Signals._value2member_map_ else str(-status)
            return TaskResult(handle, TaskState.KILLED, status, "killed by signal %s" % name)
        return TaskResult(handle, TaskState.FAILED, status, "exited with code %d" % status)

    def submit(self, spec: TaskSpec) -> str:
        server = self._start()
        with self._lock:
            self._counter += 1
            handle = "%s-%d" % (spec.task_id, self._counter)
            self._live.add(handle)
        line = json.dumps({"op": "run", "id": handle, "spec": spec.to_json()}) + "\n"
        try:
            assert server.stdin is not None
            server.stdin.write(line.encode())
            server.stdin.flush()
        except (BrokenPipeError, OSError):
            with self._lock:
                self._live.discard(handle)
            self._results.put(TaskResult(handle, TaskState.LOST, None, "the local fork server is not running"))
        return handle

    def poll(self, timeout: float) -> List[TaskResult]:
        results = []
        try:
            results.append(self._results.get(timeout=max(0.0, timeout)))
        except queue.Empty:
            return results
        while True:
            try:
                results.append(self._results.get_nowait())
            except queue.Empty:
                return results

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        with self._lock:
            if handle not in self._live:
                return
            self._cancelled[handle] = (state, message or state.value)
            started = handle in self._pids
        if started:
            self._kill(handle)

    def _kill(self, handle: str) -> None:
        with self._lock:
            pid = self._pids.get(handle)
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            if server.stdin:
                server.stdin.close()  # the server kills its tasks and exits
        except OSError:
            pass
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
