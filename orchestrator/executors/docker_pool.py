"""Task containers on one engine: starting and removing them, and a pool of warm ones per step.

A warm container has imported the flow and waits for its task on stdin
(``python -m orchestrator.task --warm``), so a task handed to it skips the
interpreter's start-up and the imports. Every start returns its own
``Started`` (the container or why there is none), so one task's start error
is never reported for another. ``close`` waits on a condition for the starts
and removals still in flight, with no polling.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .base import process_alive

LABEL = "org.orch"
OWNER = "%s.owner" % LABEL
# PID 1 of every task container, run by path so it imports only the standard library (see task.supervise)
SUPERVISOR = "/opt/orch/orchestrator/task/supervise.py"
ENGINE_DOWN = "the Docker engine stopped answering; start it again, then: orch resume"
CONTAINER_HOME = "/home/orch"  # a tmpfs of the task's own: the root filesystem is read-only
CLAIM_SECONDS = 30  # how long a task waits for a warm container still starting, before starting its own
ENDING = "the run is ending"


def owner_id() -> str:
    return "%s:%d" % (socket.gethostname(), os.getpid())


def remove_orphans(engine: Any) -> List[str]:
    """Remove orch containers whose orchestrator (on this host) is gone. Returns their names."""
    removed = []
    host = socket.gethostname()
    # The low-level listing: the high-level one inspects each container and fails on any that is
    # removed between the listing and the inspect, which is exactly what orphans of a kill do.
    for found in engine.api.containers(all=True, filters={"label": OWNER}):
        owner = (found.get("Labels") or {}).get(OWNER, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not process_alive(int(pid)):
            try:
                engine.api.remove_container(found["Id"], force=True)
                removed.append((found.get("Names") or [found["Id"]])[0].lstrip("/"))
            except Exception:  # already gone
                pass
    return removed


def engine_down(engine: Any, err: Exception) -> bool:
    """Whether ``err`` means the engine itself is gone (its socket closed or missing), not one container."""
    if "ConnectionError" in type(err).__name__ or "Connection aborted" in str(err):
        return True
    try:
        engine.ping()
    except Exception:
        return True
    return False


@dataclass(frozen=True)
class Started:
    """The outcome of one container start: the container, or why there is none."""

    container: Optional[Any]
    error: str = ""


class Containers:
    """Starts and removes this executor's containers, counting those in flight so ``close`` can wait."""

    def __init__(
        self,
        engine: Any,
        step_images: Mapping[str, Tuple[str, str]],
        mounts: Mapping[str, str],
        user: str,
        options: Mapping[str, Dict[str, Any]],
        preload: Tuple[str, str, str],
    ) -> None:
        """``step_images``: step → (image tag, python inside); ``mounts``: host path → 'rw' or 'ro';
        ``options``: step → extra ``containers.run`` arguments (limits, hardening); ``preload``:
        (code dir, flow file, flow name) that each container imports before it waits for its task."""
        self.engine = engine
        self.step_images = dict(step_images)
        self.volumes = {path: {"bind": path, "mode": mode} for path, mode in mounts.items()}
        self.user = user
        self.options = dict(options)
        self.preload = preload
        self.owner = owner_id()
        self.closed = False
        self._in_flight = 0  # starts and removals under way
        self._idle = threading.Condition()

    def _enter(self) -> bool:
        with self._idle:
            if self.closed:
                return False
            self._in_flight += 1
            return True

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def start(self, step: str, flow: str, run_id: str) -> Started:
        """A started container for ``step``: it imports the flow, then waits for its task on stdin."""
        image, python = self.step_images[step]
        labels = {OWNER: self.owner, LABEL + ".flow": flow, LABEL + ".run": run_id, LABEL + ".step": step}
        if not self._enter():
            return Started(None, ENDING)
        try:
            return self._run(image, python, labels, step)
        finally:
            self._leave()

    def _run(self, image: str, python: str, labels: Dict[str, str], step: str) -> Started:
        try:
            container = self.engine.containers.run(
                image,
                [python, "-I", "-S", SUPERVISOR, python, "-m", "orchestrator.task", "--warm"],
                detach=True,
                stdin_open=True,
                user=self.user,
                environment={"ORCH_PRELOAD": "\n".join(self.preload), "HOME": CONTAINER_HOME},
                volumes=self.volumes,
                labels=labels,
                working_dir="/tmp",
                network_mode="bridge",
                **self.options.get(step, {}),
            )
        except Exception as err:
            return Started(None, ENGINE_DOWN if engine_down(self.engine, err) else "%s: %s" % (type(err).__name__, err))
        if self.closed:  # the run ended while it started
            try:
                container.remove(force=True)
            except Exception:
                pass
            return Started(None, ENDING)
        return Started(container)

    def discard(self, container: Any) -> None:
        """Remove a container (killing it if it runs); counted, so ``close`` waits for it."""
        with self._idle:
            self._in_flight += 1
        try:
            container.remove(force=True)
        except Exception:
            pass  # already gone
        finally:
            self._leave()

    def stop_starting(self) -> None:
        """From now on a start returns no container, and one in flight removes what it started."""
        with self._idle:
            self.closed = True

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new starts, wait for those in flight, then remove any labelled container left over."""
        with self._idle:
            self.closed = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
        try:
            stragglers = self.engine.api.containers(all=True, filters={"label": "%s=%s" % (OWNER, self.owner)})
        except Exception:  # the engine is gone: its containers went with it, or the next run removes them
            return
        for found in stragglers:
            try:
                self.engine.api.remove_container(found["Id"], force=True)
            except Exception:
                pass


class WarmPool:
    """At most one started container per step, waiting for the task that comes later."""

    def __init__(self, containers: Containers) -> None:
        self.containers = containers
        self._pool: Dict[str, List[Optional[Any]]] = {}  # step → containers; None while one starts
        self._ready = threading.Condition()
        self._closed = False

    def warm(self, step: str, flow: str, run_id: str) -> None:
        """Start a container for ``step`` in the background, unless one is there or starting."""
        with self._ready:
            if self._closed or self._pool.get(step):
                return
            self._pool.setdefault(step, []).append(None)  # reserve the slot while it starts
        threading.Thread(target=self._start, args=(step, flow, run_id), daemon=True).start()

    def _start(self, step: str, flow: str, run_id: str) -> None:
        container = self.containers.start(step, flow, run_id).container
        with self._ready:
            pool = self._pool.get(step, [])
            if None in pool:
                pool.remove(None)
            if container is not None and not self._closed:
                pool.append(container)
                container = None
            self._ready.notify_all()
        if container is not None:  # closed meanwhile
            self.containers.discard(container)

    def claim(self, step: str, timeout: float = CLAIM_SECONDS) -> Optional[Any]:
        """A warm container for ``step``; one still starting is waited for, as it beats a fresh start."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while True:
                pool = self._pool.get(step, [])
                ready = [c for c in pool if c is not None]
                if ready:
                    pool.remove(ready[0])
                    return ready[0]
                left = deadline - time.monotonic()
                if None not in pool or self._closed or left <= 0:
                    return None
                self._ready.wait(timeout=left)

    def close(self) -> List[Any]:
        """Stop warming; the containers that were waiting, for the caller to remove."""
        with self._ready:
            self._closed = True
            left = [c for pool in self._pool.values() for c in pool if c is not None]
            self._pool.clear()
            self._ready.notify_all()
        return left
