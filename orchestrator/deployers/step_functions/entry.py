"""Inside a Step Functions job: become the task the state names, run it, then tell the run.

``python -m orchestrator.deployers.step_functions.entry`` is every job's
command. The state machine gives the job its step, its execution (the run
is ``sfn-NAME``), its foreach indices and its attempt (``RetryCount``); the
deployment record, read hash-verified from the store, gives the rest. Only
``start`` creates the run record (its parameters come from the execution's
input: ``trigger``'s, a schedule's, or the event that fired a rule); a
foreach split writes the items its Map reads; ``end`` writes the run's done
record, and so does a task that fails its last attempt.

Standard library only, plus the runtime layer's boto3 through the S3 store.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...authoring.flowmodule import import_flow_class
from ...authoring.run_values import current_fields, jsonable, parameter_values
from ...ids import AttemptRef, Frame
from ...states import Status, TaskState
from ...store.artifacts import ArtifactRecord, save_artifact
from ...store.backend import Backend
from ...store.cas import ContentAddressedStore
from ...store.factory import open_backend
from ...store.metadata import MetadataStore, run_prefix
from ...store.names import check_name
from ...store.records import AttemptEnd, CodeRef, Death, RunEnd, RunFailure, RunRecord
from ...task.job import fetch_code, run_found
from ...task.spec import TaskSpec
from .events import trigger_of
from .record import Deployment, StepRule, foreach_path, parse_foreach, step_of

PRIVATE = ("ORCH_SFN_DEPLOYMENT", "ORCH_SFN_STEP", "ORCH_SFN_RUN", "ORCH_SFN_FOREACH", "ORCH_SFN_ATTEMPT")
PRIVATE += ("ORCH_SFN_INPUT",)
RUN_PREFIX = "sfn-"
MAX_ATTEMPTS = 100


def items_key(flow: str, run_id: str, split_task: str) -> str:
    """The store key (below the store's prefix) of a foreach split's items: ``asl.foreach_items_key``."""
    return "%s/sfn/foreach/%s.json" % (run_prefix(flow, run_id), split_task)


@dataclass(frozen=True)
class Job:
    """This job's task, and what it needs to know afterwards."""

    deployment: Deployment
    rule: StepRule
    spec: TaskSpec


def committed(meta: MetadataStore, flow: str, run: str, step: str, task: str) -> AttemptRef:
    """The attempt of a parent task that succeeded (the newest, after retries)."""
    found = None
    for attempt in range(MAX_ATTEMPTS):
        end = meta.attempt_end(flow, run, step, task, attempt)
        if end is None:
            if meta.attempt_start(flow, run, step, task, attempt) is None:
                break
            continue
        if end.succeeded:
            found = AttemptRef(step, task, attempt)
    if found is None:
        raise SystemExit("orch: the parent task %s/%s/%s of this job has no successful attempt" % (run, step, task))
    return found


def num_splits(meta: MetadataStore, flow: str, run: str, ref: AttemptRef) -> int:
    end = meta.attempt_end(flow, run, ref.step, ref.task, ref.attempt)
    return int(end.num_splits or 0) if end else 0


def read_job(backend: Backend, environ: Mapping[str, str]) -> Job:
    cas = ContentAddressedStore(backend)
    deployment = Deployment.from_json(bytes(cas.load_blob(environ["ORCH_SFN_DEPLOYMENT"], "the deployment")).decode())
    step = environ.get("ORCH_SFN_STEP", "")
    rule = step_of(deployment, step)
    run_id = check_name("run", RUN_PREFIX + environ.get("ORCH_SFN_RUN", ""))
    indices = parse_foreach(environ.get("ORCH_SFN_FOREACH", ""))
    attempt = int(environ.get("ORCH_SFN_ATTEMPT") or 0)
    meta = MetadataStore(backend)
    if step == "start" and meta.run_record(deployment.flow, run_id) is None:
        create_run(backend, deployment, run_id, environ.get("ORCH_SFN_INPUT") or "{}")
    flow = deployment.flow
    frames: List[Frame] = []
    for level, split in enumerate(rule.frames):
        split_rule = deployment.steps[split]
        split_task = "%d%s" % (split_rule.ordinal, foreach_path(indices[:level]))
        ref = committed(meta, flow, run_id, split, split_task)
        var = split_rule.spec.get("foreach_var") or ""
        frames.append(Frame(split, var, indices[level], num_splits(meta, flow, run_id, ref)))
    inputs = []
    for parent, kind in rule.inputs:
        ordinal = deployment.steps[parent].ordinal
        if kind == "same":
            inputs.append(committed(meta, flow, run_id, parent, "%d%s" % (ordinal, foreach_path(indices))))
        elif kind == "up":
            inputs.append(committed(meta, flow, run_id, parent, "%d%s" % (ordinal, foreach_path(indices[:-1]))))
        else:  # down: every task of the foreach body's last step
            split = deployment.steps[parent].frames[-1]
            split_ref = committed(
                meta, flow, run_id, split, "%d%s" % (deployment.steps[split].ordinal, foreach_path(indices))
            )
            for index in range(num_splits(meta, flow, run_id, split_ref)):
                task = "%d%s" % (ordinal, foreach_path(indices + (index,)))
                inputs.append(committed(meta, flow, run_id, parent, task))
    spec = replace(
        TaskSpec.from_json(json.dumps(rule.spec)),
        run_id=run_id,
        task_id="%d%s" % (rule.ordinal, foreach_path(indices)),
        attempt=attempt,
        last_attempt=attempt >= rule.retries,
        inputs=tuple(inputs),
        foreach_stack=tuple(frames),
        store_url=environ["ORCH_STORE"],
    )
    return Job(deployment, rule, spec)


def parameters_of(deployment: Deployment, given: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(raw parameters, trigger record) from the execution's input: ``{"Parameters": {...}}`` from
    ``trigger`` or a schedule, or the EventBridge event a rule passed on."""
    if not isinstance(given, dict):
        return {}, {}
    if "detail-type" in given:
        return trigger_of(deployment, given)
    params = given.get("Parameters") or {}
    if isinstance(params, str):
        params = json.loads(params or "{}")
    return dict(params), {}


def create_run(backend: Backend, deployment: Deployment, run_id: str, given: str) -> None:
    """The run record, from the execution's input: parameters typed and saved as ``orch run`` does."""
    cas = ContentAddressedStore(backend)
    raw, trigger = parameters_of(deployment, json.loads(given))
    code_dir = fetch_code(backend, deployment.code_key)
    cls = import_flow_class(code_dir, deployment.flow_file, deployment.flow)
    with current_fields(deployment.project):
        values = parameter_values(cls, deployment.flow, raw, {}, deployment.username)
    record = RunRecord(
        flow=deployment.flow,
        run_id=run_id,
        created_at=time.time(),
        user=deployment.username,
        tags=deployment.tags,
        system_tags=deployment.system_tags,
        project=dict(deployment.project),
        parameters={attr: save_artifact(cas, attr, value) for attr, value in values.items()},
        parameter_values={attr: jsonable(value) for attr, value in values.items()},
        constants={k: ArtifactRecord.from_json(v) for k, v in deployment.constants.items()},
        configs={k: ArtifactRecord.from_json(v) for k, v in deployment.configs.items()},
        code=CodeRef(deployment.code_key, deployment.flow_file),
        executor="step-functions",
        graph=dict(deployment.graph),
        environments=dict(deployment.environments),
        trigger=trigger,
    )
    MetadataStore(backend).create_run(record)  # False: a retried start made it already


def finish(backend: Backend, job: Job, code: int) -> int:
    """After the task: its death if it recorded no end, the foreach items, the run's done record."""
    spec, meta = job.spec, MetadataStore(backend)
    end = meta.attempt_end(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt)
    if end is None:
        message = "the task exited with code %d without recording its end (see its stderr)" % code
        died = Death(TaskState.OOM if code == 137 else TaskState.FAILED, message)
        end = AttemptEnd(spec.attempt, Status.FAILED, time.time(), died=died)
        meta.finish_attempt(spec.flow, spec.run_id, spec.step, spec.task_id, end)
    if not end.succeeded:
        if spec.last_attempt:
            run_failed(meta, spec, end.error_text() or "the task failed")
        return code or 1
    if end.num_splits is not None and spec.foreach_var is not None:  # a foreach split: its Map's items
        count = int(end.num_splits or 0)
        if count > job.deployment.max_num_splits:
            message = "Foreach in step %s yielded %d child steps, more than the maximum of %d (--max-num-splits)." % (
                spec.step,
                count,
                job.deployment.max_num_splits,
            )
            print("orch: " + message, file=sys.stderr)
            run_failed(meta, spec, message)
            return 1
        backend.put(items_key(spec.flow, spec.run_id, spec.task_id), [json.dumps(list(range(count))).encode()])
    if spec.step == "end":
        meta.finish_run(spec.flow, spec.run_id, RunEnd(status=Status.SUCCEEDED, finished_at=time.time()))
    return 0


def run_failed(meta: MetadataStore, spec: TaskSpec, message: str) -> None:
    failure = RunFailure(spec.pathspec, TaskState.FAILED, message)
    meta.finish_run(spec.flow, spec.run_id, RunEnd(status=Status.FAILED, finished_at=time.time(), failures=(failure,)))


def main(environ: Optional[Mapping[str, str]] = None) -> int:
    """Run the task, and its ``@retry`` attempts in this same job, one after another: as Metaflow's
    Step Functions jobs retry through Batch, at once and without ``minutes_between_retries``."""
    env = dict(os.environ if environ is None else environ)
    found: Dict[str, Any] = {"attempt": int(env.get("ORCH_SFN_ATTEMPT") or 0)}

    def find(backend: Backend) -> TaskSpec:
        if "job" not in found:
            found["job"] = read_job(backend, env)
        job, attempt = found["job"], found["attempt"]
        found["spec"] = replace(job.spec, attempt=attempt, last_attempt=attempt >= job.rule.retries)
        return found["spec"]

    while True:
        code = run_found(find, env, private=PRIVATE)
        if "job" not in found:
            return code or 1
        job = replace(found["job"], spec=found["spec"])
        result = finish(open_backend(env["ORCH_STORE"]), job, code)
        if result == 0 or job.spec.last_attempt:
            return result
        print(
            "orch: attempt %d of %s failed; retrying (@retry)" % (job.spec.attempt, job.spec.pathspec), file=sys.stderr
        )
        found["attempt"] += 1


if __name__ == "__main__":
    sys.exit(main())
