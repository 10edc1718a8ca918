"""EventBridge for a deployed flow: the rules ``create`` writes, and what a fired rule's event means.

- ``@schedule``: a rule with ``cron(...)`` (EventBridge schedules are UTC);
  its target starts the state machine with no parameters, so defaults apply.
- ``@trigger(event=NAME)``: a rule matching orch's events (``source``
  ``orch``, ``detail-type`` NAME), published by ``orch events publish``.
  The event itself is the execution's input; ``start`` maps its payload
  (``detail``) onto parameters as ``@trigger(parameters=...)`` says.
- ``@trigger_on_finish(flow=F)``: a rule on Step Functions' own "Execution
  Status Change" events for F's state machine reaching ``SUCCEEDED``.

Pure, and task-side for ``trigger_of``: standard library only.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple

SOURCE = "orch"  # the source of events ``orch events publish`` sends
FINISHED = "Step Functions Execution Status Change"


def rule_name(state_machine: str, kind: str) -> str:
    """``orch-NAME-KIND``, within EventBridge's 64 characters and alphabet."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", state_machine)
    name = "orch-%s-%s" % (base, kind)
    if len(name) > 64:
        digest = hashlib.sha256(state_machine.encode()).hexdigest()[:10]
        name = "orch-%s-%s-%s" % (base[: 64 - len(kind) - 17], digest, kind)
    return name


def schedule_expression(cron: str) -> str:
    """EventBridge's six-field cron; a five-field (Unix) one gains the year, and ``?`` where needed."""
    parts = cron.split()
    if len(parts) == 5:
        minute, hour, day, month, weekday = parts
        if day != "?" and weekday != "?":
            weekday = "?" if weekday == "*" else weekday
            day = "?" if weekday != "?" else day
        parts = [minute, hour, day, month, weekday, "*"]
    return "cron(%s)" % " ".join(parts)


def event_pattern(events: List[str]) -> Dict[str, Any]:
    return {"source": [SOURCE], "detail-type": sorted(events)}


def finish_pattern(state_machine_arns: List[str]) -> Dict[str, Any]:
    return {
        "source": ["aws.states"],
        "detail-type": [FINISHED],
        "detail": {"status": ["SUCCEEDED"], "stateMachineArn": sorted(state_machine_arns)},
    }


def _timestamp(text: Any) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def trigger_of(deployment: Any, event: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(raw parameters, the run's trigger record) from the EventBridge event that started the run."""
    detail = event.get("detail") or {}
    if isinstance(detail, str):
        detail = json.loads(detail or "{}")
    kind = str(event.get("detail-type", ""))
    common = {"id": str(event.get("id", "")), "timestamp": _timestamp(event.get("time"))}
    if kind == FINISHED:
        machine = str(detail.get("stateMachineArn", "")).rsplit(":", 1)[-1]
        flow = machine.rsplit(".", 1)[-1]
        run = "%s/sfn-%s" % (flow, detail.get("name", ""))
        return {}, dict(common, type="run", name=flow, run=run)
    mapping = dict(deployment.events).get(kind, ())
    params = {param: detail[field] for param, field in mapping if field in detail}
    return params, dict(common, type="event", name=kind)


def upstream_name(flow: Any, branch: Optional[str]) -> str:
    """The state machine of a ``@trigger_on_finish`` flow: ``project.branch.Flow`` within a project."""
    if flow.project:
        return "%s.%s.%s" % (flow.project, flow.branch or branch, flow.flow)
    return flow.flow


def rules_of(graph: Any, own_arn: str, branch: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """kind → the rule's ``put_rule`` arguments (and its target's ``input``), from the flow decorators."""
    rules: Dict[str, Dict[str, Any]] = {}
    schedule = graph.flow_decorator("schedule")
    if schedule is not None and schedule.cron_expression:
        rules["schedule"] = {
            "ScheduleExpression": schedule_expression(schedule.cron_expression),
            "input": {"Parameters": {}},
        }
    trigger = graph.flow_decorator("trigger")
    if trigger is not None:
        names = [str(e.name) for e in trigger.events]
        rules["events"] = {"EventPattern": json.dumps(event_pattern(names))}
    finish = graph.flow_decorator("trigger_on_finish")
    if finish is not None:
        head = own_arn.rsplit(":", 1)[0]
        arns = ["%s:%s" % (head, upstream_name(f, branch)) for f in finish.flows]
        rules["finish"] = {"EventPattern": json.dumps(finish_pattern(arns))}
    return rules


def publish(client: Any, name: str, payload: Mapping[str, Any]) -> str:
    """Send event ``name`` with ``payload`` to the default bus; returns its id."""
    sent = client.put_events(Entries=[{"Source": SOURCE, "DetailType": name, "Detail": json.dumps(dict(payload))}])
    entry = (sent.get("Entries") or [{}])[0]
    if sent.get("FailedEntryCount") or "EventId" not in entry:
        raise RuntimeError("EventBridge refused the event %s: %s" % (name, entry.get("ErrorMessage", entry)))
    return str(entry["EventId"])
