"""The local executor's fork server: imports the flow once, then forks a fresh process per task.

Each task gets its own process (its own memory, its own crash), but skips
interpreter start-up and imports, which is where Metaflow spends most of a
trivial task's time. The server keeps one process forked ahead of the next
task, waiting on a pipe for its spec, so a task starts without a fork in
between; it forks the next spare while that task runs. Runs as ``python -m orchestrator.executors.forkserver
CODE_DIR FLOW_FILE FLOW_NAME [--cards]``, single-threaded, so forking is safe;
``--cards`` (a step has @card) loads the card code before it says it is ready.

Protocol, one JSON object per line. In: ``{"op": "run", "id": ..., "spec":
...}``, ``{"op": "kill", "id": ..., "signal": 9}``. Out: ``{"event":
"ready"}``, ``{"event": "started", "id", "pid"}``, ``{"event": "exited",
"id", "status"}`` (status: exit code, or minus the signal number), and
``{"event": "error", "message"}``. When its input closes (the orchestrator
exited or was killed), it kills every task and exits.
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import sys
import traceback
from typing import Dict, Optional, Tuple


def _emit(event: dict) -> None:
    data = (json.dumps(event) + "\n").encode()
    while data:
        written = os.write(1, data)
        data = data[written:]


def _status(raw: int) -> int:
    if os.WIFSIGNALED(raw):
        return -os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _spare(spec_pipe: int, flow_class: type, close: Tuple[int, ...]) -> None:
    """In a child forked ahead of its task: a session of its own and default signals, then the task's
    spec, read from ``spec_pipe`` to its end, and the task. A pipe closed with no spec means the
    server no longer needs this process."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        for fd in close:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        from ..task.runner import run_task
        from ..task.spec import TaskSpec

        spec_json = _read_all(spec_pipe)
        if not spec_json:
            code = 0
            return
        os.close(spec_pipe)
        code = run_task(TaskSpec.from_json(spec_json.decode()), flow_class)
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            code = 1
    finally:
        os._exit(code)


def _preload_cards() -> None:
    """Import the card code and run it once in the server, before forking: every task forked from
    here finds it imported and its caches (the time zone a card's timestamp reads) filled."""
    try:
        from ..cards.session import warm_up

        warm_up()
    except Exception:  # the task imports them itself, and reports what fails
        pass


class _Server:
    """The tasks forked so far, and one spare process forked ahead of the next task."""

    def __init__(self, flow_class: type, cards: bool) -> None:
        self.flow_class = flow_class
        if cards:
            _preload_cards()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the orchestrator's to handle
        self.children: Dict[int, str] = {}
        self.by_id: Dict[str, int] = {}
        self.spare: Optional[Tuple[int, int]] = None  # (pid, write end of its spec pipe)

    def fork_spare(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            _spare(read_end, self.flow_class, (self.wake_r, self.wake_w))
        os.close(read_end)
        self.spare = (pid, write_end)

    def run(self, task_id: str, spec: str) -> None:
        for attempt in range(2):
            if self.spare is None:
                self.fork_spare()
            assert self.spare is not None
            (pid, pipe), self.spare = self.spare, None
            try:
                _write_all(pipe, spec.encode())
                break
            except BrokenPipeError:  # the spare died (killed from outside): fork another
                if attempt:
                    raise
            finally:
                os.close(pipe)
        self.children[pid] = task_id
        self.by_id[task_id] = pid
        _emit({"event": "started", "id": task_id, "pid": pid})
        self.fork_spare()  # it gets ready while this task runs

    def kill(self, task_id: str, sig: int) -> None:
        pid = self.by_id.get(task_id)
        if pid is not None:
            try:
                os.killpg(pid, sig)
            except OSError as err:
                if err.errno != errno.ESRCH:
                    raise

    def reap(self) -> None:
        while True:
            try:
                pid, raw = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and pid == self.spare[0]:
                os.close(self.spare[1])
                self.spare = None
            task_id = self.children.pop(pid, None)
            if task_id is not None:
                self.by_id.pop(task_id, None)
                _emit({"event": "exited", "id": task_id, "status": _status(raw)})

    def stop(self) -> None:
        """The orchestrator is gone: kill every task, and the spare."""
        pids = list(self.children) + ([self.spare[0]] if self.spare else [])
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def serve(code_dir: str, flow_file: str, flow_name: str, *flags: str) -> int:
    from ..authoring.flowmodule import import_flow_class
    from ..task import runner  # noqa: F401 (imported once here, so no forked task pays for it)

    try:
        flow_class = import_flow_class(code_dir, flow_file, flow_name)
    except BaseException as exc:
        _emit({"event": "error", "message": "%s: %s" % (type(exc).__name__, exc)})
        return 1
    server = _Server(flow_class, "--cards" in flags)
    server.fork_spare()
    _emit({"event": "ready"})
    pending = b""
    while True:
        try:
            readable, _, _ = select.select([0, server.wake_r], [], [])
        except InterruptedError:
            continue
        if server.wake_r in readable:
            try:
                os.read(server.wake_r, 4096)
            except BlockingIOError:
                pass
            server.reap()
        if 0 not in readable:
            continue
        data = os.read(0, 1 << 16)
        if not data:
            server.stop()
            return 0
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            message = json.loads(line)
            if message["op"] == "run":
                server.run(message["id"], message["spec"])
            elif message["op"] == "kill":
                server.kill(message["id"], message.get("signal", signal.SIGKILL))
        server.reap()


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:]))
