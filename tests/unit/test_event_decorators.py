"""@schedule, @trigger and @trigger_on_finish: Metaflow's forms, checked when a flow is imported, and
no effect on a run started by hand (current.trigger is None)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.authoring.event_specs import FinishedFlow, TriggerEvent
from orchestrator.authoring.loader import load_flow
from orchestrator.errors import FlowDefinitionError


def _load(tmp_path: Path, decorators: str):
    path = tmp_path / "events_flow.py"
    path.write_text(
        textwrap.dedent(
            """\
            from orchestrator import FlowSpec, Parameter, schedule, step, trigger, trigger_on_finish

            %s
            class EventsFlow(FlowSpec):
                alpha = Parameter("alpha", default="a")

                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
        % decorators
    )
    return load_flow(str(path))


def _flow_decorator(loaded, name):
    from orchestrator.authoring.decorators import flow_decorators

    return flow_decorators(loaded.cls)[name]


@pytest.mark.parametrize(
    "given, expression",
    [
        ("@schedule", "0 0 * * ? *"),
        ("@schedule(hourly=True)", "0 * * * ? *"),
        ("@schedule(weekly=True, hourly=True)", "0 0 ? * SUN *"),
        ("@schedule(cron='15  6 * * ? *', timezone='Europe/Paris')", "15 6 * * ? *"),
        ("@schedule(daily=False)", None),
    ],
)
def test_schedule_picks_metaflows_expression(tmp_path, given, expression):
    assert _flow_decorator(_load(tmp_path, given), "schedule").cron_expression == expression


def test_trigger_takes_metaflows_forms(tmp_path):
    one = _flow_decorator(_load(tmp_path, "@trigger(event='data_ready')"), "trigger")
    assert one.events == (TriggerEvent("data_ready"),)
    mapped = _load(
        tmp_path,
        "@trigger(events=[{'name': 'a', 'parameters': {'alpha': 'field'}}, "
        "{'name': 'b', 'parameters': ['alpha', ('beta', 'other')]}])",
    )
    assert _flow_decorator(mapped, "trigger").events == (
        TriggerEvent("a", (("alpha", "field"),)),
        TriggerEvent("b", (("alpha", "alpha"), ("beta", "other"))),
    )


def test_trigger_on_finish_reads_project_qualified_names(tmp_path):
    found = _flow_decorator(
        _load(tmp_path, "@trigger_on_finish(flows=['Up', 'proj.user.jo.Up2', {'name': 'Up3', 'project': 'p'}])"),
        "trigger_on_finish",
    )
    assert found.flows == (FinishedFlow("Up"), FinishedFlow("Up2", "proj", "user.jo"), FinishedFlow("Up3", "p"))


@pytest.mark.parametrize(
    "given, said",
    [
        ("@schedule(cron='every day')", "is not a cron expression"),
        ("@schedule(timezone='not a zone')", "is not an IANA time zone name"),
        ("@trigger", "@trigger needs an event"),
        ("@trigger(event='a', events=['b'])", "one of event= or events="),
        ("@trigger(events=['a', 'a'])", "the same event twice"),
        ("@trigger(event={'parameters': {}})", "missing its 'name' key"),
        ("@trigger(event={'name': 'a', 'parameters': [1]})", "must map parameter names to payload fields"),
        ("@trigger_on_finish(flow='a.b')", "project.branch.FlowName"),
        ("@trigger_on_finish(flow='Up-Flow')", "letters, digits and _ only"),
        ("@trigger_on_finish", "@trigger_on_finish needs a flow"),
    ],
)
def test_bad_arguments_are_located_errors(tmp_path, given, said):
    with pytest.raises(FlowDefinitionError) as found:
        _load(tmp_path, given)
    assert said in str(found.value) and "events_flow.py:3" in found.value.format()


def test_a_run_by_hand_ignores_them_and_current_trigger_is_none(tmp_path):
    from orchestrator import Flow, client
    from orchestrator.cli.main import main

    flow = tmp_path / "by_hand.py"
    flow.write_text(
        textwrap.dedent(
            """\
            from orchestrator import FlowSpec, current, schedule, step, trigger, trigger_on_finish

            @trigger_on_finish(flow='Upstream')
            @trigger(event='data_ready')
            @schedule(hourly=True)
            class ByHandFlow(FlowSpec):
                @step
                def start(self):
                    self.seen = current.trigger
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    store = str(tmp_path / "store")
    assert main(["run", str(flow), "--store", store, "--executor", "local", "--quiet"]) == 0
    client.metadata(store)
    try:
        run = Flow("ByHandFlow").latest_run
        assert run.successful and run["start"].task.data.seen is None
    finally:
        client.reset()
