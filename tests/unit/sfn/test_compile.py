"""The pure parts of the Step Functions deployer: the definition, the record's rules, events, refusals."""

from __future__ import annotations

import json

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.deployers.step_functions import asl, events
from orchestrator.deployers.step_functions.record import (
    Deployment,
    foreach_frames,
    foreach_path,
    input_rules,
    parse_foreach,
)
from orchestrator.deployers.step_functions.refuse import refuse
from orchestrator.errors import FlowDefinitionError
from tests.conftest import FLOWS

SFN = FLOWS / "sfn"


def _graph(name: str):
    return load_flow(str(SFN / name)).graph


def _machine(graph) -> asl.Machine:
    steps = {node.name: asl.StepJob("def-" + node.name, "queue") for node in graph}
    return asl.Machine("F", "KEY", "bucket", "pre/flows/F/runs", (("ORCH_STORE", "s3://bucket/pre"),), steps, 7)


def test_a_foreach_is_a_distributed_map_reading_the_split_tasks_items():
    graph = _graph("sfn_foreach_flow.py")
    body = asl.definition(graph, _machine(graph))
    states = body["States"]
    assert body["StartAt"] == "orch-init" and states["orch-init"]["Next"] == "start"
    assert states["start"]["Next"] == "start-foreach"
    mapped = states["start-foreach"]
    assert mapped["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert mapped["MaxConcurrency"] == 7 and mapped["Next"] == "gather" and mapped["ResultPath"] is None
    reader = mapped["ItemReader"]["Parameters"]
    assert reader["Bucket"] == "bucket"
    assert reader["Key.$"] == "States.Format('pre/flows/F/runs/sfn-{}/sfn/foreach/1{}.json', $.run, $.foreach)"
    assert mapped["ItemSelector"]["foreach.$"] == "States.Format('{}-{}', $.foreach, $$.Map.Item.Value)"
    assert mapped["ItemProcessor"]["States"]["square"]["End"] is True
    assert states["fork-branches"]["Type"] == "Parallel" and states["fork-branches"]["Next"] == "meet"
    assert [b["StartAt"] for b in states["fork-branches"]["Branches"]] == ["left", "right"]
    assert states["end"]["End"] is True
    task = states["gather"]
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    assert task["Parameters"]["JobDefinition"] == "def-gather" and task["ResultPath"] is None
    names = [e["Name"] for e in task["Parameters"]["ContainerOverrides"]["Environment"]]
    assert names[:3] == ["ORCH_STORE", "ORCH_SFN_DEPLOYMENT", "ORCH_SFN_STEP"]
    assert len(json.dumps(body)) < 20_000  # far under Step Functions' 1 MB definition limit


def test_a_task_names_its_parents_from_its_step_and_foreach_indices():
    graph = _graph("sfn_foreach_flow.py")
    assert input_rules(graph, "start") == ()
    assert input_rules(graph, "square") == (("start", "up"),)
    assert input_rules(graph, "gather") == (("square", "down"),)
    assert input_rules(graph, "meet") == (("left", "same"), ("right", "same"))
    assert foreach_frames(graph, "square") == ("start",)
    assert foreach_frames(graph, "gather") == ()  # a join is outside the split it joins
    assert asl.task_id(3, foreach_path((2, 0))) == "3-2-0"
    assert parse_foreach("-2-0") == (2, 0) and parse_foreach("") == ()
    with pytest.raises(SystemExit):
        parse_foreach("2-0")


def test_a_deployment_record_round_trips():
    record = Deployment("F", "F", "code", "f.py", "me", {}, events=(("data_ready", (("rows", "n"),)),))
    again = Deployment.from_json(record.to_json())
    assert again == record


def test_schedules_and_event_patterns():
    assert events.schedule_expression("0 6 * * ? *") == "cron(0 6 * * ? *)"
    assert events.schedule_expression("30 2 * * 1") == "cron(30 2 ? * 1 *)"  # a Unix cron gains ? and the year
    assert events.rule_name("proj.user.alice.MyFlow", "schedule") == "orch-proj.user.alice.MyFlow-schedule"
    long = events.rule_name("x" * 80, "events")
    assert len(long) <= 64 and long.endswith("-events")
    graph = _graph("sfn_events_flow.py")
    rules = events.rules_of(graph, "arn:aws:states:r:1:stateMachine:SfnEventsFlow", None)
    assert rules["schedule"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert json.loads(rules["events"]["EventPattern"])["detail-type"] == ["data_ready"]
    down = events.rules_of(_graph("sfn_downstream_flow.py"), "arn:aws:states:r:1:stateMachine:SfnDownstreamFlow", None)
    pattern = json.loads(down["finish"]["EventPattern"])
    assert pattern["detail"]["stateMachineArn"] == ["arn:aws:states:r:1:stateMachine:SfnUpstreamFlow"]


def test_an_event_maps_its_payload_onto_parameters():
    record = Deployment("F", "F", "code", "f.py", "me", {}, events=(("data_ready", (("rows", "row_count"),)),))
    event = {"id": "e1", "detail-type": "data_ready", "time": "2026-12-07T06:00:00Z", "detail": {"row_count": 21}}
    params, trigger = events.trigger_of(record, event)
    assert params == {"rows": 21}
    assert trigger["type"] == "event" and trigger["name"] == "data_ready" and trigger["timestamp"] > 0
    finished = {
        "detail-type": events.FINISHED,
        "detail": {"stateMachineArn": "arn:aws:states:r:1:stateMachine:p.prod.Up", "name": "abc"},
    }
    assert events.trigger_of(record, finished)[1]["run"] == "Up/sfn-abc"


def test_what_cannot_be_deployed_is_refused_with_its_line():
    with pytest.raises(FlowDefinitionError) as caught:
        refuse(_graph("sfn_switch_flow.py"))
    assert caught.value.line == 8 and "is a switch" in caught.value.headline
    refuse(_graph("sfn_foreach_flow.py"))  # a foreach, a static split and @retry deploy
    refuse(_graph("sfn_nested_flow.py"))  # a foreach inside a foreach


def test_nested_foreaches_nest_maps():
    graph = _graph("sfn_nested_flow.py")
    states = asl.definition(graph, _machine(graph))["States"]
    outer = states["start-foreach"]["ItemProcessor"]["States"]
    assert outer["row"]["Next"] == "row-foreach" and outer["row-foreach"]["Next"] == "row_done"
    assert outer["row-foreach"]["ItemProcessor"]["States"]["cell"]["End"] is True
    assert outer["row_done"]["End"] is True and states["start-foreach"]["Next"] == "all_done"
    assert input_rules(graph, "all_done") == (("row_done", "down"),)
    assert foreach_frames(graph, "cell") == ("start", "row") and foreach_frames(graph, "row_done") == ("start",)


def test_create_without_the_state_machine_role_says_how_to_set_it(monkeypatch, tmp_path, capsys):
    from orchestrator.cli.main import main

    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setenv("ORCH_S3_ROOT", "s3://some-bucket/orch")
    for name in ("ORCH_SFN_ROLE", "METAFLOW_SFN_IAM_ROLE", "ORCH_STORE"):
        monkeypatch.delenv(name, raising=False)
    code = main(["step-functions", "create", str(SFN / "sfn_upstream_flow.py")])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "needs the IAM role the state machine runs as" in err and "orch configure aws --sfn-role" in err


def test_forwarded_keys_are_refused_for_deployed_jobs(monkeypatch, tmp_path, capsys):
    from orchestrator.cli.main import main

    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setenv("ORCH_S3_ROOT", "s3://some-bucket/orch")
    monkeypatch.setenv("ORCH_SFN_ROLE", "arn:aws:iam::123456789012:role/orch-sfn")
    monkeypatch.setenv("ORCH_BATCH_FORWARD_CREDENTIALS", "1")
    for name in ("ORCH_BATCH_JOB_ROLE", "ORCH_JOB_CREDENTIALS_URI", "ORCH_STORE"):
        monkeypatch.delenv(name, raising=False)
    code = main(["step-functions", "create", str(SFN / "sfn_upstream_flow.py")])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "would be written into the state machine" in err and "--job-credentials-uri" in err
