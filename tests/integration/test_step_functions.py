"""AWS Step Functions end to end, offline: moto executes the state machine, its Batch runs every job as
a real container, images come from a real registry on loopback, runs land in moto's S3."""

from __future__ import annotations

import json

import boto3
import pytest

from orchestrator import Flow
from tests.conftest import FLOWS
from tests.sfn_infra import (
    CredentialsEndpoint,
    execute_state_machines,
    explain,
    normalise_like_aws,
    stderr_logs,
    wait_for,
)

SFN_FLOWS = FLOWS / "sfn"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def sfn_world(batch_world, moto_server):
    execute_state_machines(moto_server)
    normalise_like_aws()
    endpoint = CredentialsEndpoint()
    yield batch_world, endpoint
    endpoint.stop()


@pytest.fixture
def on_sfn(sfn_world, monkeypatch, tmp_path, capsys):
    """``cli(*args)`` runs orch's CLI against moto with a fresh store prefix; returns (code, out, err)."""
    from orchestrator import client as orch_client
    from orchestrator.cli.main import main

    (infra, registry), credentials = sfn_world
    prefix = "sfn-%s" % tmp_path.name
    store = "s3://orch-batch/%s" % prefix
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "no-config.json"))
    monkeypatch.setenv("ORCH_BATCH_QUEUE", infra.queue)
    monkeypatch.setenv("ORCH_REGISTRY", registry.host)
    monkeypatch.setenv("ORCH_S3_ROOT", store)
    monkeypatch.setenv("ORCH_SFN_ROLE", "arn:aws:iam::%s:role/orch-sfn" % ACCOUNT)
    monkeypatch.setenv("ORCH_EVENTS_ROLE", "arn:aws:iam::%s:role/orch-events" % ACCOUNT)
    monkeypatch.setenv("ORCH_JOB_CREDENTIALS_URI", credentials.url)
    monkeypatch.delenv("ORCH_STORE", raising=False)
    orch_client.metadata(store)
    orch_client.namespace(None)

    def cli(*args: str) -> tuple:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    cli.store, cli.prefix = store, prefix
    yield cli
    orch_client.reset()


def _execution_arn(name: str, execution: str) -> str:
    return "arn:aws:states:us-east-1:%s:execution:%s:%s" % (ACCOUNT, name, execution)


def test_create_trigger_and_read_back_a_foreach_run(on_sfn):
    flow = str(SFN_FLOWS / "sfn_foreach_flow.py")
    code, out, err = on_sfn("step-functions", "create", flow)
    assert code == 0, err
    assert "Deployed SfnForeachFlow to AWS Step Functions as SfnForeachFlow." in out
    sfn = boto3.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=_machine_arn("SfnForeachFlow"))
    definition = json.loads(machine["definition"])
    foreach = definition["States"]["start-foreach"]
    assert foreach["Type"] == "Map" and foreach["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert foreach["ItemProcessor"]["States"]["square"]["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    assert definition["States"]["fork-branches"]["Type"] == "Parallel"
    assert "testing" not in machine["definition"]  # no credential in the definition

    code, out, err = on_sfn("step-functions", "trigger", flow, "--alpha", "3")
    assert code == 0, err
    run_id = out.split("SfnForeachFlow/")[1].split()[0]
    assert run_id.startswith("sfn-")
    done = wait_for(sfn, _execution_arn("SfnForeachFlow", run_id[4:]))
    assert done["status"] == "SUCCEEDED", explain(sfn, done) + stderr_logs("orch-batch", on_sfn.prefix)

    run = Flow("SfnForeachFlow")[run_id]
    assert run.successful and run.finished
    assert run.data.total == 3 * sum(i * i for i in range(5))
    assert run.data.sides == ["left", "right"]
    assert run["square"].task.data.task_seen.startswith("2-")
    assert len(list(run["square"])) == 5
    assert run["start"].task.data.started_by is None
    assert any(t.startswith("production:") for t in run.system_tags)


def _machine_arn(name: str) -> str:
    return "arn:aws:states:us-east-1:%s:stateMachine:%s" % (ACCOUNT, name)
