"""``@schedule``, ``@trigger`` and ``@trigger_on_finish``: when a deployed flow runs by itself.

They say nothing to a run started by hand: as in Metaflow, ``orch run``
records them and runs the flow as usual, and ``current.trigger`` is None.
A deployment (Step Functions) turns them into EventBridge rules. Their
arguments are checked, and normalised, as Metaflow checks them when a flow
is imported, so a mistake is a located error on any machine. Task-side code:
standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional, Tuple

from .argcheck import BadArgument, flag, text
from .decorator_base import Decorator

_CRON_FIELD = r"^[0-9A-Za-z*?,/\-#LW]+$"
_TIMEZONE = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"
_FLOW_NAME = r"^[A-Za-z0-9_]+$"


@dataclass(frozen=True)
class Schedule(Decorator):
    """Run the deployed flow on a schedule: ``cron`` (EventBridge's six fields, UTC), else weekly, hourly
    or daily (the default), checked in that order as Metaflow does."""

    NAME: ClassVar[str] = "schedule"
    IS_FLOW: ClassVar[bool] = True
    hourly: bool = False
    daily: bool = True
    weekly: bool = False
    cron: Optional[str] = None
    timezone: Optional[str] = None  # IANA, e.g. Europe/Paris

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        cron = text("cron", args["cron"])
        if cron is not None:
            parts = cron.split()
            if len(parts) not in (5, 6) or not all(re.match(_CRON_FIELD, part) for part in parts):
                raise BadArgument(
                    "cron",
                    "cron=%r is not a cron expression: give EventBridge's six fields "
                    "(minutes hours day-of-month month day-of-week year), e.g. '0 6 * * ? *'." % cron,
                )
            cron = " ".join(parts)
        timezone = text("timezone", args["timezone"])
        if timezone is not None and not re.match(_TIMEZONE, timezone):
            raise BadArgument("timezone", "timezone=%r is not an IANA time zone name, e.g. 'Europe/Paris'." % timezone)
        return {
            "hourly": bool(flag("hourly", args["hourly"])),
            "daily": bool(flag("daily", args["daily"])),
            "weekly": bool(flag("weekly", args["weekly"])),
            "cron": cron,
            "timezone": timezone,
        }

    @property
    def cron_expression(self) -> Optional[str]:
        """The schedule as a cron expression (Metaflow's choices), None when every option is off."""
        if self.cron:
            return self.cron
        if self.weekly:
            return "0 0 ? * SUN *"
        if self.hourly:
            return "0 * * * ? *"
        if self.daily:
            return "0 0 * * ? *"
        return None


@dataclass(frozen=True)
class TriggerEvent:
    """One event a flow waits for, and which of the flow's parameters its payload fields set."""

    name: Any  # a string, or a function of the deploy-time context returning one
    parameters: Tuple[Tuple[str, str], ...] = ()  # (parameter, payload field)


def _mapping(event: str, parameters: Any) -> Tuple[Tuple[str, str], ...]:
    """Metaflow's forms: {"param": "field"}, or ["same_name", ("param", "field"), ...]."""
    pairs: List[Tuple[Any, Any]] = []
    if isinstance(parameters, dict):
        pairs = list(parameters.items())
    elif isinstance(parameters, (list, tuple)):
        for item in parameters:
            if isinstance(item, str):
                pairs.append((item, item))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                pairs.append((None, None))
    elif parameters:
        pairs = [(None, None)]
    for name, field in pairs:
        if not isinstance(name, str) or not isinstance(field, str):
            raise BadArgument(
                "parameters",
                "The parameters of event %s must map parameter names to payload fields: "
                "{'param': 'field'} or ['name', ('param', 'field')]." % event,
            )
    return tuple(pairs)


def _event(value: Any) -> Any:
    if isinstance(value, str):
        return TriggerEvent(value)
    if callable(value):
        return value  # named at deploy time
    if isinstance(value, dict):
        if "name" not in value:
            raise BadArgument("event", "The event %r for @trigger is missing its 'name' key." % (value,))
        name = value["name"]
        if not isinstance(name, str) and not callable(name):
            raise BadArgument("event", "The name of event %r must be a string." % (value,))
        return TriggerEvent(name, _mapping(str(name), value.get("parameters") or {}))
    raise BadArgument(
        "event",
        "@trigger takes event='name' or event={'name': 'name', 'parameters': {'param': 'field'}}, not %r." % (value,),
    )


def _options(args: Dict[str, Any]) -> Tuple[Tuple[str, Any], ...]:
    options = args["options"]
    if not isinstance(options, (dict, tuple)):
        raise BadArgument("options", "options must be a dict.")
    return tuple(sorted(dict(options).items()))


@dataclass(frozen=True)
class Trigger(Decorator):
    """Run the deployed flow when an event is published (``orch events publish NAME``)."""

    NAME: ClassVar[str] = "trigger"
    IS_FLOW: ClassVar[bool] = True
    event: Any = None  # given as event=: kept in ``events`` too
    events: Tuple[Any, ...] = ()
    options: Tuple[Tuple[str, Any], ...] = ()

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        event, events = args["event"], args["events"]
        if event and events:
            raise BadArgument("events", "Give @trigger one of event= or events=, not both.")
        if events and not isinstance(events, (list, tuple)) and not callable(events):
            raise BadArgument("events", "events= takes a list: events=['foo', {'name': 'bar'}].")
        found = (
            (_event(event),) if event else ((events,) if callable(events) else tuple(_event(e) for e in events or ()))
        )
        if not found:
            raise BadArgument("event", "@trigger needs an event: @trigger(event='data_ready').")
        names = [e.name for e in found if isinstance(e, TriggerEvent) and isinstance(e.name, str)]
        if len(names) != len(set(names)):
            raise BadArgument("events", "@trigger names the same event twice.")
        return {"event": None, "events": found, "options": _options(args)}

    def attributes(self) -> Dict[str, Any]:
        out = super().attributes()
        out["events"] = [
            {"name": e.name, "parameters": dict(e.parameters)} if isinstance(e, TriggerEvent) else repr(e)
            for e in self.events
        ]
        return out


@dataclass(frozen=True)
class FinishedFlow:
    """A flow whose successful runs start this one: by name, or within a @project's branch."""

    flow: str
    project: Optional[str] = None
    branch: Optional[str] = None


def _finished(value: Any) -> Any:
    if callable(value):
        return value  # named at deploy time
    if isinstance(value, dict):
        name = value.get("name")
        if not isinstance(name, str) or "." in name:
            raise BadArgument("flow", "@trigger_on_finish(flow={'name': ...}) needs a flow name, not %r." % (name,))
        for key in ("project", "project_branch"):
            if key in value and not isinstance(value[key], str):
                raise BadArgument("flow", "The %s of flow %s must be a string." % (key, name))
        found = FinishedFlow(name, value.get("project"), value.get("project_branch"))
    elif isinstance(value, str):
        dots = value.count(".")
        if dots == 1:
            raise BadArgument(
                "flow",
                "flow=%r: give a flow name, or project.branch.FlowName for a flow of a @project." % value,
            )
        if dots:
            project, tail = value.split(".", 1)
            branch, name = tail.rsplit(".", 1)
            found = FinishedFlow(name, project, branch)
        else:
            found = FinishedFlow(value)
    else:
        raise BadArgument(
            "flow", "@trigger_on_finish takes flow='FooFlow' or flow={'name': 'FooFlow'}, not %r." % (value,)
        )
    if not re.match(_FLOW_NAME, found.flow):
        raise BadArgument("flow", "%r is not a flow name: letters, digits and _ only." % found.flow)
    return found


@dataclass(frozen=True)
class TriggerOnFinish(Decorator):
    """Run the deployed flow when a run of another deployed flow succeeds."""

    NAME: ClassVar[str] = "trigger_on_finish"
    IS_FLOW: ClassVar[bool] = True
    flow: Any = None  # given as flow=: kept in ``flows`` too
    flows: Tuple[Any, ...] = ()
    options: Tuple[Tuple[str, Any], ...] = ()

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        flow, flows = args["flow"], args["flows"]
        if flow and flows:
            raise BadArgument("flows", "Give @trigger_on_finish one of flow= or flows=, not both.")
        if flows and not isinstance(flows, (list, tuple)) and not callable(flows):
            raise BadArgument("flows", "flows= takes a list: flows=['FooFlow', 'BarFlow'].")
        found = (_finished(flow),) if flow else ((flows,) if callable(flows) else tuple(_finished(f) for f in flows))
        if not found:
            raise BadArgument("flow", "@trigger_on_finish needs a flow: @trigger_on_finish(flow='FooFlow').")
        return {"flow": None, "flows": found, "options": _options(args)}


EVENT_DECORATORS = (Schedule, Trigger, TriggerOnFinish)
