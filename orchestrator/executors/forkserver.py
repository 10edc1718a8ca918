"""The local executor's fork server: imports the flow once, then forks a fresh process per task.

Each task gets its own process (its own memory, its own crash), but skips
interpreter start-up and imports, which is where Metaflow spends most of a
trivial task's time. Runs as ``python -m orchestrator.executors.forkserver
CODE_DIR FLOW_FILE FLOW_NAME``, single-threaded, so forking is safe.

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
from typing import Dict


def _emit(event: dict) -> None:
    data = (json.dumps(event) + "\n").encode()
    while data:
        written = os.write(1, data)
        data = data[written:]


def _status(raw: int) -> int:
    if os.WIFSIGNALED(raw):
        return -os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw)


def _child(spec_json: str, flow_class: type) -> None:
    """In the forked child: a session of its own, default signals, then run the task."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        from ..task.runner import run_task
        from ..task.spec import TaskSpec

        code = run_task(TaskSpec.from_json(spec_json), flow_class)
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            code = 1
    finally:
        os._exit(code)


def _preload_cards() -> bool:
    """Import the card code and resolve the built-in card types in the server, before forking."""
    try:
        import time

        from ..cards import registry, session  # noqa: F401
        from ..cards.task_view import CardTask

        # one throw-away render: the code paths (and the time zone a card's timestamp reads) are warm
        # in every task forked from here
        task = CardTask("Flow/1/step/1", ["x"], lambda name: [1], {}, [], started_at=time.time()).ended(None)
        registry.card_class("default")(graph={"steps": [{"name": "step", "next": []}]}).render(task)
    except Exception:  # the task imports them itself, and reports what fails
        pass
    return True


def serve(code_dir: str, flow_file: str, flow_name: str) -> int:
    from ..flowmodule import import_flow_class
    from ..task import runner  # noqa: F401 (imported once here, so no forked task pays for it)

    try:
        flow_class = import_flow_class(code_dir, flow_file, flow_name)
    except BaseException as exc:
        _emit({"event": "error", "message": "%s: %s" % (type(exc).__name__, exc)})
        return 1
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the orchestrator's to handle
    children: Dict[int, str] = {}
    by_id: Dict[str, int] = {}
    pending = b""
    cards_loaded = False
    _emit({"event": "ready"})

    def reap() -> None:
        while children:
            try:
                pid, raw = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            task_id = children.pop(pid, None)
            if task_id is not None:
                by_id.pop(task_id, None)
                _emit({"event": "exited", "id": task_id, "status": _status(raw)})

    while True:
        try:
            readable, _, _ = select.select([0, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            reap()
        if 0 not in readable:
            continue
        data = os.read(0, 1 << 16)
        if not data:
            for pid in list(children):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            return 0
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            message = json.loads(line)
            if message["op"] == "run":
                if not cards_loaded and '"cards": [{' in message["spec"]:
                    cards_loaded = _preload_cards()  # once, so no forked task of a run with @card imports them
                pid = os.fork()
                if pid == 0:
                    _child(message["spec"], flow_class)
                children[pid] = message["id"]
                by_id[message["id"]] = pid
                _emit({"event": "started", "id": message["id"], "pid": pid})
            elif message["op"] == "kill":
                pid = by_id.get(message["id"])
                if pid is not None:
                    try:
                        os.killpg(pid, message.get("signal", signal.SIGKILL))
                    except OSError as err:
                        if err.errno != errno.ESRCH:
                            raise
        reap()


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:4]))
