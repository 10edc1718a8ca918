"""AWS Batch end to end, offline: moto's Batch runs every job as a real container on the local engine,
images go to a real registry on loopback, artifacts to moto's S3. Nothing here is skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from orchestrator import Flow, Task
from orchestrator.images.engine import client
from tests.batch_infra import job_records
from tests.conftest import FLOWS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCH_FLOWS = FLOWS / "batch"


def _records(run_fixture, flow: str, run_id: str) -> list:
    import boto3

    return job_records(boto3.client("s3"), "orch-batch", run_fixture.prefix, flow, run_id)


def test_pandas_demo_with_batch(on_batch, offline_pypi, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code, out, err = on_batch(str(demo / "pypi_flow.py"), "--with", "batch")
    assert code == 0, err
    run = Flow("PandasVersionsPypiFlow").latest_run
    assert run.successful
    assert run["start"].task.data.old["version"] == "1.5.3"
    assert run["upgrade"].task.data.new["version"] == "2.2.3"
    assert run._record.executor == "batch"
    # every task ran in a Batch job, each from its step's image, pushed with the local image's digest
    engine = client()
    for step, env in run._record.environments.items():
        reference = env["batch_image"]
        repository, _, digest = reference.partition("@")
        local = engine.api.inspect_image(env["image"])
        assert reference in local["RepoDigests"]
        assert on_batch.registry.manifest_digest("orch-env", env["image"].split(":")[1]) == digest
        assert repository == "%s/orch-env" % on_batch.registry.host
        assert run[step].task.metadata_dict["aws-batch-job-id"]
    # a second run ships nothing: the registry already holds every image
    code, out, err = on_batch(str(demo / "pypi_flow.py"), "--with", "batch")
    assert code == 0, err
    assert "Pushed" not in out + err


def test_foreach_of_20_is_one_array_job(on_batch):
    code, out, err = on_batch(str(BATCH_FLOWS / "fanout_flow.py"), "--with", "batch", "--max-workers", "4")
    assert code == 0, err
    run = Flow("BatchFanoutFlow").latest_run
    assert run.data.total == sum(i * i for i in range(20))
    records = _records(on_batch, "BatchFanoutFlow", run.id)
    arrays = [r for r in records if r["tasks"][0].startswith("square/")]
    assert len(arrays) == 1 and arrays[0]["array_size"] == 20
    parent = arrays[0]["job_id"]
    assert run.data.jobs == sorted("%s:%d" % (parent, i) for i in range(20))  # each child saw its own index
    # API calls per task over the run: submit, describe (100 ids a call), list, terminate; logs excluded
    done = json.loads(_done_record(on_batch, "BatchFanoutFlow", run.id))
    calls = done["executor_stats"]["batch_api_calls"]
    job_calls = sum(calls.get(op, 0) for op in ("submit_job", "describe_jobs", "list_jobs", "terminate_job"))
    tasks = done["tasks_run"]
    assert tasks == 23
    assert job_calls <= 2 * tasks, calls


def _done_record(run_fixture, flow: str, run_id: str) -> bytes:
    import boto3

    key = "%s/flows/%s/runs/%s/done.json" % (run_fixture.prefix, flow, run_id)
    return boto3.client("s3").get_object(Bucket="orch-batch", Key=key)["Body"].read()


def test_retry_and_catch_on_batch(on_batch):
    code, out, err = on_batch(str(BATCH_FLOWS / "faults_flow.py"), "--with", "batch")
    assert code == 0, err
    run = Flow("BatchFaultsFlow").latest_run
    flaky = run["flaky"].task
    assert flaky.data.recovered_on == 1 and flaky.current_attempt == 1
    first = Task(flaky.pathspec, _attempt=0)
    assert "first attempt fails on purpose" in first.exception.exception
    assert "exit code 1" in out + err  # the failed job's exit code is reported
    assert "ValueError" in run.data.caught and "this step always fails" in run.data.caught


def test_hybrid_run_one_step_on_batch(on_batch):
    code, out, err = on_batch(str(BATCH_FLOWS / "hybrid_flow.py"))
    assert code == 0, err
    run = Flow("HybridFlow").latest_run
    here_start, on_batch_step, here_end = run.data.where
    assert here_start[1] is None and here_end[1] is None  # start and end ran on this machine
    assert on_batch_step[1] and on_batch_step[0] == 1000  # heavy ran in a Batch job, as the image's user
    assert run._record.executor == "local+batch"


def test_batch_needs_an_s3_store(tmp_path, capsys, monkeypatch):
    from orchestrator.cli.main import main

    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "none.json"))
    code = main(["run", str(BATCH_FLOWS / "hybrid_flow.py"), "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2
    assert "need an S3 store" in err and "orch configure aws --s3-root" in err
    assert "Traceback" not in err


def test_ctrl_c_terminates_the_runs_jobs(on_batch, batch_world, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import boto3

    infra, _ = batch_world
    batch = boto3.client("batch")
    before = {j["jobId"] for j in batch.list_jobs(jobQueue=infra.queue, jobStatus="RUNNING")["jobSummaryList"]}
    store = "s3://orch-batch/%s-sigint" % on_batch.prefix
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", str(BATCH_FLOWS / "sleepy_flow.py"), "--store", store]
        + ["--with", "batch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )
    deadline = time.monotonic() + 120
    running = set()
    while not running and time.monotonic() < deadline:
        time.sleep(0.5)
        listed = batch.list_jobs(jobQueue=infra.queue, jobStatus="RUNNING")["jobSummaryList"]
        running = {j["jobId"] for j in listed if j["jobName"].startswith("orch-SleepyBatchFlow-")} - before
    assert running, "the job never started: %s" % process.stderr.read1().decode() if process.poll() else ""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert b"stopped by SIGINT" in err
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        jobs = batch.describe_jobs(jobs=sorted(running))["jobs"]
        if all(j["status"] == "FAILED" for j in jobs):
            break
        time.sleep(0.5)
    assert [j["status"] for j in jobs] == ["FAILED"] * len(running)
    assert all("stopped" in j.get("statusReason", "") for j in jobs)


def test_timeout_terminates_the_job_and_its_logs_come_from_cloudwatch(on_batch):
    code, out, err = on_batch(str(BATCH_FLOWS / "timeout_flow.py"), "--with", "batch")
    assert code == 0, err
    run = Flow("BatchTimeoutFlow").latest_run
    assert "timed out after 8 seconds" in run.data.reason
    stuck = Task(run["stuck"].task.pathspec, _attempt=0)
    # the job was killed before it could upload its logs: they were copied from CloudWatch
    assert "before the timeout" in stuck.stdout


def test_environment_secrets_reach_batch_jobs_but_not_the_store(on_batch):
    import hashlib

    import boto3

    secret = "tok-5ecret-4ae1b7"
    code, out, err = on_batch(str(FLOWS / "reliability" / "secret_flow.py"), "--with", "batch")
    assert code == 0, err
    run = Flow("SecretFlow").latest_run
    assert run["start"].task.data.token_digest == hashlib.sha256(secret.encode()).hexdigest()
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="orch-batch", Prefix=on_batch.prefix + "/")["Contents"]]
    assert any("/jobs/" in k for k in keys)
    for key in keys:
        assert secret.encode() not in s3.get_object(Bucket="orch-batch", Key=key)["Body"].read(), key
    assert secret not in out + err


def test_aws_secrets_are_fetched_by_the_job_and_stored_nowhere(on_batch):
    """The job's supervisor reads AWS Secrets Manager itself: the specs file in S3 names the secret,
    never a value; inline secrets come from the code package."""
    import hashlib
    import json

    import boto3

    manager = boto3.client("secretsmanager")
    try:
        manager.delete_secret(SecretId="orch-test/db", ForceDeleteWithoutRecovery=True)
    except manager.exceptions.ResourceNotFoundException:
        pass
    manager.create_secret(
        Name="orch-test/db", SecretString=json.dumps({"DB_USER": "alice-7f3e", "db-pass": "s3cr3t-91c0"})
    )
    code, out, err = on_batch(str(FLOWS / "run" / "secrets_flow.py"), "--with", "batch")
    assert code == 0, err
    seen = Flow("SecretsFlow").latest_run["start"].task.data.seen
    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert seen == {
        "secret_1": sha("Pizza is a vegetable."),
        "DB_USER": sha("alice-7f3e"),
        "db_pass": sha("s3cr3t-91c0"),
    }
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="orch-batch", Prefix=on_batch.prefix + "/")["Contents"]]
    specs = [k for k in keys if "/jobs/" in k]
    assert specs and any(b"orch-test/db" in s3.get_object(Bucket="orch-batch", Key=k)["Body"].read() for k in specs)
    for key in keys:
        body = s3.get_object(Bucket="orch-batch", Key=key)["Body"].read()
        assert b"alice-7f3e" not in body and b"s3cr3t-91c0" not in body and b"Pizza is a vegetable." not in body, key


def test_recursion_through_a_switch_on_batch(on_batch):
    """Each round of the loop is a Batch job of its own; the switch's choice comes back through S3."""
    code, out, err = on_batch(str(FLOWS / "run" / "recursion_flow.py"), "--with", "batch")
    assert code == 0, err
    run = Flow("RecursionFlow").latest_run
    assert run.data.rounds == 3 and sorted(t.data.round for t in run["check"]) == [1, 2, 3]
