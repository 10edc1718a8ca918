"""The Docker executor: every task attempt in a fresh container of its step's ``orch-env`` image.

The store directory is mounted read-write and the run's code snapshot
read-only, both at their host paths, so the TaskSpec needs no translation.
Containers run as a non-root user, with no Docker socket, no host network
and only the environment the step declares. A waiter thread per container
turns its exit into a ``TaskResult`` (OOM and non-zero exits explained), and
removes it. Every container carries labels naming its flow, run, step, task
and the orchestrator that owns it, so orphans of a crashed run are found and
removed before the next one.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
from typing import Any, Dict, List, Mapping, Tuple

from ..task.spec import TaskSpec
from .base import Executor, TaskResult, TaskState

LABEL = "org.orch"
OWNER = "%s.owner" % LABEL


def owner_id() -> str:
    return "%s:%d" % (socket.gethostname(), os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_orphans(engine: Any) -> List[str]:
    """Remove orch containers whose orchestrator (on this host) is gone. Returns their names."""
    removed = []
    host = socket.gethostname()
    for container in engine.containers.list(all=True, filters={"label": OWNER}):
        owner = container.labels.get(OWNER, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            try:
                container.remove(force=True)
                removed.append(container.name)
            except Exception:  # already gone
                pass
    return removed


class DockerExecutor(Executor):
    name = "docker"

    def __init__(
        self,
        engine: Any,
        step_images: Mapping[str, Tuple[str, str]],
        mounts: Mapping[str, str],
        user: str,
        resources: Mapping[str, Dict[str, Any]],
        log_paths: Any,
    ) -> None:
        """``step_images``: step → (image tag, python inside); ``mounts``: host path → 'rw' or 'ro';
        ``resources``: step → {'nano_cpus', 'mem_limit'}; ``log_paths(spec)`` → (stdout, stderr) files."""
        self.engine = engine
        self.step_images = dict(step_images)
        self.volumes = {path: {"bind": path, "mode": mode} for path, mode in mounts.items()}
        self.user = user
        self.resources = dict(resources)
        self.log_paths = log_paths
        self.owner = owner_id()
        self._results: queue.Queue[TaskResult] = queue.Queue()
        self._containers: Dict[str, Any] = {}
        self._cancelled: Dict[str, Tuple[TaskState, str]] = {}
        self._lock = threading.Lock()
        self._counter = 0

    def submit(self, spec: TaskSpec) -> str:
        image, python = self.step_images[spec.step]
        with self._lock:
            self._counter += 1
            handle = "%s-%d" % (spec.task_id, self._counter)
        labels = {
            OWNER: self.owner,
            LABEL + ".flow": spec.flow,
            LABEL + ".run": spec.run_id,
            LABEL + ".step": spec.step,
            LABEL + ".task": spec.task_id,
            LABEL + ".attempt": str(spec.attempt),
        }
        limits = self.resources.get(spec.step, {})
        try:
            container = self.engine.containers.run(
                image,
                [python, "-m", "orchestrator.task", "--from-env"],
                detach=True,
                user=self.user,
                environment={"ORCH_TASK_SPEC": spec.to_json(), "HOME": "/tmp"},
                volumes=self.volumes,
                labels=labels,
                working_dir="/tmp",
                network_mode="bridge",
                init=True,
                name="orch-%s-%s-%s-%s" % (spec.run_id, spec.step, spec.task_id, spec.attempt),
                **limits,
            )
        except Exception as err:
            self._results.put(TaskResult(handle, TaskState.FAILED, None, "could not start a container: %s" % err))
            return handle
        with self._lock:
            self._containers[handle] = container
        threading.Thread(target=self._wait, args=(handle, container, spec, limits), daemon=True).start()
        return handle

    def _wait(self, handle: str, container: Any, spec: TaskSpec, limits: Dict[str, Any]) -> None:
        try:
            status = container.wait().get("StatusCode", -1)
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        except Exception as err:  # the engine went away mid-run
            self._finish(handle, container, TaskResult(handle, TaskState.LOST, None, "lost the container: %s" % err))
            return
        with self._lock:
            cancelled = self._cancelled.pop(handle, None)
        if cancelled is not None:
            result = TaskResult(handle, cancelled[0], status, cancelled[1])
        elif oom:
            limit = limits.get("mem_limit", "?")
            result = TaskResult(
                handle, TaskState.OOM, status, "killed: out of memory (limit %s MiB)" % str(limit).rstrip("m")
            )
        elif status == 0:
            result = TaskResult(handle, TaskState.SUCCEEDED, 0)
        else:
            result = TaskResult(
                handle,
                TaskState.FAILED,
                status,
                "container exited with code %d%s" % (status, self._stderr_tail(container, spec)),
            )
        self._finish(handle, container, result)

    def _stderr_tail(self, container: Any, spec: TaskSpec) -> str:
        lines = []
        try:
            with open(self.log_paths(spec)[1], "rb") as handle:
                lines = handle.read()[-4000:].decode("utf-8", "replace").strip().splitlines()
        except OSError:
            pass
        if not lines:
            try:
                lines = container.logs(stdout=False, stderr=True, tail=5).decode("utf-8", "replace").splitlines()
            except Exception:
                lines = []
        return (": " + " | ".join(line.strip() for line in lines[-3:])) if lines else ""

    def _finish(self, handle: str, container: Any, result: TaskResult) -> None:
        try:
            container.remove(force=True)
        except Exception:
            pass
        with self._lock:
            self._containers.pop(handle, None)
        self._results.put(result)

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
            container = self._containers.get(handle)
            if container is None:
                return
            self._cancelled[handle] = (state, message or state.value)
        try:
            container.kill()
        except Exception:
            pass  # it ended on its own meanwhile

    def close(self) -> None:
        with self._lock:
            leftovers = list(self._containers.values())
        for container in leftovers:
            try:
                container.remove(force=True)
            except Exception:
                pass
