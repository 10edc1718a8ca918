"""The pure parts of Batch support: array indexes, job naming and definitions, --with, config, polling."""

from __future__ import annotations

import json
import threading
import time

import pytest

from orchestrator.backends.batch.entry import array_index
from orchestrator.backends.batch.executor import (
    BatchApi,
    BatchExecutor,
    StepJob,
    job_definition_name,
    job_definition_request,
    job_name,
    run_config,
)
from orchestrator.config import Config
from orchestrator.errors import UsageError
from orchestrator.executors.base import TaskState
from orchestrator.graph.overlay import apply_with, parse_with
from orchestrator.task.spec import TaskSpec


def test_array_index_from_variable_or_job_id_suffix():
    assert array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "7", "AWS_BATCH_JOB_ID": "abc:3"}) == 7
    assert array_index({"AWS_BATCH_JOB_ID": "f3b1-22:12"}) == 12  # moto: no variable, id ends in :N
    assert array_index({"AWS_BATCH_JOB_ID": "f3b1-22"}) == 0
    assert array_index({}) == 0


def _spec(step="train", task="7", attempt=0, flow="My.Flow") -> TaskSpec:
    return TaskSpec(
        flow=flow,
        run_id="1",
        step=step,
        task_id=task,
        attempt=attempt,
        store_url="s3://b/p",
        code_dir="",
        flow_file="f.py",
    )


def test_job_names_are_valid_and_definitions_are_keyed_by_image_resources_and_role():
    name = job_name(_spec(), 20)
    assert name == "orch-My_Flow-train-7-0-x20"
    assert len(job_name(_spec(flow="F" * 200), 1)) == 128
    a = StepJob(image="reg/orch-env@sha256:1", queue="q", python="/opt/env/bin/python", vcpus=2, memory=1024)
    assert job_definition_name(a) == job_definition_name(StepJob(**{**a.__dict__, "queue": "other"}))
    assert job_definition_name(a) != job_definition_name(StepJob(**{**a.__dict__, "memory": 2048}))
    assert job_definition_name(a) != job_definition_name(StepJob(**{**a.__dict__, "role": "arn:aws:iam::1:role/x"}))
    request = job_definition_request("n", StepJob(**{**a.__dict__, "gpus": 1, "role": "arn:r"}))
    props = request["containerProperties"]
    assert props["command"] == ["/opt/env/bin/python", "-m", "orchestrator.task", "--entry", "batch"]
    assert {"type": "GPU", "value": "1"} in props["resourceRequirements"]
    assert props["jobRoleArn"] == "arn:r"
    assert props["environment"] == []  # nothing, least of all credentials, is baked into definitions


def test_with_adds_a_decorator_to_steps_lacking_it(tmp_path):
    from orchestrator.authoring.loader import load_flow

    flow = tmp_path / "f.py"
    flow.write_text(
        "from orchestrator import FlowSpec, batch, step\n"
        "class F(FlowSpec):\n"
        "    @batch(cpu=8)\n    @step\n    def start(self):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    graph = apply_with(load_flow(str(flow)).graph, [parse_with("batch:cpu=2,memory=1024")])
    assert graph["start"].decorator("batch").cpu == 8  # its own arguments win
    assert graph["end"].decorator("batch").cpu == 2 and graph["end"].decorator("batch").memory == 1024
    with pytest.raises(UsageError, match="no step decorator named 'bach'"):
        parse_with("bach")
    with pytest.raises(UsageError, match="unknown argument 'cpus'"):
        parse_with("batch:cpus=2")


def test_config_file_and_environment(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"aws": {"s3_root": "s3://b/root", "batch_queue": "q1", "region": "eu-west-1"}}))
    config = Config.from_env({"ORCH_CONFIG": str(path), "ORCH_BATCH_QUEUE": "q2"})
    assert config.aws.batch_queue == "q2" and config.aws.origin("batch_queue") == "env ORCH_BATCH_QUEUE"
    assert config.aws.region == "eu-west-1" and config.aws.origin("region") == "file"
    assert run_config(config).store_url == "s3://b/root"  # no --store: a Batch run uses the S3 root
    given = Config.from_env({"ORCH_CONFIG": str(path), "ORCH_STORE": "s3://other/x"})
    assert run_config(given).store_url == "s3://other/x"
    path.write_text("{not json")
    with pytest.raises(Exception, match="Cannot read the config file"):
        Config.from_env({"ORCH_CONFIG": str(path)})


class _FakeBatch:
    """Jobs finish after ``runtime`` seconds; counts calls like the real API would see them."""

    def __init__(self, runtime: float, fail_first: int = 0) -> None:
        self.runtime, self.jobs, self.lock = runtime, {}, threading.Lock()
        self.terminated = []

    def describe_job_definitions(self, **_):
        return {"jobDefinitions": []}

    def register_job_definition(self, **request):
        return {"jobDefinitionArn": "arn:def/" + request["jobDefinitionName"]}

    def submit_job(self, **request):
        job_id = "job%d" % len(self.jobs)
        size = request.get("arrayProperties", {}).get("size")
        with self.lock:
            for child in ["%s:%d" % (job_id, i) for i in range(size)] if size else [job_id]:
                self.jobs[child] = time.monotonic()
        return {"jobId": job_id}

    def describe_jobs(self, jobs):
        now = time.monotonic()
        return {
            "jobs": [
                {"jobId": j, "status": "SUCCEEDED" if now - self.jobs[j] >= self.runtime else "RUNNING"} for j in jobs
            ]
        }

    def terminate_job(self, jobId, reason):
        self.terminated.append(jobId)
        self.jobs[jobId] = float("inf")


class _Backend:
    def __init__(self):
        self.data = {}

    def put(self, key, chunks, if_absent=False):
        self.data[key] = b"".join(bytes(c) for c in chunks)
        return True

    def exists(self, key):
        return key in self.data

    def get(self, key):
        return bytearray(self.data[key])


def _executor(fake, tmp_path):
    job = StepJob(image="i", queue="q", python="p")
    return BatchExecutor(
        BatchApi(fake, None),
        {"train": job},
        _Backend(),
        {"ORCH_STORE": "s3://b/p"},
        lambda spec: (str(tmp_path / "out"), str(tmp_path / "err")),
        poll_range=(0.05, 0.5),
    )


def test_a_burst_of_submits_is_one_array_job_and_polls_are_shared(tmp_path):
    fake = _FakeBatch(runtime=0.3)
    executor = _executor(fake, tmp_path)
    handles = [executor.submit(_spec(task=str(i))) for i in range(20)]
    executor.flush()
    results = []
    deadline = time.monotonic() + 10
    while len(results) < 20 and time.monotonic() < deadline:
        results += executor.poll(0.2)
    executor.close()
    assert sorted(r.handle for r in results) == sorted(handles)
    assert all(r.state is TaskState.SUCCEEDED for r in results)
    assert executor.api.calls["submit_job"] == 1
    assert executor.api.job_calls() <= 2 * 20
    assert executor.api.calls["describe_jobs"] <= 8  # one call covers all 20; backoff while they run


def test_cancel_terminates_the_job_and_reports_the_given_state(tmp_path):
    fake = _FakeBatch(runtime=60)
    executor = _executor(fake, tmp_path)
    handle = executor.submit(_spec())
    executor.flush()
    executor.cancel(handle, TaskState.TIMED_OUT, "timed out after 1 seconds (@timeout)")
    assert fake.terminated == ["job0"]
    executor.close()


def test_transient_errors_are_retried_with_backoff():
    class Throttled(Exception):
        response = {"Error": {"Code": "TooManyRequestsException"}}

    class Flaky:
        calls = 0

        def describe_jobs(self, jobs):
            Flaky.calls += 1
            if Flaky.calls < 3:
                raise Throttled()
            return {"jobs": []}

    api = BatchApi(Flaky(), None)
    api._retrying.wait = lambda retry_state: 0
    assert api.call(api.batch, "describe_jobs", jobs=["x"]) == {"jobs": []}
    assert Flaky.calls == 3


def test_configure_aws_writes_the_file_and_show_hides_secrets(tmp_path, monkeypatch, capsys):
    from orchestrator.cli.main import main

    path = tmp_path / "orch" / "config.json"
    monkeypatch.setenv("ORCH_CONFIG", str(path))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    monkeypatch.delenv("ORCH_BATCH_QUEUE", raising=False)
    args = ["configure", "aws", "--s3-root", "s3://bucket/orch", "--queue", "q", "--registry", "127.0.0.1:5000"]
    assert main(args) == 0
    assert json.loads(path.read_text())["aws"] == {
        "s3_root": "s3://bucket/orch",
        "batch_queue": "q",
        "registry": "127.0.0.1:5000",
    }
    capsys.readouterr()
    assert main(["configure", "show"]) == 0
    shown = capsys.readouterr().out
    assert "s3://bucket/orch" in shown and "(file)" in shown
    assert "very-secret-value" not in shown
    assert main(["configure", "aws", "--s3-root", "bucket/orch"]) == 2  # not an s3:// URL


def test_ecr_registry_logs_in_and_creates_the_repository_once(moto_server):
    import boto3

    from orchestrator.images.registry import resolve_registry

    ecr = boto3.client("ecr")
    first = resolve_registry("ecr", lambda: ecr)
    again = resolve_registry(None, lambda: ecr)  # no setting means ECR too
    assert first.ecr and first.auth["username"] == "AWS" and first.auth["password"]
    assert first.repository.endswith(".amazonaws.com/orch-env") and again.repository == first.repository
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert names.count("orch-env") == 1


def test_a_parallel_step_on_batch_is_a_clear_error_before_anything_is_built():
    from orchestrator.authoring.loader import load_flow
    from orchestrator.backends.batch import executor as batch
    from orchestrator.config import Config
    from orchestrator.errors import UsageError
    from orchestrator.executors.base import SetupRequest
    from tests.conftest import FLOWS

    loaded = load_flow(str(FLOWS / "differential" / "diff_parallel_flow.py"))
    steps = tuple(n.name for n in loaded.graph)
    request = SetupRequest(loaded.graph, loaded.name, ".", steps, {}, Config.from_env(), lambda text: None)
    with pytest.raises(UsageError, match="Step 'train' is @parallel, and orch cannot run it on AWS Batch yet"):
        batch.prepare(request)
