"""The AWS Batch executor: each task attempt a Batch job, each foreach one array job.

The local scheduler still drives the run, so dynamic foreach, retries,
``@catch`` and resume behave as they do on a laptop; this executor only
turns attempts into jobs and jobs back into results:

- ``submit`` queues an attempt and ``flush`` (called by the scheduler after
  each burst of submissions) sends them: tasks of one step that became ready
  together go out as one array job, whose children find their TaskSpec by
  index in a specs file in the S3 store.
- One poller thread follows every live job with ``describe_jobs``, 100 ids a
  call, backing off while nothing changes. Throttling and transient errors
  are retried with exponential backoff (tenacity).
- When a job ends, its logs are brought home: from the store, where the job
  uploads them, else from CloudWatch, into the store and the local log files
  the console follows.

Credentials never go into job definitions or images: jobs use their role,
or, when ``forward_credentials`` is set for emulators, per-job overrides.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ...config import AwsSettings, Config
from ...errors import UsageError
from ...executors.base import (
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
from ...store.backend import Backend
from ...store.metadata import log_key, run_prefix
from ...task.spec import TaskSpec
from .api import BatchApi, StepJob, ensure_definition, job_definition_name, job_definition_request, job_name

__all__ = ["BatchApi", "BatchExecutor", "BatchSetup", "StepJob", "job_definition_name", "job_definition_request"]
__all__ += ["job_name", "prepare"]

DESCRIBE_LIMIT = 100  # ids per describe_jobs call, the API's maximum
TERMINAL = ("SUCCEEDED", "FAILED")
DEFAULT_VCPUS = 1.0
DEFAULT_MEMORY = 4096  # MiB, as Metaflow's @batch


@dataclass
class _Job:
    """One submitted job (a single task or one child of an array)."""

    handle: str
    spec: TaskSpec
    job_id: str = ""
    status: str = "SUBMITTED"
    detail: Dict[str, Any] = field(default_factory=dict)
    submitted: float = 0.0  # monotonic
    delay: float = 0.0  # until its next look, growing while it runs
    next_look: float = 0.0


class BatchExecutor(Executor):
    name = "batch"

    def __init__(
        self,
        api: BatchApi,
        steps: Mapping[str, StepJob],
        backend: Backend,
        job_environment: Mapping[str, str],
        local_log_paths: Callable[[TaskSpec], Tuple[str, str]],
        poll_range: Tuple[float, float] = (1.0, 15.0),
    ) -> None:
        self.api = api
        self.steps = dict(steps)
        self.backend = backend
        self.job_environment = dict(job_environment)
        self.local_log_paths = local_log_paths
        self.poll_min, self.poll_max = poll_range
        self._pending: List[Tuple[str, TaskSpec]] = []
        self._live: Dict[str, _Job] = {}  # job id → job
        self._definitions: Dict[str, str] = {}
        self._lock = threading.RLock()
        self.attempts = Attempts("batch-", self._lock)  # handle → its job (pending jobs have no id yet)
        self._changed = threading.Condition(self._lock)  # new jobs, or closing
        self._durations: List[float] = []  # of finished jobs, submit to seen terminal
        self._closed = False
        self._poller = threading.Thread(target=self._poll_loop, daemon=True)
        self._poller.start()

    # submitting

    def submit(self, spec: TaskSpec) -> str:
        with self._lock:
            handle = self.attempts.open(spec)
            self.attempts.set(handle, _Job(handle, spec))
            self._pending.append((handle, spec))
        return handle

    def flush(self) -> None:
        """Send what was submitted since the last flush: siblings of one step as one array job."""
        with self._lock:
            pending, self._pending = self._pending, []
        groups: Dict[Tuple[str, int], List[Tuple[str, TaskSpec]]] = {}
        for handle, spec in pending:
            if self.attempts.cancelled(handle):
                continue
            groups.setdefault((spec.step, spec.attempt), []).append((handle, spec))
        for members in groups.values():
            try:
                self._send(members)
            except Exception as err:  # the queue or definition is wrong: every member fails, with the reason
                message = "could not submit to AWS Batch: %s" % err
                for handle, _ in members:
                    self.attempts.finish(TaskResult(handle, TaskState.FAILED, None, message))

    def _definition(self, job: StepJob) -> str:
        key = job_definition_name(job)
        if key not in self._definitions:
            self._definitions[key] = ensure_definition(self.api, job)
        return self._definitions[key]

    def _send(self, members: List[Tuple[str, TaskSpec]]) -> None:
        first = members[0][1]
        job = self.steps[first.step]
        name = job_name(first, len(members))
        specs_key = "%s/jobs/%s.json" % (run_prefix(first.flow, first.run_id), name)
        # @environment and @secrets values are secrets: the specs file leaves them out. The task takes
        # @environment and inline @secrets from the flow's code; the job fetches AWS secrets itself.
        shared = [json.loads(replace(s, env=(), code_env=True).to_json()) for _, s in members]
        self.backend.put(specs_key, [json.dumps(shared).encode()])
        environment = dict(self.job_environment, ORCH_BATCH_SPECS=specs_key)
        request: Dict[str, Any] = {
            "jobName": name,
            "jobQueue": job.queue,
            "jobDefinition": self._definition(job),
            "containerOverrides": {"environment": [{"name": k, "value": v} for k, v in sorted(environment.items())]},
        }
        if len(members) > 1:
            request["arrayProperties"] = {"size": len(members)}
        if job.timeout:
            request["timeout"] = {"attemptDurationSeconds": max(60, job.timeout + 60)}
        job_id = self.api.call(self.api.batch, "submit_job", **request)["jobId"]
        record = {
            "job_id": job_id,
            "job_name": name,
            "array_size": len(members) if len(members) > 1 else None,
            "queue": job.queue,
            "job_definition": request["jobDefinition"],
            "image": job.image,
            "tasks": [str(s.ref) for _, s in members],
            "submitted_at": time.time(),
        }
        self.backend.put(
            "%s/jobs/%s.submitted.json" % (run_prefix(first.flow, first.run_id), name), [json.dumps(record).encode()]
        )
        now, delay = time.monotonic(), self._first_delay()
        with self._lock:
            for index, (handle, _) in enumerate(members):
                entry = self.attempts.get(handle)
                entry.job_id = "%s:%d" % (job_id, index) if len(members) > 1 else job_id
                entry.submitted, entry.delay, entry.next_look = now, delay, now + delay
                self._live[entry.job_id] = entry
            self._changed.notify_all()
        for handle, _ in members:  # cancelled while it was being submitted
            if self.attempts.cancelled(handle):
                self._terminate(self.attempts.get(handle))

    # following

    def _first_delay(self) -> float:
        """When to first look at a new job: a little before the quickest recent job of this run ended.
        Jobs take seconds to minutes, so looking sooner only spends API calls."""
        recent = self._durations[-5:]
        guess = 0.8 * min(recent) if recent else self.poll_min
        return max(self.poll_min, min(self.poll_max, guess))

    def _poll_loop(self) -> None:
        """One describe_jobs call (100 ids each) covers every live job, whenever the earliest is due;
        a job still running is looked at again after 1.5 times its last wait, up to ``poll_max``."""
        while True:
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                due = min((job.next_look for job in self._live.values()), default=None)
                if due is None or due > now:
                    self._changed.wait(None if due is None else due - now)
                    continue
                ids = list(self._live)
            for start in range(0, len(ids), DESCRIBE_LIMIT):
                try:
                    found = self.api.call(self.api.batch, "describe_jobs", jobs=ids[start : start + DESCRIBE_LIMIT])
                except Exception:  # retried with backoff already: look again next round
                    continue
                for detail in found.get("jobs", []):
                    self._update(detail)
            with self._lock:
                now = time.monotonic()
                for job in self._live.values():
                    if job.next_look <= now:
                        job.delay = min(self.poll_max, job.delay * 1.5)
                        job.next_look = now + job.delay

    def _update(self, detail: Dict[str, Any]) -> None:
        with self._lock:
            entry = self._live.get(detail.get("jobId", ""))
            if entry is None:
                return
            entry.status, entry.detail = detail.get("status", entry.status), detail
            if entry.status not in TERMINAL:
                return
            del self._live[entry.job_id]
            self._durations.append(time.monotonic() - entry.submitted)
        threading.Thread(target=self._finish, args=(entry,), daemon=True).start()

    def _exit_code(self, entry: _Job) -> Optional[int]:
        """From describe_jobs; some emulators only give it in list_jobs, so ask that for failures."""
        code = (entry.detail.get("container") or {}).get("exitCode")
        if code is not None or entry.status != "FAILED":
            return code
        parent, colon, _ = entry.job_id.rpartition(":")
        try:
            if colon:
                listed = self.api.call(self.api.batch, "list_jobs", arrayJobId=parent, jobStatus="FAILED")
            else:
                listed = self.api.call(
                    self.api.batch,
                    "list_jobs",
                    jobQueue=self.steps[entry.spec.step].queue,
                    jobStatus="FAILED",
                    filters=[{"name": "JOB_NAME", "values": [entry.detail.get("jobName", "")]}],
                )
        except Exception:
            return None
        for summary in listed.get("jobSummaryList", []):
            if summary.get("jobId") == entry.job_id:
                return (summary.get("container") or {}).get("exitCode")
        return None

    def _finish(self, entry: _Job) -> None:
        spec = entry.spec
        try:
            self._bring_logs_home(entry)
        except Exception:
            pass  # logs are a convenience; the result must still be reported
        cancelled = self.attempts.cancelled(entry.handle)
        if entry.status == "SUCCEEDED":
            result = TaskResult(entry.handle, TaskState.SUCCEEDED, 0)
        else:
            code = self._exit_code(entry)
            reason = entry.detail.get("statusReason") or (entry.detail.get("container") or {}).get("reason") or ""
            if cancelled is not None:  # finish reports the cancellation's state and reason
                result = TaskResult(entry.handle, TaskState.KILLED, code)
            else:
                message = "Batch job %s failed" % entry.job_id
                message += (": %s" % reason if reason else "") + ("; exit code %d" % code if code is not None else "")
                result = TaskResult(entry.handle, TaskState.FAILED, code, message + self._stderr_tail(spec))
        self.attempts.finish(result)

    # logs

    def _bring_logs_home(self, entry: _Job) -> None:
        """Store logs (uploaded by the job) → local files for the console; else CloudWatch → both."""
        spec = entry.spec
        local = self.local_log_paths(spec)
        keys = [log_key(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt, s) for s in ("stdout", "stderr")]
        if self.backend.exists(keys[0]):
            for key, path in zip(keys, local):
                try:
                    _write(path, bytes(self.backend.get(key)))
                except Exception:
                    pass
            return
        text = self._cloudwatch(entry)
        if text:
            self.backend.put(keys[0], [text])
            _write(local[0], text)

    def _cloudwatch(self, entry: _Job) -> bytes:
        detail = entry.detail
        stream = (detail.get("container") or {}).get("logStreamName")
        if not stream:
            attempts = detail.get("attempts") or [{}]
            stream = (attempts[-1].get("container") or {}).get("logStreamName")
        if not stream:
            return b""
        lines, token = [], None
        while True:
            kwargs: Dict[str, Any] = {"logGroupName": "/aws/batch/job", "logStreamName": stream, "startFromHead": True}
            if token:
                kwargs["nextToken"] = token
            page = self.api.call(self.api.logs, "get_log_events", **kwargs)
            lines += [event["message"] for event in page.get("events", [])]
            if not page.get("events") or page.get("nextForwardToken") in (None, token):
                break
            token = page.get("nextForwardToken")
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def _stderr_tail(self, spec: TaskSpec) -> str:
        return stderr_tail(self.local_log_paths(spec)[1])

    # stopping

    def poll(self, timeout: float) -> List[TaskResult]:
        return self.attempts.poll(timeout)

    def _terminate(self, entry: _Job) -> None:
        reason = (self.attempts.cancelled(entry.handle) or (TaskState.KILLED, "stopped by orch"))[1]
        try:
            self.api.call(self.api.batch, "terminate_job", jobId=entry.job_id, reason=reason[:250] or "stopped by orch")
        except Exception:
            pass  # it ended meanwhile

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        with self._lock:
            entry = self.attempts.get(handle)
            if not self.attempts.cancel(handle, state, message):
                return
            unsent = any(h == handle for h, _ in self._pending)
            if unsent:
                self._pending = [(h, s) for h, s in self._pending if h != handle]
        if unsent:
            self.attempts.finish(TaskResult(handle, state, None))
        elif entry.job_id:
            self._terminate(entry)

    def stats(self) -> Dict[str, Any]:
        return {"batch_api_calls": dict(self.api.calls)}

    def close(self) -> None:
        """Terminate every job still live (Ctrl-C, a failed run), then stop following."""
        with self._lock:
            live = list(self._live.values())
        for entry in live:
            self.attempts.cancel(entry.handle, TaskState.KILLED, "stopped by orch")
            self._terminate(entry)
        with self._lock:
            self._closed = True
            self._changed.notify_all()
        self._poller.join(timeout=5)


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def run_config(config: Config) -> Config:
    """A run with steps on Batch keeps its store in the configured S3 root, unless one was given."""
    return config.with_store(config.aws.s3_root) if config.aws.s3_root else config


def require_s3_store(config: Config) -> None:
    if not config.store.is_s3:
        raise UsageError(
            "Steps on AWS Batch need an S3 store, and this run's store is the directory %s." % config.store.url,
            "Give one with --store s3://BUCKET/PREFIX (or ORCH_STORE), or for every run: "
            "orch configure aws --s3-root s3://BUCKET/PREFIX",
        )


def aws_client(service: str, aws: AwsSettings) -> Any:
    """A boto3 client with the configured region and endpoint passed in (nothing written to os.environ)."""
    from ...store.s3 import import_boto3

    return import_boto3().client(service, region_name=aws.region or None, endpoint_url=aws.endpoint_url or None)


def step_job(node: Any, config: Config, image: str, python: str) -> StepJob:
    batch, timeout, wanted = node.decorator("batch"), node.decorator("timeout"), resources_of(node)
    queue_name = (batch.queue if batch else None) or config.aws.batch_queue
    if not queue_name:
        raise UsageError(
            "Step '%s' runs on AWS Batch but no job queue is set." % node.name,
            "Set one with @batch(queue=...), ORCH_BATCH_QUEUE, or: orch configure aws --queue NAME",
        )
    return StepJob(
        image=image,
        queue=queue_name,
        python=python,
        vcpus=float(wanted.cpu or DEFAULT_VCPUS),
        memory=int(wanted.memory or DEFAULT_MEMORY),
        gpus=int(wanted.gpu or 0),
        timeout=timeout.total_seconds if timeout else None,
        role=(dict(batch.extra).get("iam_role") if batch else None) or config.aws.job_role,
    )


def job_environment(config: Config) -> Dict[str, str]:
    """What every job is told: the store, region and endpoint; the caller's keys only when asked to."""
    from ...store.s3 import import_boto3

    aws = config.aws
    session = import_boto3().session.Session(region_name=aws.region or None)
    env = {"ORCH_STORE": config.store.url}
    if session.region_name:
        env["AWS_DEFAULT_REGION"] = session.region_name
    if aws.endpoint_url:
        env["AWS_ENDPOINT_URL"] = aws.endpoint_url
    if aws.forward_credentials:
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            env.update(AWS_ACCESS_KEY_ID=frozen.access_key, AWS_SECRET_ACCESS_KEY=frozen.secret_key)
            if frozen.token:
                env["AWS_SESSION_TOKEN"] = frozen.token
    return env


@dataclass(frozen=True)
class BatchSetup(ExecutorSetup):
    """The Batch executor, prepared: each step's job shape, its image shipped to the registry."""

    steps: Tuple[str, ...]
    jobs: Mapping[str, StepJob]
    image_tags: Mapping[str, str] = field(default_factory=dict)  # step → local image tag, for the run record

    def env_records(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            step: dict(
                {"batch_image": job.image}, **({"image": self.image_tags[step]} if step in self.image_tags else {})
            )
            for step, job in self.jobs.items()
        }

    def create(self, place: RunPlace) -> BatchExecutor:
        aws = place.config.aws
        api = BatchApi(aws_client("batch", aws), aws_client("logs", aws))
        backend = place.backend
        return BatchExecutor(api, self.jobs, backend, job_environment(place.config), lambda s: s.log_files(backend))


def prepare(request: SetupRequest) -> BatchSetup:
    """Build each Batch step's image, ship it (once per tag) and record the job shape of every step."""
    from ...images.engine import client
    from ...images.ensure import ensure_step_images
    from ...images.registry import resolve_registry, ship

    config = request.config
    gangs = [step for step in request.steps if request.graph[step].decorator("parallel") is not None]
    if gangs:
        raise UsageError(
            "Step '%s' is @parallel, and orch cannot run it on AWS Batch yet: that needs a multi-node "
            "parallel job, which the Batch emulator orch is tested against (moto) cannot run." % gangs[0],
            "Run the @parallel step on this machine: give the other steps @batch instead of --with batch.",
        )
    require_s3_store(config)
    engine = client()
    plans = ensure_step_images(engine, request.locks_of_steps(), config.base_image, config.sources, request.notice)
    registry = None
    shipped: Dict[str, Any] = {}
    jobs: Dict[str, StepJob] = {}
    for step, spec in plans.items():
        node = request.graph[step]
        batch = node.decorator("batch")  # absent when the target was given for the whole run
        image = batch.image if batch is not None else None
        if image is None:
            if spec.tag not in shipped:
                if registry is None:
                    registry = resolve_registry(config.aws.registry, lambda: aws_client("ecr", config.aws))
                shipped[spec.tag] = ship(engine, spec.tag, registry)
                if shipped[spec.tag].pushed:
                    request.notice("Pushed %s to %s" % (spec.tag, shipped[spec.tag].reference))
            image = shipped[spec.tag].reference
        jobs[step] = step_job(node, config, image, spec.python)
    return BatchSetup(request.steps, jobs, {step: spec.tag for step, spec in plans.items()})
