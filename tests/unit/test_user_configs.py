"""Config values: immutability, where a value comes from, expressions, and the errors users see."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from orchestrator import Config, FlowSpec, Parameter, config_expr, resources, step
from orchestrator.authoring.user_configs import ConfigError, ConfigInputs, ConfigValue, compute_values
from orchestrator.decorators import bind_configs as bind
from orchestrator.decorators import step_decorators


def test_config_value_is_an_immutable_nested_dict():
    value = ConfigValue({"a": {"b": [1, {"c": 2}]}})
    assert value.a.b[1].c == 2 and value["a"]["b"][1]["c"] == 2
    assert value == {"a": {"b": [1, {"c": 2}]}} and json.loads(json.dumps(value)) == value.to_dict()
    for change in (
        lambda: value.__setitem__("a", 1),
        lambda: setattr(value, "a", 1),
        lambda: value.update(a=1),
        lambda: value.pop("a"),
        lambda: value.a.__delitem__("b"),
    ):
        with pytest.raises(TypeError, match="ConfigValue is immutable"):
            change()
    copied = pickle.loads(pickle.dumps(value))
    assert isinstance(copied, ConfigValue) and copied == value and copy.deepcopy(value) == value
    with pytest.raises(AttributeError):
        _ = value.missing


def _flow():
    class CfgFlow(FlowSpec):
        cfg = Config("cfg", default_value={"cpu": 2, "name": "x"})
        plain = Config("plain", default_value="raw text", plain=True)
        needed = Config("needed", required=True)
        size = Parameter("size", default=config_expr("cfg.cpu * 10"), type=int)

        @resources(cpu=cfg.cpu, memory=config_expr("cfg.cpu * 1024"))
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    return CfgFlow


def test_sources_in_order_of_precedence(tmp_path):
    cls = _flow()
    (tmp_path / "n.json").write_text('{"from": "file"}')
    given = ConfigInputs(files=(("needed", "n.json"),))
    values = compute_values(cls, given, base_dir=str(tmp_path))
    assert values == {"cfg": {"cpu": 2, "name": "x"}, "plain": "raw text", "needed": {"from": "file"}}
    env = ConfigInputs.from_env({"METAFLOW_FLOW_CONFIG_VALUE": json.dumps({"needed": {"from": "env"}, "cfg": {}})})
    assert compute_values(cls, env)["needed"] == {"from": "env"}
    cli = env.merged(ConfigInputs(values=(("needed", '{"from": "cli"}'),)))
    assert compute_values(cls, cli) == {"cfg": {}, "plain": "raw text", "needed": {"from": "cli"}}


def test_decorators_and_defaults_are_built_when_values_are_bound():
    cls = _flow()
    assert step_decorators(cls.start) == ()  # waiting for the values
    bind(cls, compute_values(cls, ConfigInputs(values=(("needed", "{}"), ("cfg", '{"cpu": 4}')))))
    (spec,) = step_decorators(cls.start)
    assert (spec.cpu, spec.memory) == (4, 4096)
    assert cls.size.resolve_default("CfgFlow", "", {"cfg": ConfigValue({"cpu": 3})}) == 30


@pytest.mark.parametrize(
    "given, message",
    [
        (ConfigInputs(), "Missing required config 'needed'. Give it with --config needed FILE"),
        (
            ConfigInputs(values=(("other", "{}"),)),
            "Unknown config 'other'. The flow's configs are: cfg, needed, plain.",
        ),
        (ConfigInputs(values=(("needed", "{x"),)), "Config 'needed' (--config-value) is not valid JSON"),
        (ConfigInputs(values=(("needed", "3"),)), "Config 'needed' (--config-value) is a int, not a mapping."),
        (ConfigInputs(files=(("needed", "/nonexistent.json"),)), "could not be read for config 'needed'"),
    ],
)
def test_bad_values_get_clear_errors(given, message):
    with pytest.raises(ConfigError) as info:
        compute_values(_flow(), given)
    assert message in info.value.format()


def test_definition_errors_are_located():
    from orchestrator.errors import FlowDefinitionError

    with pytest.raises(FlowDefinitionError, match="default= .* or default_value= .*not both") as info:
        Config("c", default="a.json", default_value={})
    assert info.value.file and info.value.file.endswith("test_user_configs.py") and info.value.line
    with pytest.raises(FlowDefinitionError, match="Config name 'bad name' is invalid"):
        Config("bad name")
    with pytest.raises(FlowDefinitionError, match="config_expr"):
        config_expr("")
