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
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..plan import Target
from ..task.spec import TaskSpec
from .attach import read_exit_marker, send_task
from .base import Executor, ExecutorSetup, RunPlace, SetupRequest, TaskResult, TaskState, drain, stderr_tail

LABEL = "org.orch"
OWNER = "%s.owner" % LABEL
# PID 1 of every task container, run by path so it imports only the standard library (see task.supervise)
SUPERVISOR = "/opt/orch/orchestrator/task/supervise.py"
ENGINE_DOWN = "the Docker engine stopped answering; start it again, then: orch resume"


class _NotDelivered(Exception):
    """Attaching to a container or writing its task failed: the task never started there."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = "%s: %s" % (type(cause).__name__, cause)


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
    # The low-level listing: the high-level one inspects each container and fails on any that is
    # removed between the listing and the inspect, which is exactly what orphans of a kill do.
    for found in engine.api.containers(all=True, filters={"label": OWNER}):
        owner = (found.get("Labels") or {}).get(OWNER, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            try:
                engine.api.remove_container(found["Id"], force=True)
                removed.append((found.get("Names") or [found["Id"]])[0].lstrip("/"))
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
        successors: Optional[Mapping[str, List[str]]] = None,
        preload: Optional[Tuple[str, str, str]] = None,
    ) -> None:
        """``step_images``: step → (image tag, python inside); ``mounts``: host path → 'rw' or 'ro';
        ``resources``: step → {'nano_cpus', 'mem_limit'}; ``log_paths(spec)`` → (stdout, stderr) files;
        ``successors``: step → the steps after it, whose containers start (warm) while it runs, each
        importing ``preload`` = (code dir, flow file, flow name) and then waiting for its task on stdin."""
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
        self._ready = threading.Condition(self._lock)  # notified when a warm container is ready
        self._counter = 0
        self._removing = 0
        self._closed = False
        self._starting = 0
        self.start_error = ""
        self.successors = dict(successors or {})
        self.preload = preload
        self._warm: Dict[tuple, List[Any]] = {}  # (image, limits) → started containers waiting for a task

    def submit(self, spec: TaskSpec) -> str:
        """Returns at once: creating and starting the container happen on the task's own thread,
        so several containers start in parallel, as they would with parallel ``docker run``s."""
        with self._lock:
            self._counter += 1
            handle = "%s-%d" % (spec.task_id, self._counter)
            self._containers[handle] = None  # starting
        threading.Thread(target=self._run, args=(handle, spec), daemon=True).start()
        return handle

    def _prewarm_successors(self, spec: TaskSpec) -> None:
        """Start the next steps' containers once this task's own has started, not alongside it:
        concurrent starts slow each other down, and this task is the one the run is waiting for."""
        if self.preload is not None:
            for step in self.successors.get(spec.step, ()):
                threading.Thread(target=self._prewarm, args=(step, spec.flow, spec.run_id), daemon=True).start()

    def prepare(self, steps: List[str], flow: str) -> None:
        """Start the first steps' containers now, while the run is still being set up."""
        if self.preload is not None:
            for step in steps:
                threading.Thread(target=self._prewarm, args=(step, flow, ""), daemon=True).start()

    def _key(self, step: str) -> str:
        """Warm containers are kept per step, so each one's labels name the step it really runs."""
        return step

    def _start(self, step: str, flow: str, run_id: str) -> Optional[Any]:
        """A started container for ``step``: it imports the flow, then waits for its task on stdin."""
        image, python = self.step_images[step]
        labels = {OWNER: self.owner, LABEL + ".flow": flow, LABEL + ".run": run_id, LABEL + ".step": step}
        with self._lock:
            if self._closed:
                return None
            self._starting += 1
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
                **self.resources.get(step, {}),
            )
        except Exception as err:
            self.start_error = ENGINE_DOWN if self._engine_down(err) else "%s: %s" % (type(err).__name__, err)
            container = None
        with self._lock:
            self._starting -= 1
            if container is not None and self._closed:
                self._discard(container)  # the run ended while it started
                return None
        return container

    def _prewarm(self, step: str, flow: str, run_id: str) -> None:
        """Start a container for ``step`` now, so the task that comes later skips the start-up."""
        key = self._key(step)
        with self._lock:
            if self._closed or len(self._warm.get(key, ())) >= 1:
                return
            self._warm.setdefault(key, []).append(None)  # reserve the slot while it starts
        container = self._start(step, flow, run_id)
        with self._lock:
            pool = self._warm.get(key, [])
            if None in pool:
                pool.remove(None)
            if container is not None and not self._closed:
                pool.append(container)
                container = None
            self._ready.notify_all()
        if container is not None:  # closed meanwhile
            self._discard(container)

    def _claim(self, step: str) -> Optional[Any]:
        """A warm container for ``step``; one still starting is waited for, as it beats a fresh start."""
        deadline = time.monotonic() + 30
        with self._ready:
            while True:
                pool = self._warm.get(self._key(step), [])
                ready = [c for c in pool if c is not None]
                if ready:
                    pool.remove(ready[0])
                    return ready[0]
                if None not in pool or self._closed or time.monotonic() > deadline:
                    return None
                self._ready.wait(timeout=0.5)

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

    def _discard(self, container: Any) -> None:
        try:
            container.remove(force=True)
        except Exception:
            pass

    def _no_container(self, handle: str, message: str) -> None:
        """Report a task that never got a container: cancelled meanwhile, or the engine refused."""
        with self._lock:
            self._containers.pop(handle, None)
            cancelled = self._cancelled.pop(handle, None)
        state, message = cancelled or (TaskState.FAILED, message)
        self._results.put(TaskResult(handle, state, None, message))

    def _run(self, handle: str, spec: TaskSpec) -> None:
        limits = self.resources.get(spec.step, {})
        container = self._claim(spec.step) or self._start(spec.step, spec.flow, spec.run_id)
        if container is None:
            self._no_container(handle, "could not start a container for step %s: %s" % (spec.step, self.start_error))
            return
        self._prewarm_successors(spec)
        with self._lock:
            self._containers[handle] = container
            cancelled_early = handle in self._cancelled or self._closed
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
                    self._discard(container)
                    container = self._start(spec.step, spec.flow, spec.run_id) if attempt < 2 else None
                    if container is None:
                        self._no_container(
                            handle, "could not hand the task to a container of step %s: %s" % (spec.step, err.cause)
                        )
                        return
                    with self._lock:
                        self._containers[handle] = container
        if reported is not None and reported[0] == 0:
            # Committed and exited 0: report now; the container's teardown happens in the background.
            self._finish(handle, container, TaskResult(handle, TaskState.SUCCEEDED, 0))
            return
        self._wait(handle, container, spec, limits, reported is not None and reported[1] == "oom")

    def _wait(self, handle: str, container: Any, spec: TaskSpec, limits: Dict[str, Any], oom: bool) -> None:
        """Wait for the container's exit and explain it. ``oom``: its PID 1 saw the task die of an
        OOM kill; otherwise the engine's flag is the (racy, see ``task.supervise``) fallback."""
        try:
            status = container.wait().get("StatusCode", -1)
            with self._lock:
                cancelled = self._cancelled.pop(handle, None)
            # Only an unexplained failure needs the extra inspect: a cancelled task was killed by us.
            if status != 0 and not oom and cancelled is None:
                oom = self._oom_killed(container, status, limits)
        except Exception as err:  # the engine went away mid-run
            self._finish(handle, container, TaskResult(handle, TaskState.LOST, None, self._lost(err)))
            return
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

    def _engine_down(self, err: Exception) -> bool:
        """Whether ``err`` means the engine itself is gone (its socket closed or missing), not one container."""
        if "ConnectionError" in type(err).__name__ or "Connection aborted" in str(err):
            return True
        try:
            self.engine.ping()
        except Exception:
            return True
        return False

    def _lost(self, err: Exception) -> str:
        if self._engine_down(err):
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
        with self._lock:
            self._containers.pop(handle, None)
            self._removing += 1
        self._results.put(result)
        try:
            container.remove(force=True)
        except Exception:
            pass
        finally:
            with self._lock:
                self._removing -= 1

    def poll(self, timeout: float) -> List[TaskResult]:
        return drain(self._results, timeout)

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        with self._lock:
            if handle not in self._containers:
                return  # already finished
            container = self._containers[handle]
            self._cancelled[handle] = (state, message or state.value)
            if container is None:
                return  # still being created: _run kills it once it exists
        try:
            container.kill()
        except Exception:
            pass  # it ended on its own meanwhile

    def close(self) -> None:
        """Stop and remove every container of this executor, including ones still starting."""
        with self._lock:
            self._closed = True
        deadline = time.monotonic() + 30
        while self._starting and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            leftovers = [c for c in self._containers.values() if c is not None]
            leftovers += [c for pool in self._warm.values() for c in pool if c is not None]
            self._warm.clear()
        for container in leftovers:
            self._discard(container)
        while self._removing and time.monotonic() < deadline:  # let background removals finish
            time.sleep(0.05)
        try:
            stragglers = self.engine.api.containers(all=True, filters={"label": "%s=%s" % (OWNER, self.owner)})
        except Exception:  # the engine is gone: its containers went with it, or the next run removes them
            return
        for found in stragglers:
            try:  # anything a thread started after all
                self.engine.api.remove_container(found["Id"], force=True)
            except Exception:
                pass


CONTAINER_USER = (1000, 1000)  # when orch itself runs as root, its containers still do not
CONTAINER_HOME = "/home/orch"  # a tmpfs of the task's own: the root filesystem is read-only


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
    """@resources / @batch → container limits; the larger of the two wins, as in Metaflow."""
    resources, batch = node.decorator("resources"), node.decorator("batch")
    cpus = [v for v in (resources and resources.cpu, batch and batch.cpu) if v]
    memory = [v for v in (resources and resources.memory, batch and batch.memory) if v]
    limits: Dict[str, Any] = {}
    if cpus:
        limits["nano_cpus"] = int(max(cpus) * 1e9)
    if memory:
        limits["mem_limit"] = "%dm" % max(memory)
        limits["memswap_limit"] = "%dm" % max(memory)  # no swap: over the limit means OOM, as on Batch
    return limits


@dataclass(frozen=True)
class DockerSetup(ExecutorSetup):
    """The Docker executor, prepared: each step's built image, on this engine."""

    steps: Tuple[str, ...]
    images: Mapping[str, Any]  # step → ImageSpec
    engine: Any = field(compare=False, repr=False)
    target: Target = Target.DOCKER

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
        return DockerExecutor(
            self.engine,
            {step: (spec.tag, spec.python) for step, spec in self.images.items()},
            {place.config.store.url: "rw", place.code_dir: "ro"},
            "%d:%d" % (uid, gid),
            {
                step: dict(container_limits(place.graph[step]), **sandbox_options(place.graph[step], uid, gid))
                for step in self.steps
            },
            lambda spec: spec.log_files(backend),
            successors={node.name: [s for s in node.out if s in self.images] for node in place.graph},
            preload=(place.code_dir, place.flow_file, place.flow),
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
