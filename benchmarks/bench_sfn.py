"""A deployed flow on Step Functions against the same state machine of bare jobs, on moto, side by side.

From ``trigger`` to a finished execution of a five-task foreach (eight Batch jobs: start, five
children in a distributed Map, the join, end), against the very same definition whose every job
runs ``true`` in the same image: what Step Functions and Batch cost by themselves (moto executes
the machine and runs each job as a local container). Medians of alternating trials. Also the size
of the definition.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import tempfile
import time
import uuid
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, Callable, Dict, List

from benchmarks.metaflow_env import ROOT

FLOW = ROOT / "benchmarks" / "flows" / "sfn_foreach5_flow.py"
ROLE = "arn:aws:iam::123456789012:role/orch-sfn"


def _world(tmp: str) -> Dict[str, Any]:
    """moto (execution on, with the tests' two fixes), a Batch queue, a loopback registry, credentials."""
    from moto.server import ThreadedMotoServer

    from tests.batch_infra import LocalRegistry, free_port, make_batch_infra
    from tests.sfn_infra import (
        CredentialsEndpoint,
        deliver_to_state_machines,
        execute_state_machines,
        normalise_like_aws,
    )

    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MOTO_PORT=str(port),
        MOTO_DOCKER_NETWORK_MODE="host",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    infra = make_batch_infra(endpoint)
    execute_state_machines(endpoint)
    normalise_like_aws()
    deliver_to_state_machines()
    registry = LocalRegistry(os.path.join(tmp, "registry"))
    credentials = CredentialsEndpoint()
    import boto3

    boto3.client("s3").create_bucket(Bucket="orch-bench")
    os.environ.update(
        ORCH_CONFIG=os.path.join(tmp, "config.json"),
        ORCH_BATCH_QUEUE=infra.queue,
        ORCH_REGISTRY=registry.host,
        ORCH_S3_ROOT="s3://orch-bench/sfn",
        ORCH_SFN_ROLE=ROLE,
        ORCH_JOB_CREDENTIALS_URI=credentials.url,
    )
    return {"server": server, "registry": registry, "credentials": credentials}


def _cli(*args: str) -> str:
    from orchestrator.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    if code != 0:
        raise RuntimeError("orch %s failed: %s" % (" ".join(args), err.getvalue()))
    return out.getvalue()


def _until_done(sfn: Any, arn: str) -> str:
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            return status
        time.sleep(0.05)


def _bare_machine(sfn: Any, batch: Any, definition: Dict[str, Any]) -> str:
    """The deployed definition with every job replaced by ``true`` in the same image."""
    text = json.dumps(definition)
    for arn in sorted(set(_job_definitions(definition))):
        described = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"][0]
        image = described["containerProperties"]["image"]
        bare = batch.register_job_definition(
            jobDefinitionName="bare-" + described["jobDefinitionName"],
            type="container",
            containerProperties={"image": image, "command": ["true"], "vcpus": 1, "memory": 512},
        )["jobDefinitionArn"]
        text = text.replace(arn, bare)
    return sfn.create_state_machine(name="bare-floor", definition=text, roleArn=ROLE)["stateMachineArn"]


def _job_definitions(node: Any) -> List[str]:
    if isinstance(node, dict):
        found = [node["JobDefinition"]] if "JobDefinition" in node else []
        return found + [d for value in node.values() for d in _job_definitions(value)]
    if isinstance(node, list):
        return [d for value in node for d in _job_definitions(value)]
    return []


def _trial(start: Callable[[], str], sfn: Any) -> float:
    began = time.perf_counter()
    arn = start()
    status = _until_done(sfn, arn)
    if status != "SUCCEEDED":
        raise RuntimeError("execution %s ended %s" % (arn, status))
    return time.perf_counter() - began


def measure(trials: int = 3) -> List[str]:
    import boto3

    sfn, batch, s3 = boto3.client("stepfunctions"), boto3.client("batch"), boto3.client("s3")
    _cli("step-functions", "create", str(FLOW))
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=_machine_arn(sfn, "SfnForeach5Flow"))["definition"]
    )
    bare = _bare_machine(sfn, batch, definition)

    def orch() -> str:
        out = _cli("step-functions", "trigger", str(FLOW))
        name = out.split("SfnForeach5Flow/sfn-")[1].split()[0]
        return _machine_arn(sfn, "SfnForeach5Flow").replace(":stateMachine:", ":execution:") + ":" + name

    def floor() -> str:
        name = uuid.uuid4().hex  # its Map reads the items the split job would have written
        key = "sfn/flows/SfnForeach5Flow/runs/sfn-%s/sfn/foreach/1.json" % name
        s3.put_object(Bucket="orch-bench", Key=key, Body=b"[0, 1, 2, 3, 4]")
        return sfn.start_execution(stateMachineArn=bare, name=name, input="{}")["executionArn"]

    _trial(orch, sfn)  # the first run pays for pulling the image into the engine
    times: Dict[str, List[float]] = {"orch": [], "bare": []}
    for _ in range(trials):
        times["orch"].append(_trial(orch, sfn))
        times["bare"].append(_trial(floor, sfn))
    o, b = statistics.median(times["orch"]), statistics.median(times["bare"])
    size = len(json.dumps(definition))
    return [
        "%-38s orch %7.2fs   bare jobs, same machine %7.2fs   ratio x%.2f"
        % ("trigger -> done, foreach-5 on moto", o, b, o / b),
        "%-38s orch %s   bare %s" % ("  trials (s)", _list(times["orch"]), _list(times["bare"])),
        "%-38s %d bytes (%d states)" % ("state machine definition", size, _states(definition["States"])),
    ]


def _states(states: Dict[str, Any]) -> int:
    """States in a definition, those inside Parallel branches and Map processors included."""
    count = 0
    for state in states.values():
        count += 1
        for branch in state.get("Branches", []):
            count += _states(branch["States"])
        if "ItemProcessor" in state:
            count += _states(state["ItemProcessor"]["States"])
    return count


def _list(values: List[float]) -> str:
    return " ".join("%.2f" % v for v in values)


def _machine_arn(sfn: Any, name: str) -> str:
    return next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name)


def run() -> List[str]:
    with tempfile.TemporaryDirectory(prefix="orch-bench-sfn-") as tmp:
        world = _world(tmp)
        try:
            return measure()
        finally:
            world["credentials"].stop()
            world["registry"].stop()
            world["server"].stop()
