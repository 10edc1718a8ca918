"""Config and config_expr end to end: decorators built from configs, values from every source,
configs as read-only artifacts, and a resume that keeps its origin's configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestrator import Flow
from tests.conftest import FLOWS

FLOW = "config_flow.py"


def _seen(run_id=None):
    flow = Flow("ConfigFlow")
    run = flow[run_id] if run_id else flow.latest_run
    return run, run["start"].task.data.seen


def test_configs_reach_decorators_parameters_and_steps(orch):
    code, out, err = orch("run", FLOW)
    assert code == 0, err
    run, seen = _seen()
    assert seen == {
        "tag": "blue",
        "base_text": "20",
        "project": "cfgproj",
        "base": 10,
        "derived": 11,
        "nested_cpu": 2,
        "item": 2,
        "extra": {"color": "green"},
    }
    assert "project:cfgproj" in run.system_tags
    assert run["end"].task.data.unpacked == "yes"
    # configs are artifacts of every step, equal to the plain dicts they came from
    assert run["end"].task.data.settings == {"project": "cfgproj", "base": 10, "tag": "blue", "nested": {"cpu": 2}}
    assert run["end"].task.data.extra == {"color": "green"}


def test_values_from_the_command_line_win_over_the_environment(orch, tmp_path, monkeypatch):
    extra = tmp_path / "other.txt"
    extra.write_text("color: red")
    monkeypatch.setenv(
        "METAFLOW_FLOW_CONFIG_VALUE",
        json.dumps({"settings": {"project": "envproj", "base": 1, "tag": "env", "nested": {"cpu": 1}}}),
    )
    code, _, err = orch("run", FLOW, "--config", "extra", str(extra))
    assert code == 0, err
    _, seen = _seen()
    assert (seen["tag"], seen["project"], seen["base"], seen["extra"]) == ("env", "envproj", 1, {"color": "red"})
    value = json.dumps({"project": "cli", "base": 5, "tag": "cli", "nested": {"cpu": 1}})
    code, _, err = orch("run", FLOW, "--config-value", "settings", value)
    assert code == 0, err
    _, seen = _seen()
    assert (seen["tag"], seen["base"], seen["derived"], seen["base_text"]) == ("cli", 5, 6, "10")


def test_bad_config_input_gets_one_line_errors(orch, tmp_path):
    cases = [
        (("--config-value", "nope", "{}"), "Unknown config 'nope'. The flow's configs are: env, extra, must_fail"),
        (("--config-value", "settings", "[1"), "Config 'settings' (--config-value) is not valid JSON"),
        (("--config-value", "settings", "[1]"), "Config 'settings' (--config-value) is a list, not a mapping."),
        (("--config", "extra", str(tmp_path / "missing.txt")), "could not be read for config 'extra'"),
        (("--config-value", "settings", "{}", "--config", "settings", "x"), "was given both a file and a value"),
        (("--config-value", "settings", '{"project": "p"}'), "Config expression 'settings': the value has no key"),
    ]
    for args, message in cases:
        code, out, err = orch("run", FLOW, *args)
        assert code != 0 and message in err, (args, err)
        assert "Traceback" not in err


def test_resume_keeps_the_origin_runs_configs(orch, monkeypatch):
    value = json.dumps({"project": "cfgproj", "base": 7, "tag": "first", "nested": {"cpu": 1}})
    monkeypatch.setenv("CONFIG_FLOW_FAIL", "1")
    code, _, err = orch(
        "run", FLOW, "--config-value", "settings", value, "--config-value", "must_fail", '{"fail": true}'
    )
    assert code == 1
    origin = Flow("ConfigFlow").latest_run.id
    # as Metaflow: a resume takes its origin's configs, and refuses new ones (a usage error, exit 2)
    for given in (("--config-value", "must_fail", '{"fail": false}'), ("--config", "extra", "extra.txt")):
        code, _, err = orch("resume", FLOW, *given)
        assert code == 2 and "Cannot specify --config or --config-value with 'resume'." in err, err
    monkeypatch.delenv("CONFIG_FLOW_FAIL")
    code, _, err = orch("resume", FLOW)
    assert code == 0, err
    run, seen = _seen()
    assert run.id != origin and seen["tag"] == "first" and seen["base"] == 7
    assert run["end"].task.data.settings["base"] == 7
    assert run["end"].task.data.must_fail == {"fail": True}


def test_a_failing_config_parser_is_the_flows_error(orch, tmp_path):
    """The flow's own parser raised: exit 1 as in Metaflow (bad input on the command line is exit 2)."""
    flow = tmp_path / "parser_flow.py"
    flow.write_text(
        "from orchestrator import Config, FlowSpec, step\n\n"
        "def strict(text):\n    raise ValueError('nope')\n\n"
        "class ParserFlow(FlowSpec):\n"
        "    cfg = Config('cfg', default_value='{}', parser=strict)\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    code, _, err = orch("run", str(flow))
    assert code == 1 and "Config 'cfg' (default_value): the parser failed: ValueError: nope" in err, err
    assert "Traceback" not in err


def test_python_flow_py_takes_configs_before_the_command(tmp_path):
    value = json.dumps({"project": "cfgproj", "base": 3, "tag": "top", "nested": {"cpu": 1}})
    env = dict(os.environ, ORCH_EXECUTOR="local")
    store = str(tmp_path / "store")
    result = subprocess.run(
        [sys.executable, str(FLOWS / "run" / FLOW), "--config-value", "settings", value, "run", "--store", store],
        capture_output=True,
        text=True,
        cwd=str(FLOWS / "run"),
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    from orchestrator import client

    client.metadata(store)
    client.namespace(None)
    assert Flow("ConfigFlow").latest_run["start"].task.data.seen["tag"] == "top"
