"""The Docker executor: every task attempt in a fresh container of its step's ``orch-env`` image.

The store directory is mounted read-write and the run's code snapshot
read-only, both at their host paths, so the TaskSpec needs no translation.
Containers run as a non-root user, hardened (``sandbox_options``), with no
Docker socket, no host network and only the environment the step declares.
Each task is handed to a warm container (``docker_pool``) over its attach
stream (``attach``); a thread per task turns its exit into a ``TaskResult``
(OOM and non-zero exits explained) and removes it. Every container carries
labels naming its flow, run, step and the orchestrator that owns it, so
orphans of a crashed run are found and removed before the next one.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..task.spec import TaskSpec
from .attach import read_exit_marker, send_task
from .base import (
    Attempts,
    Executor,
    ExecutorSetup,
    RunPlace,
    SetupRequest,
    TaskResult,
    TaskState,
    resources_of,
    stderr_tail,
)
from .docker_pool import (
    CONTAINER_HOME,
    ENDING,
    ENGINE_DOWN,
    LABEL,
    OWNER,
    SUPERVISOR,
    Containers,
    WarmPool,
    engine_down,
    remove_orphans,
)

__all__ = ["CONTAINER_HOME", "ENGINE_DOWN", "LABEL", "OWNER", "SUPERVISOR", "DockerExecutor", "DockerSetup"]
__all__ += ["container_limits", "prepare", "remove_orphans", "sandbox_options"]


START_TRIES = 3  # a container start that failed on the client side is tried this many times


class _NotDelivered(Exception):
    """Attaching to a container or writing its task failed: the task never started there."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = "%s: %s" % (type(cause).__name__, cause)


class DockerExecutor(Executor):
    name = "docker"

    def __init__(
        self,
        containers: Containers,
        log_paths: Any,
        successors: Optional[Mapping[str, List[str]]] = None,
    ) -> None:
        """``containers``: this run's container starter (images, mounts, user, per-step options);
        ``log_paths(spec)`` → (stdout, stderr) files; ``successors``: step → the steps after it,
        whose containers start (warm) while it runs."""
        self.containers = containers
        self.engine = containers.engine
        self.resources = containers.options
        self.log_paths = log_paths
        self.successors = dict(successors or {})
        self.pool = WarmPool(containers)
        self.attempts = Attempts()  # handle → its container (None while it starts)
        self._closed = False

    @property
    def owner(self) -> str:
        return self.containers.owner

    def submit(self, spec: TaskSpec) -> str:
        """Returns at once: creating and starting the container happen on the task's own thread,
        so several containers start in parallel, as they would with parallel ``docker run``s."""
        handle = self.attempts.open(spec)  # no container yet: it starts on the task's thread
        threading.Thread(target=self._run, args=(handle, spec), daemon=True).start()
        return handle

    def prepare(self, steps: List[str], flow: str) -> None:
        """Start the first steps' containers now, while the run is still being set up."""
        for step in steps:
            self.pool.warm(step, flow, "")

    def _warm_successors(self, spec: TaskSpec) -> None:
        """Start the next steps' containers once this task's own has started, not alongside it:
        concurrent starts slow each other down, and this task is the one the run is waiting for."""
        for step in self.successors.get(spec.step, ()):
            self.pool.warm(step, spec.flow, spec.run_id)

    def _container_for(self, spec: TaskSpec) -> Tuple[Optional[Any], str]:
        """A warm container, or a fresh one; with the reason when there is none.

        A start that failed for another reason than a stopped engine or the run ending is tried
        again: no container means the task ran nothing, and the Docker SDK can fail a call made
        beside another thread's hijacked attach socket (docker/docker-py#2247)."""
        container = self.pool.claim(spec.step)
        if container is not None:
            return container, ""
        for attempt in range(START_TRIES):
            started = self.containers.start(spec.step, spec.flow, spec.run_id)
            if started.container is not None or started.error in (ENGINE_DOWN, ENDING):
                break
            time.sleep(0.2 * (attempt + 1))
        return started.container, started.error

    def _hand_over(self, container: Any, spec: TaskSpec) -> Optional[Tuple[int, str]]:
        """Send the task on stdin and read stdout until the runner reports its exit code.

        Returns that code and the kill reason, or None when the container ended without reporting
        (killed from outside, crash): the container's own exit status then tells what happened.
        """
        try:
            sock = container.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
            raw = getattr(sock, "_sock", sock)
            send_task(raw, spec.to_json())
        except Exception as err:
            raise _NotDelivered(err) from None
        try:
            return read_exit_marker(raw)
        except Exception:
            return None

    def _no_container(self, handle: str, message: str) -> None:
        """Report a task that never got a container: cancelled meanwhile, or the engine refused."""
        self.attempts.finish(TaskResult(handle, TaskState.FAILED, None, message))

    def _run(self, handle: str, spec: TaskSpec) -> None:
        container, error = self._container_for(spec)
        if container is None:
            self._no_container(handle, "could not start a container for step %s: %s" % (spec.step, error))
            return
        self._warm_successors(spec)
        with self.attempts.lock:
            self.attempts.set(handle, container)
            cancelled_early = self.attempts.cancelled(handle) is not None or self._closed
        reported = None
        if cancelled_early:  # cancelled (or the executor closed) while the container started
            try:
                container.kill()
            except Exception:
                pass
        else:
            for attempt in range(3):
                try:
                    reported = self._hand_over(container, spec)
                    break
                except _NotDelivered as err:  # the task never reached it: it ran nothing, so another may
                    self.containers.discard(container)
                    started = self.containers.start(spec.step, spec.flow, spec.run_id) if attempt < 2 else None
                    container = started.container if started else None
                    if container is None:
                        self._no_container(
                            handle, "could not hand the task to a container of step %s: %s" % (spec.step, err.cause)
                        )
                        return
                    self.attempts.set(handle, container)
        if reported is not None and reported[0] == 0:
            # Committed and exited 0: report now; the container's teardown happens in the background.
            self._finish(handle, container, TaskResult(handle, TaskState.SUCCEEDED, 0))
            return
        self._wait(handle, container, spec, reported is not None and reported[1] == "oom")

    def _wait(self, handle: str, container: Any, spec: TaskSpec, oom: bool) -> None:
        """Wait for the container's exit and explain it. ``oom``: its PID 1 saw the task die of an
        OOM kill; otherwise the engine's flag is the (racy, see ``task.supervise``) fallback."""
        limits = self.resources.get(spec.step, {})
        try:
            status = container.wait().get("StatusCode", -1)
            cancelled = self.attempts.cancelled(handle)
            # Only an unexplained failure needs the extra inspect: a cancelled task was killed by us.
            if status != 0 and not oom and cancelled is None:
                oom = self._oom_killed(container, status, limits)
        except Exception as err:  # the engine went away mid-run
            self._finish(handle, container, TaskResult(handle, TaskState.LOST, None, self._lost(err)))
            return
        if cancelled is not None:
            result = TaskResult(handle, TaskState.KILLED, status)  # finish reports the cancellation's state
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

    def _lost(self, err: Exception) -> str:
        if engine_down(self.engine, err):
            return ENGINE_DOWN
        return "lost the container: %s" % (str(err).splitlines()[0] if str(err) else type(err).__name__)

    @staticmethod
    def _oom_killed(container: Any, status: int, limits: Dict[str, Any]) -> bool:
        """The engine's OOMKilled flag. Its OOM event can trail the exit, so a SIGKILL (137) of a
        memory-limited container is re-inspected for up to a second before it is ruled out."""
        attempts = 10 if status == 137 and "mem_limit" in limits else 1
        for attempt in range(attempts):
            container.reload()
            if container.attrs.get("State", {}).get("OOMKilled"):
                return True
            if attempt + 1 < attempts:
                time.sleep(0.1)
        return False

    def _stderr_tail(self, container: Any, spec: TaskSpec) -> str:
        """The log file's last lines; the container's own stderr when the task never wrote one."""
        found = stderr_tail(self.log_paths(spec)[1])
        if found:
            return found
        try:
            lines = container.logs(stdout=False, stderr=True, tail=5).decode("utf-8", "replace").splitlines()
        except Exception:
            lines = []
        return (": " + " | ".join(line.strip() for line in lines[-3:])) if lines else ""

    def _finish(self, handle: str, container: Any, result: TaskResult) -> None:
        """Report first, then remove: the scheduler need not wait for the engine's clean-up."""
        self.attempts.finish(result)
        self.containers.discard(container)

    def poll(self, timeout: float) -> List[TaskResult]:
        return self.attempts.poll(timeout)

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        with self.attempts.lock:
            if not self.attempts.cancel(handle, state, message):
                return  # already finished
            container = self.attempts.get(handle)
        if container is None:
            return  # still being created: _run kills it once it exists
        try:
            container.kill()
        except Exception:
            pass  # it ended on its own meanwhile

    def close(self) -> None:
        """Stop and remove every container of this executor, including ones still starting."""
        self.containers.stop_starting()
        with self.attempts.lock:
            self._closed = True
            running = [c for c in self.attempts.live().values() if c is not None]
        for container in self.pool.close() + running:
            self.containers.discard(container)
        self.containers.close()


CONTAINER_USER = (1000, 1000)  # when orch itself runs as root, its containers still do not


def sandbox_options(node: Any, uid: int, gid: int) -> Dict[str, Any]:
    """The hardening of every task container, relaxed only as the step's ``@sandbox`` asks: no
    capabilities, no privilege gain (setuid does not escalate), a PID limit, and a read-only root
    with a writable ``/tmp`` and home (the store and code are bind mounts, rw and ro)."""
    sandbox = node.decorator("sandbox")
    options: Dict[str, Any] = {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "pids_limit": sandbox.pids_limit if sandbox else 4096,
        "read_only": not (sandbox and sandbox.writable_root),
        "tmpfs": {
            "/tmp": "rw,nosuid,nodev,mode=1777",
            CONTAINER_HOME: "rw,nosuid,nodev,mode=0700,uid=%d,gid=%d" % (uid, gid),
        },
    }
    if sandbox and sandbox.capabilities:
        options["cap_add"] = list(sandbox.capabilities)
    return options


def container_limits(node: Any) -> Dict[str, Any]:
    """@resources / @batch → container limits (``resources_of``: the larger of the two wins)."""
    wanted = resources_of(node)
    limits: Dict[str, Any] = {}
    if wanted.cpu:
        limits["nano_cpus"] = int(wanted.cpu * 1e9)
    if wanted.memory:
        limits["mem_limit"] = "%dm" % wanted.memory
        limits["memswap_limit"] = "%dm" % wanted.memory  # no swap: over the limit means OOM, as on Batch
    return limits


@dataclass(frozen=True)
class DockerSetup(ExecutorSetup):
    """The Docker executor, prepared: each step's built image, on this engine."""

    steps: Tuple[str, ...]
    images: Mapping[str, Any]  # step → ImageSpec
    engine: Any = field(compare=False, repr=False)

    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        return {step: {"image": spec.tag} for step, spec in self.images.items()}

    def create(self, place: RunPlace) -> DockerExecutor:
        remove_orphans(self.engine)
        if os.getuid() == 0:
            uid, gid = CONTAINER_USER
            place.backend.share_with(uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
        backend = place.backend
        options = {
            step: dict(container_limits(place.graph[step]), **sandbox_options(place.graph[step], uid, gid))
            for step in self.steps
        }
        containers = Containers(
            self.engine,
            {step: (spec.tag, spec.python) for step, spec in self.images.items()},
            {place.config.store.url: "rw", place.code_dir: "ro"},
            "%d:%d" % (uid, gid),
            options,
            (place.code_dir, place.flow_file, place.flow),
        )
        return DockerExecutor(
            containers,
            lambda spec: spec.log_files(backend),
            successors={node.name: [s for s in node.out if s in self.images] for node in place.graph},
        )


def prepare(request: SetupRequest) -> DockerSetup:
    """Build the missing image of each step, exactly as ``orch build-envs`` would."""
    from ..errors import UsageError
    from ..images.engine import client
    from ..images.ensure import ensure_step_images

    config = request.config
    if not config.store.is_local:
        raise UsageError(
            "The docker executor needs a local store directory, not %s." % config.store.url,
            "Use --store DIR, or run S3-backed flows on AWS Batch (--with batch), or use --executor local.",
        )
    engine = client()
    images = ensure_step_images(engine, request.locks_of_steps(), config.base_image, config.sources, request.notice)
    return DockerSetup(request.steps, images, engine)
