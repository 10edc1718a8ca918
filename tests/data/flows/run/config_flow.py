"""Configs in every place a flow uses them: decorators at class level, parameter defaults, steps."""

import os

from orchestrator import Config, FlowSpec, Parameter, config_expr, current, environment, project, resources, step


def colon_parser(text):
    key, value = text.split(":")
    return {key.strip(): value.strip()}


def from_config(ctx):
    return ctx.configs.settings.base + 1


@project(name=config_expr("settings").project)
class ConfigFlow(FlowSpec):
    settings = Config("settings", default_value={"project": "cfgproj", "base": 10, "tag": "blue", "nested": {"cpu": 2}})
    extra = Config("extra", default="extra.txt", parser="config_flow.colon_parser")
    env = Config("env", default_value={"vars": {"FROM_UNPACK": "yes"}})
    must_fail = Config("must_fail", default_value={"fail": False})
    base = Parameter("base", default=config_expr("settings").base, type=int)
    derived = Parameter("derived", default=from_config, type=int)

    @environment(vars={"TAG": settings.tag, "BASE_TEXT": config_expr("str(settings.base * 2)")})
    @resources(cpu=settings.nested.cpu)
    @step
    def start(self):
        self.seen = {
            "tag": os.environ["TAG"],
            "base_text": os.environ["BASE_TEXT"],
            "project": current.project_name,
            "base": self.base,
            "derived": self.derived,
            "nested_cpu": self.settings.nested.cpu,
            "item": self.settings["nested"]["cpu"],
            "extra": dict(self.extra),
        }
        for change in (lambda: self.settings.__setitem__("base", 1), lambda: setattr(self.settings, "base", 1)):
            try:
                change()
                raise AssertionError("a config changed")
            except TypeError:
                pass
        try:
            self.settings = {}
            raise AssertionError("a config was replaced")
        except AttributeError:
            pass
        self.next(self.end)

    @environment(**env)
    @step
    def end(self):
        self.unpacked = os.environ["FROM_UNPACK"]
        if self.must_fail.fail and os.environ.get("CONFIG_FLOW_FAIL"):
            raise RuntimeError("must_fail is set")


if __name__ == "__main__":
    ConfigFlow()
