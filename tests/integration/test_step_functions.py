"""AWS Step Functions end to end, offline: moto executes the state machine, its Batch runs every job as
a real container, images come from a real registry on loopback, runs land in moto's S3."""

from __future__ import annotations

import json

import boto3

from orchestrator import Flow
from tests.conftest import FLOWS
from tests.integration.conftest import MOTO_ACCOUNT as ACCOUNT
from tests.sfn_infra import (
    explain,
    stderr_logs,
    wait_for,
)

SFN_FLOWS = FLOWS / "sfn"


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
    assert run.data.left_attempt == 1  # @retry: attempt 0 failed, attempt 1 ran in the same job
    assert run["left"].task.current_attempt == 1 and run["left"].task.successful
    assert run["square"].task.data.task_seen.startswith("2-")
    assert len(list(run["square"])) == 5
    assert run["start"].task.data.started_by is None
    assert any(t.startswith("production:") for t in run.system_tags)


def _machine_arn(name: str) -> str:
    return "arn:aws:states:us-east-1:%s:stateMachine:%s" % (ACCOUNT, name)


def _wait_run(on_sfn, name: str, out: str, flow: str) -> tuple:
    """(execution description, run id) of the run ``trigger`` printed, once it has ended."""
    run_id = out.split("%s/" % flow)[1].split()[0]
    sfn = boto3.client("stepfunctions")
    return wait_for(sfn, _execution_arn(name, run_id[len("sfn-") :])), run_id


def test_a_failed_production_run_resumes_here(on_sfn, tmp_path):
    flow = tmp_path / "sfn_fail_flow.py"
    flow.write_text((SFN_FLOWS / "sfn_fail_flow.py").read_text())
    assert on_sfn("step-functions", "create", str(flow))[0] == 0
    code, out, err = on_sfn("step-functions", "trigger", str(flow))
    assert code == 0, err
    done, run_id = _wait_run(on_sfn, "SfnFailFlow", out, "SfnFailFlow")
    assert done["status"] == "FAILED"
    run = Flow("SfnFailFlow")[run_id]
    assert not run.successful and not run.finished  # Metaflow's rule: its end task never finished
    done_key = "%s/flows/SfnFailFlow/runs/%s/done.json" % (on_sfn.prefix, run_id)
    ended = json.loads(boto3.client("s3").get_object(Bucket="orch-batch", Key=done_key)["Body"].read())
    assert ended["status"] == "failed" and ended["failures"][0]["task"] == "SfnFailFlow/%s/work/2" % run_id
    assert "the model blew up" in str(run["work"].task.exception)
    code, out, err = on_sfn("step-functions", "list-runs", str(flow), "--failed")
    assert "SfnFailFlow/%s  FAILED" % run_id in out

    flow.write_text(flow.read_text().replace('        raise RuntimeError("the model blew up")\n', ""))
    code, out, err = on_sfn("resume", str(flow), "--origin-run-id", run_id, "--store", on_sfn.store)
    assert code == 0, err
    resumed = Flow("SfnFailFlow").latest_run
    assert resumed.id != run_id and resumed.successful
    assert resumed.data.answer == 42
    assert resumed._record.origin_run_id == run_id
    assert resumed["start"].task.origin_pathspec == "SfnFailFlow/%s/start/1" % run_id  # reused, not rerun


def test_schedule_and_trigger_rules_and_a_fired_event(on_sfn):
    flow = str(SFN_FLOWS / "sfn_events_flow.py")
    code, out, err = on_sfn("step-functions", "create", flow)
    assert code == 0, err
    assert "EventBridge rule orch-SfnEventsFlow-schedule starts it." in out
    events = boto3.client("events")
    schedule = events.describe_rule(Name="orch-SfnEventsFlow-schedule")
    assert schedule["ScheduleExpression"] == "cron(0 6 * * ? *)"
    rule = events.describe_rule(Name="orch-SfnEventsFlow-events")
    assert json.loads(rule["EventPattern"]) == {"source": ["orch"], "detail-type": ["data_ready"]}
    for name in ("orch-SfnEventsFlow-schedule", "orch-SfnEventsFlow-events"):
        (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
        assert target["Arn"] == _machine_arn("SfnEventsFlow")
        assert target["RoleArn"] == "arn:aws:iam::%s:role/orch-events" % ACCOUNT
    scheduled_input = events.list_targets_by_rule(Rule="orch-SfnEventsFlow-schedule")["Targets"][0]["Input"]

    code, out, err = on_sfn("events", "publish", "data_ready", "--payload", "row_count=21")
    assert code == 0 and "Published event data_ready" in out, err
    sfn = boto3.client("stepfunctions")
    (fired,) = sfn.list_executions(stateMachineArn=_machine_arn("SfnEventsFlow"))["executions"]
    # moto never runs a schedule: start the machine as the rule would, with the rule's input
    scheduled = sfn.start_execution(stateMachineArn=_machine_arn("SfnEventsFlow"), name="sched", input=scheduled_input)
    for execution in (fired, scheduled):
        done = wait_for(sfn, execution["executionArn"])
        assert done["status"] == "SUCCEEDED", explain(sfn, done)
    run = Flow("SfnEventsFlow")["sfn-" + fired["name"]]
    assert run.data.doubled == 42 and run.data.fired_by == "data_ready"
    assert run.trigger.event.name == "data_ready" and run.trigger.event.type == "event"
    assert Flow("SfnEventsFlow")["sfn-sched"].data.doubled == 2  # the schedule runs with the defaults

    code, out, err = on_sfn("step-functions", "delete", flow)
    assert code == 0, err
    assert not [r for r in events.list_rules(NamePrefix="orch-SfnEventsFlow")["Rules"]]
    assert "SfnEventsFlow" not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]


def test_a_finished_flow_starts_the_next(on_sfn):
    upstream, downstream = str(SFN_FLOWS / "sfn_upstream_flow.py"), str(SFN_FLOWS / "sfn_downstream_flow.py")
    for flow in (upstream, downstream):
        code, out, err = on_sfn("step-functions", "create", flow)
        assert code == 0, err
    events = boto3.client("events")
    pattern = json.loads(events.describe_rule(Name="orch-SfnDownstreamFlow-finish")["EventPattern"])
    assert pattern == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [_machine_arn("SfnUpstreamFlow")]},
    }
    code, out, err = on_sfn("step-functions", "trigger", upstream)
    done, run_id = _wait_run(on_sfn, "SfnUpstreamFlow", out, "SfnUpstreamFlow")
    assert done["status"] == "SUCCEEDED", explain(boto3.client("stepfunctions"), done)
    event = {  # what Step Functions sends EventBridge when the upstream execution succeeds
        "version": "0",
        "id": "0f9e-finish",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "time": "2026-12-07T07:00:00Z",
        "detail": {
            "executionArn": done["executionArn"],
            "stateMachineArn": _machine_arn("SfnUpstreamFlow"),
            "name": done["name"],
            "status": "SUCCEEDED",
        },
    }
    sfn = boto3.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=_machine_arn("SfnDownstreamFlow"), input=json.dumps(event))
    finished = wait_for(sfn, started["executionArn"])
    assert finished["status"] == "SUCCEEDED", explain(sfn, finished)
    run = Flow("SfnDownstreamFlow").latest_run
    assert run.data.upstream == "SfnUpstreamFlow/%s" % run_id
    assert run.data.table == "scores-v2"


def test_the_deployer_api_with_a_nested_foreach_and_a_project_branch(on_sfn):
    from orchestrator import Deployer

    flow = str(SFN_FLOWS / "sfn_nested_flow.py")
    deployed = Deployer(flow, show_output=False, branch="nightly").step_functions(max_workers=3).create()
    assert deployed.name == "nested_demo.test.nightly.SfnNestedFlow"  # @project names it, as Metaflow
    triggered = deployed.trigger(scale=2)
    run = triggered.wait_for_run(timeout=300)
    assert triggered.status == "SUCCEEDED"
    assert run.successful and run.data.grid == [2 * v for v in (0, 1, 2, 10, 11, 12)]
    cells = sorted(t.data.where for t in run["cell"])
    assert cells == ["3-%d-%d" % (r, c) for r in range(2) for c in range(3)]  # step 3, outer then inner index
    assert "project_branch:test.nightly" in run.system_tags
    assert deployed.delete()


def test_only_json_is_a_definition_aws_accepts_and_a_switch_is_refused(on_sfn):
    sfn = boto3.client("stepfunctions")
    before = sfn.list_state_machines()["stateMachines"]
    code, out, err = on_sfn("step-functions", "create", str(SFN_FLOWS / "sfn_upstream_flow.py"), "--only-json")
    assert code == 0, err
    definition = json.loads(out)
    assert definition["StartAt"] == "orch-init"
    assert sfn.list_state_machines()["stateMachines"] == before  # nothing deployed
    role = "arn:aws:iam::%s:role/orch-sfn" % ACCOUNT
    made = sfn.create_state_machine(name="only-json-check", definition=out, roleArn=role)  # moto parses the ASL
    sfn.delete_state_machine(stateMachineArn=made["stateMachineArn"])

    code, out, err = on_sfn("step-functions", "create", str(SFN_FLOWS / "sfn_switch_flow.py"))
    assert code == 1
    assert "sfn_switch_flow.py:8: Step 'start' is a switch" in err
    assert "Traceback" not in err
