"""The Batch and CloudWatch Logs calls orch makes (retried, counted), and how jobs are shaped and named.

Pure except for ``BatchApi.call``: job definitions are named by the hash of
what they contain, so one is found and reused instead of registered again.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from ...task.spec import TaskSpec

TRANSIENT = (
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "ServerException",
    "ServiceUnavailable",
    "InternalFailure",
)


@dataclass(frozen=True)
class StepJob:
    """How one step's attempts run on Batch: image (by digest), queue, resources, the python inside."""

    image: str
    queue: str
    python: str
    vcpus: float = 1.0
    memory: int = 4096  # MiB
    gpus: int = 0
    timeout: Optional[int] = None  # seconds, from @timeout: also set on the job as a backstop
    role: Optional[str] = None  # IAM role ARN the job runs as: @batch(iam_role=...) or the configured one


def _transient(err: BaseException) -> bool:
    code = (getattr(err, "response", None) or {}).get("Error", {}).get("Code", "")
    name = type(err).__name__
    return code in TRANSIENT or name in ("EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError")


class AwsCalls:
    """AWS calls retried with backoff on throttling and transient errors, and counted by operation."""

    def __init__(self, attempts: int = 8) -> None:
        import tenacity

        self.calls: Counter = Counter()
        self._lock = threading.Lock()
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient),
            wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=20),
            stop=tenacity.stop_after_attempt(attempts),
            reraise=True,
        )

    def call(self, client: Any, operation: str, **kwargs: Any) -> Any:
        def once() -> Any:
            with self._lock:
                self.calls[operation] += 1
            return getattr(client, operation)(**kwargs)

        return self._retrying(once)


class BatchApi(AwsCalls):
    """The few Batch and CloudWatch Logs calls orch makes, retried on throttling, and counted."""

    def __init__(self, batch: Any, logs: Any, attempts: int = 8) -> None:
        super().__init__(attempts)
        self.batch, self.logs = batch, logs

    def job_calls(self) -> int:
        """Batch calls made for jobs (submit, describe, list, terminate): the per-task budget's numerator."""
        return sum(
            n for op, n in self.calls.items() if op in ("submit_job", "describe_jobs", "list_jobs", "terminate_job")
        )


COMMAND = ("-m", "orchestrator.task", "--entry", "batch")  # the job runs .entry.main in the image


def job_definition_name(job: StepJob, command: Tuple[str, ...] = COMMAND) -> str:
    """One definition per (image, resources, role, command), named by their hash, so it is found and reused."""
    key = json.dumps([job.image, job.python, job.vcpus, job.memory, job.gpus, job.role, list(command)], sort_keys=True)
    return "orch-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def ensure_definition(api: BatchApi, job: StepJob, command: Tuple[str, ...] = COMMAND) -> str:
    """The ARN of the job definition for ``job``: the active one of its name, else a new registration."""
    name = job_definition_name(job, command)
    found = api.call(api.batch, "describe_job_definitions", jobDefinitionName=name, status="ACTIVE")
    active = sorted(found.get("jobDefinitions", []), key=lambda d: d.get("revision", 0))
    if active:
        return active[-1]["jobDefinitionArn"]
    return api.call(api.batch, "register_job_definition", **job_definition_request(name, job, command))[
        "jobDefinitionArn"
    ]


def job_definition_request(name: str, job: StepJob, command: Tuple[str, ...] = COMMAND) -> Dict[str, Any]:
    requirements = [
        {"type": "VCPU", "value": ("%g" % job.vcpus)},
        {"type": "MEMORY", "value": str(int(job.memory))},
    ]
    if job.gpus:
        requirements.append({"type": "GPU", "value": str(job.gpus)})
    properties: Dict[str, Any] = {
        "image": job.image,
        "command": [job.python, *command],
        "resourceRequirements": requirements,
        "environment": [],
    }
    if job.role:
        properties["jobRoleArn"] = job.role
    return {"jobDefinitionName": name, "type": "container", "containerProperties": properties}


def job_name(spec: TaskSpec, size: int) -> str:
    """Batch job names allow letters, digits, - and _, up to 128 characters."""
    raw = "orch-%s-%s-%s-%s%s" % (spec.flow, spec.step, spec.task_id, spec.attempt, "-x%d" % size if size > 1 else "")
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:128]
