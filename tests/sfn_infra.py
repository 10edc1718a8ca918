"""What a Step Functions test needs besides the Batch world: execution on in moto, and job credentials.

moto runs a state machine's executions for real once its config says so,
submitting each ``batch:submitJob.sync`` job to its Batch, which runs it as
a local container. A real Batch job gets credentials for its role from the
ECS agent's endpoint; here a loopback server plays that agent, so no key is
ever written into a state machine or a job definition.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict


def execute_state_machines(endpoint: str) -> None:
    request = urllib.request.Request(
        endpoint + "/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()


class _Credentials(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        body = json.dumps(
            {"AccessKeyId": "testing", "SecretAccessKey": "testing", "Token": "testing", "Expiration": expires}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class CredentialsEndpoint:
    """The ECS agent's credentials endpoint, as a job on real Batch reaches it, on a loopback port."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Credentials)
        self.url = "http://127.0.0.1:%d/v2/credentials/orch-test" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


def wait_for(sfn: Any, execution_arn: str, seconds: float = 300) -> Dict[str, Any]:
    """The execution once it has ended (or after ``seconds``, still running)."""
    deadline = time.monotonic() + seconds
    while True:
        found = sfn.describe_execution(executionArn=execution_arn)
        if found["status"] != "RUNNING" or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def normalise_like_aws() -> None:
    """Make moto's service integrations take and give AWS's PascalCase, as Step Functions does.

    moto 5.2's port of LocalStack's interpreter left ``_normalise_parameters``
    and ``_normalise_response`` as stubs, so ``batch:submitJob.sync`` with the
    documented ``JobName``/``JobQueue``/``ContainerOverrides`` fails in moto
    (botocore: KeyError 'JobName') while AWS accepts it. This fills them in as
    LocalStack does, from botocore's service models, in the test process that
    runs the moto server; orch's state machines keep AWS's documented form.
    """
    from botocore.session import get_session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )
    from moto.stepfunctions.parser.utils import camel_to_snake_case

    session = get_session()

    def operation(task: Any, service: Any, action: Any) -> Any:
        model = session.get_service_model(task._get_boto_service_name(service))
        wanted = task._get_boto_service_action(action)
        for name in model.operation_names:
            if camel_to_snake_case(name) == wanted:
                return model.operation_model(name)
        return None

    def parameters(self: Any, parameters: dict, boto_service_name: Any = None, service_action_name: Any = None) -> None:
        found = operation(self, boto_service_name, service_action_name)
        if found is not None and found.input_shape is not None:
            self._to_boto_request(parameters, found.input_shape)

    def response(self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
        found = operation(self, boto_service_name, service_action_name)
        if found is not None and found.output_shape is not None:
            self._from_boto_response(response, found.output_shape)

    StateTaskService._normalise_parameters = parameters
    StateTaskService._normalise_response = response


def explain(sfn: Any, execution: Dict[str, Any]) -> str:
    """Why an execution ended as it did: its error, and the output of the Batch job that failed."""
    import boto3

    events = sfn.get_execution_history(executionArn=execution["executionArn"], reverseOrder=True)["events"]
    failed = next((e for e in events if e["type"] == "TaskFailed"), {})
    cause = (failed.get("taskFailedEventDetails") or {}).get("cause") or execution.get("cause") or ""
    try:
        job = json.loads(cause)
    except ValueError:
        return "%s: %s %s" % (execution["status"], execution.get("error"), cause[:2000])
    stream = (job.get("Container") or {}).get("LogStreamName")
    lines = []
    if stream:
        logs = boto3.client("logs").get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)
        lines = [e["message"] for e in logs["events"]]
    return "%s: job %s of step %s failed:\n%s" % (
        execution["status"],
        job.get("JobName"),
        [e["Value"] for e in job["Container"]["Environment"] if e["Name"] == "ORCH_SFN_STEP"],
        "\n".join(lines[-40:]),
    )


def stderr_logs(bucket: str, prefix: str) -> str:
    """Every task's stderr under a store prefix: what a failed execution's jobs said."""
    import boto3

    s3 = boto3.client("s3")
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    texts = []
    for item in found:
        if item["Key"].endswith("stderr.log") or "/logs/" in item["Key"] and "stderr" in item["Key"]:
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode(errors="replace")
            texts.append("== %s\n%s" % (item["Key"], body[-2000:]))
    return "\n".join(texts) or "(no task logs under %s)" % prefix


def deliver_to_state_machines() -> None:
    """Let moto's EventBridge start a rule's Step Functions targets, as AWS does.

    moto 5.2 matches a published event against the rules, then raises
    NotImplementedError for any target that is a state machine (a 500 to the
    publisher). This starts the execution instead, with the target's
    ``Input``, else the event itself, as EventBridge would. Schedules still
    never fire in moto: a test starts those with the rule's input.
    """
    import boto3
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        machines = [t for t in self.targets if ":states:" in t["Arn"]]
        if self.scheduled_expression:  # a schedule matches no event on AWS (moto's empty pattern matches all)
            return None
        if not machines or not self.event_pattern.matches_event(original_event):
            return original(self, original_event, transform_input)
        others = [t for t in self.targets if t not in machines]
        if others:
            saved, self.targets = self.targets, others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved
        client = boto3.client("stepfunctions")
        for target in machines:
            given = target.get("Input") or json.dumps(original_event, default=str)
            client.start_execution(stateMachineArn=target["Arn"], name=uuid.uuid4().hex, input=given)

    Rule.send_to_targets = send_to_targets
