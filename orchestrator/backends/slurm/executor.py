"""The Slurm executor: each task attempt a Slurm job of its step's image, siblings one job array.

The local scheduler drives the run, so foreach, retries, ``@catch``,
``@timeout`` and resume behave as on a laptop; this executor turns attempts
into jobs and jobs back into results:

- ``flush`` sends what was submitted together: the tasks of one step that
  became ready at once go out as one job array (``--array=0-N%M``), whose
  tasks find their TaskSpec by index in a specs file in the store.
- One poller thread asks ``squeue`` once for all of the user's jobs and reads
  the run's exit records, backing off while nothing changes.
- A job's end is read from its exit record (written by the job script) and,
  for the ends a job cannot record itself (TIMEOUT, NODE_FAIL, PREEMPTED,
  a kill from outside), from the state Slurm still shows. Without ``sacct``
  Slurm forgets a job after ``MinJobAge``: orch never depends on it later.
- A heartbeat file per run tells its jobs that orch is alive; jobs of a run
  whose orch was killed stop by themselves (``script.STALE_SECONDS``), and the
  next orch run on this host cancels them at once (``cancel_orphans``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from ...executors.base import Attempts, Executor, TaskResult, TaskState, process_alive, stderr_tail
from ...store.backend import Backend
from ...store.metadata import log_key, run_prefix
from ...task.job import OOM_NOTE
from ...task.spec import TaskSpec
from .commands import JobState, SlurmCommands, SlurmError
from .script import STALE_SECONDS, JobShape, Submission, beat_seconds, exit_record, render

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Slurm states a job cannot record itself, and how orch reports them
DEATHS = {
    "TIMEOUT": (TaskState.FAILED, "reached its Slurm time limit"),
    "OUT_OF_MEMORY": (TaskState.OOM, "killed: out of memory"),
    "NODE_FAIL": (TaskState.LOST, "its node failed"),
    "BOOT_FAIL": (TaskState.LOST, "its node failed to boot"),
    "PREEMPTED": (TaskState.KILLED, "was preempted"),
    "CANCELLED": (TaskState.KILLED, "was cancelled from outside orch (scancel)"),
    "DEADLINE": (TaskState.FAILED, "missed its deadline"),
    "FAILED": (TaskState.FAILED, "failed"),
}
GONE_POLLS = 3  # polls a job may be missing from squeue, with no exit record, before it is lost
RECORD_SECONDS = 0.1  # how often the run's exit records are looked for (a listing of a folder)


def owner_comment(run: str) -> str:
    """What every job of this orch process carries in ``--comment``: who submitted it, for which run."""
    return "orch-owner=%s:%d,run=%s" % (socket.gethostname(), os.getpid(), run)


def _owner_of(comment: str) -> Optional[Tuple[str, int]]:
    match = re.match(r"^orch-owner=([A-Za-z0-9.\-]+):(\d+),run=", comment)
    return (match.group(1), int(match.group(2))) if match else None


def cancel_orphans(commands: SlurmCommands) -> List[str]:
    """Cancel the jobs of orch runs on this host whose orch process is gone (killed): a resume, or
    any next run, cleans up what a ``kill -9`` left. Returns the job ids cancelled."""
    host = socket.gethostname()
    orphans = []
    for job in commands.queue().values():
        owner = _owner_of(job.comment)
        if owner and owner[0] == host and not job.ended and not process_alive(owner[1]):
            orphans.append(job.job_id)
    commands.cancel(orphans)
    return orphans


@dataclass
class _Job:
    """One submitted task: a single job, or one task of a job array."""

    handle: str
    spec: TaskSpec
    job_id: str = ""  # "123", or "123_4" for an array task
    exits: str = ""  # the folder of its exit record
    missing: int = 0  # polls since squeue last showed it
    record: Optional[Tuple[int, bool]] = None
    state: Optional[JobState] = None
    waited: int = 0  # polls waited for Slurm's state after a non-zero exit record


@dataclass(frozen=True)
class Scratch:
    """A run's folders on the shared filesystem: job scripts, Slurm's output files, exit records."""

    root: str
    owner: Optional[Tuple[int, int]] = None  # jobs run as this uid:gid (orch is root): they write here

    def run_dir(self, flow: str, run: str) -> str:
        return os.path.join(self.root, _SAFE.sub("_", flow), _SAFE.sub("_", run))

    def ensure(self, flow: str, run: str) -> str:
        base = self.run_dir(flow, run)
        for part in ("jobs", "logs", "exits"):
            os.makedirs(os.path.join(base, part), exist_ok=True)
            if self.owner:
                os.chown(os.path.join(base, part), *self.owner)
        return base


class SlurmExecutor(Executor):
    name = "slurm"

    def __init__(
        self,
        commands: SlurmCommands,
        shapes: Mapping[str, JobShape],
        store: Backend,
        store_dir: Optional[str],
        scratch: Scratch,
        local_log_paths: Callable[[TaskSpec], Tuple[str, str]],
        max_workers: Optional[int] = None,
        poll_range: Tuple[float, float] = (0.25, 5.0),
        stale: int = STALE_SECONDS,
    ) -> None:
        self.commands = commands
        self.shapes = dict(shapes)
        self.store = store
        self.store_dir = store_dir
        self.scratch = scratch
        self.local_log_paths = local_log_paths
        self.max_workers = max_workers
        self.poll_min, self.poll_max = poll_range
        self.stale = stale
        self._lock = threading.RLock()
        self.attempts = Attempts("slurm-", self._lock)  # handle → _Job
        self._pending: List[Tuple[str, TaskSpec]] = []
        self._live: Dict[str, _Job] = {}  # job id → job
        self._runs: Dict[str, str] = {}  # run dir → heartbeat file
        self._submissions = 0
        self._changed = threading.Condition(self._lock)
        self._closed = False
        self._poller = threading.Thread(target=self._poll_loop, daemon=True)
        self._poller.start()
        self._beater = threading.Thread(target=self._beat_loop, daemon=True)
        self._beater.start()

    # submitting

    def submit(self, spec: TaskSpec) -> str:
        with self._lock:
            handle = self.attempts.open(spec)
            self.attempts.set(handle, _Job(handle, spec))
            self._pending.append((handle, spec))
        return handle

    def flush(self) -> None:
        """Send what was submitted since the last flush: the tasks of one step (one attempt) as one array."""
        with self._lock:
            pending, self._pending = self._pending, []
        groups: Dict[Tuple[str, int], List[Tuple[str, TaskSpec]]] = {}
        for handle, spec in pending:
            if not self.attempts.cancelled(handle):
                groups.setdefault((spec.step, spec.attempt), []).append((handle, spec))
        for members in groups.values():
            try:
                self._send(members)
            except (SlurmError, OSError) as err:  # the partition or script is wrong: every member fails, saying why
                for handle, _ in members:
                    self.attempts.finish(
                        TaskResult(handle, TaskState.FAILED, None, "could not submit to Slurm: %s" % err)
                    )

    def _heartbeat(self, spec: TaskSpec) -> Tuple[str, str]:
        """The run's scratch folder, created with its heartbeat on the run's first submission."""
        base = self.scratch.ensure(spec.flow, spec.run_id)
        beat = os.path.join(base, "heartbeat")
        with self._lock:
            if base not in self._runs:
                _touch(beat)
                self._runs[base] = beat
        return base, beat

    def _send(self, members: List[Tuple[str, TaskSpec]]) -> None:
        first = members[0][1]
        shape = self.shapes[first.step]
        base, beat = self._heartbeat(first)
        with self._lock:
            self._submissions += 1
            number = self._submissions
        name = job_name(first, len(members))
        specs_key = "%s/jobs/%s-%d.json" % (run_prefix(first.flow, first.run_id), name, number)
        # @environment and @secrets values are secrets: the specs file leaves them out. The task takes
        # @environment and inline @secrets from the flow's code; the job fetches AWS secrets itself.
        shared = [json.loads(replace(s, env=(), code_env=True).to_json()) for _, s in members]
        self.store.put(specs_key, [json.dumps(shared).encode()])
        gang = first.parallel_control is not None  # a @parallel gang runs all at once or not at all
        job = Submission(
            name=name,
            size=len(members),
            comment=owner_comment("%s/%s" % (first.flow, first.run_id)),
            specs_key=specs_key,
            store_url=self.store_dir or first.store_url,
            store_dir=self.store_dir,
            log_dir=os.path.join(base, "logs"),
            exit_dir=os.path.join(base, "exits"),
            heartbeat=beat,
            throttle=None if gang else self.max_workers,
            stale=self.stale,
        )
        script = os.path.join(base, "jobs", "%s-%d.sh" % (name, number))
        _write(script, render(shape, job).encode(), mode=0o755)
        job_id = self.commands.submit(script)
        record = {
            "job_id": job_id,
            "script": script,
            "array_size": len(members) if len(members) > 1 else None,
            "image": shape.image,
            "runtime": shape.runtime,
            "tasks": [str(s.ref) for _, s in members],
            "submitted_at": time.time(),
        }
        self.store.put(specs_key[: -len(".json")] + ".submitted.json", [json.dumps(record).encode()])
        with self._lock:
            for index, (handle, _) in enumerate(members):
                entry = self.attempts.get(handle)
                entry.job_id = "%s_%d" % (job_id, index) if len(members) > 1 else job_id
                entry.exits = job.exit_dir
                self._live[entry.job_id] = entry
            self._changed.notify_all()
        stopped = [self.attempts.get(h).job_id for h, _ in members if self.attempts.cancelled(h)]
        self.commands.cancel(stopped)  # cancelled while it was being submitted

    # following

    def _poll_loop(self) -> None:
        """Every ``RECORD_SECONDS``, the run's exit folders are listed: a clean exit record ends a job at
        once. ``squeue`` (one call for every job) is asked when due, the wait between calls growing by half
        while nothing ends, up to ``poll_max``, and soon after a job recorded a failure, for Slurm's word."""
        delay, due = self.poll_min, 0.0
        while True:
            with self._lock:
                if self._closed:
                    return
                if not self._live:
                    self._changed.wait()
                    delay, due = self.poll_min, 0.0
                    continue
                failing = any(job.record is not None and job.record[0] != 0 for job in self._live.values())
            now = time.monotonic()
            states: Optional[Mapping[str, JobState]] = None
            asked = now >= due or (failing and now >= due - delay + self.poll_min)
            if asked:
                try:
                    states = self.commands.queue()
                except SlurmError:
                    states = None  # the controller is away: look again later, and lose nobody meanwhile
            ended = self._look(states)
            for job in ended:
                threading.Thread(target=self._finish, args=(job,), daemon=True).start()
            if asked:
                delay = self.poll_min if ended else min(self.poll_max, delay * 1.5)
                due = time.monotonic() + delay
            with self._lock:
                if not self._closed:
                    self._changed.wait(RECORD_SECONDS)

    def _look(self, states: Optional[Mapping[str, JobState]]) -> List[_Job]:
        """The live jobs that ended, each with its exit record and Slurm's state."""
        with self._lock:
            live = list(self._live.values())
        records: Dict[str, set] = {}
        for folder in {job.exits for job in live}:
            try:
                records[folder] = set(os.listdir(folder))
            except OSError:
                records[folder] = set()
        ended = []
        for job in live:
            if job.job_id in records.get(job.exits, ()):
                job.record = _read_record(os.path.join(job.exits, job.job_id))
            if states is not None:
                job.state = states.get(job.job_id, job.state)
                job.missing = 0 if job.job_id in states else job.missing + 1
            if self._has_ended(job, states):
                ended.append(job)
        with self._lock:
            for job in ended:
                self._live.pop(job.job_id, None)
        return ended

    @staticmethod
    def _has_ended(job: _Job, states: Optional[Mapping[str, JobState]]) -> bool:
        """A clean exit record ends a job at once; a failed one waits (a few polls) for Slurm's state,
        which says TIMEOUT or PREEMPTED where the record only has the exit code of the stop."""
        if job.record is not None and job.record[0] == 0:
            return True
        if states is None:
            return False
        if job.state is not None and job.state.ended and job.job_id in states:
            return True
        if job.record is not None:
            job.waited += 1
            return job.waited > GONE_POLLS
        return job.missing > GONE_POLLS  # Slurm forgot it, and it left no record

    def _finish(self, job: _Job) -> None:
        try:
            self._bring_logs_home(job)
        except Exception:
            pass  # logs are a convenience; the result must still be reported
        self.attempts.finish(self._result(job))

    def _result(self, job: _Job) -> TaskResult:
        handle, spec = job.handle, job.spec
        code, oom = job.record if job.record is not None else (None, False)
        slurm = job.state.state if job.state is not None else ""
        if self.attempts.cancelled(handle) is not None:
            return TaskResult(handle, TaskState.KILLED, code)  # finish reports the cancellation's state
        stderr = self.local_log_paths(spec)[1]
        if oom or slurm == "OUT_OF_MEMORY" or (code == 137 and OOM_NOTE in stderr_tail(stderr, 5)):
            limit = self.shapes[spec.step].memory
            return TaskResult(
                handle, TaskState.OOM, code, "killed: out of memory (limit %s MiB)" % (limit or "the job's")
            )
        if code == 0 and slurm not in DEATHS:  # the last state seen may predate the job's start
            return TaskResult(handle, TaskState.SUCCEEDED, 0)
        if slurm in DEATHS and slurm != "FAILED":
            state, why = DEATHS[slurm]
            limit = (
                " (--time=%s)" % self.shapes[spec.step].time
                if slurm == "TIMEOUT" and self.shapes[spec.step].time
                else ""
            )
            message = "Slurm job %s %s%s: %s" % (job.job_id, why, limit, slurm)
            return TaskResult(handle, state, code, message + stderr_tail(stderr))
        if code is None:
            what = "ended %s" % slurm if slurm else "is no longer known to Slurm"
            why = " (%s)" % job.state.reason if job.state is not None and job.state.reason else ""
            message = "Slurm job %s %s%s and left no exit record%s" % (job.job_id, what, why, stderr_tail(stderr))
            if not stderr_tail(stderr):
                message += "; its output files are in %s" % os.path.join(os.path.dirname(job.exits), "logs")
            return TaskResult(handle, TaskState.LOST, None, message)
        return TaskResult(
            handle,
            TaskState.FAILED,
            code,
            "Slurm job %s exited with code %d%s" % (job.job_id, code, stderr_tail(stderr)),
        )

    def _bring_logs_home(self, job: _Job) -> None:
        """The task's logs (uploaded to the store by the job) → the local files the console follows;
        when the task never wrote any, Slurm's own output files of the job say why."""
        spec = job.spec
        local = self.local_log_paths(spec)
        keys = [log_key(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt, s) for s in ("stdout", "stderr")]
        if self.store.exists(keys[1]) or self.store.exists(keys[0]):
            for key, path in zip(keys, local):
                if self.store.exists(key):
                    _write(path, bytes(self.store.get(key)))
            return
        base = os.path.dirname(job.exits)
        stem = job.job_id if "_" in job.job_id else job.job_id
        for suffix, key, path in zip(("out", "err"), keys, local):
            found = os.path.join(base, "logs", "%s.%s" % (stem, suffix))
            if os.path.exists(found):
                with open(found, "rb") as handle:
                    data = handle.read()
                if data:
                    self.store.put(key, [data])
                    _write(path, data)

    def poll(self, timeout: float) -> List[TaskResult]:
        return self.attempts.poll(timeout)

    # stopping

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        with self._lock:
            entry = self.attempts.get(handle)
            if not self.attempts.cancel(handle, state, message):
                return
            unsent = any(h == handle for h, _ in self._pending)
            if unsent:
                self._pending = [(h, s) for h, s in self._pending if h != handle]
        if unsent or not entry.job_id:
            if unsent:
                self.attempts.finish(TaskResult(handle, state, None))
            return  # being submitted: _send cancels it once it has an id
        self.commands.cancel([entry.job_id])

    def close(self) -> None:
        """Cancel every job still queued or running, and stop following them."""
        with self._lock:
            self._closed = True
            live = [job.job_id for job in self._live.values() if job.job_id]
            self._changed.notify_all()
        self.commands.cancel(live)
        for handle in list(self.attempts.live()):
            self.attempts.finish(TaskResult(handle, TaskState.KILLED, None, "stopped: the run ended"))

    def stats(self) -> Dict[str, object]:
        return {"slurm_calls": self.commands.counts()}

    def _beat_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                beats = list(self._runs.values())
            for beat in beats:
                _touch(beat)
            with self._lock:
                if not self._closed:
                    self._changed.wait(beat_seconds(self.stale))


def job_name(spec: TaskSpec, size: int) -> str:
    """Slurm shows job names in squeue: flow, step and task, letters, digits, - and _ only."""
    raw = "orch-%s-%s-%s%s" % (spec.flow, spec.step, spec.task_id, "-x%d" % size if size > 1 else "")
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:100]


def _read_record(path: str) -> Optional[Tuple[int, bool]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return exit_record(handle.read())
    except OSError:
        return None


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except FileNotFoundError:
        _write(path, b"")


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Atomically: a reader (a node, the console) sees the whole file or none of it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = "%s.tmp-%d-%d" % (path, os.getpid(), threading.get_ident())
    with open(temp, "wb") as handle:
        handle.write(data)
    os.chmod(temp, mode)
    os.replace(temp, path)
