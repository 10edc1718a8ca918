"""@project's naming rules, as Metaflow's format_name: branches, production, and their errors."""

from __future__ import annotations

import re

import pytest

from orchestrator import FlowSpec, project, step
from orchestrator.authoring.project_names import resolve
from orchestrator.decorators import flow_decorators
from orchestrator.errors import FlowDefinitionError, UsageError


def _spec(**kwargs):
    @project(**kwargs)
    class Flow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    return flow_decorators(Flow)["project"]


def test_branch_names():
    spec = _spec(name="proj")
    assert resolve("F", spec, None, False, "alice").branch_name == "user.alice"
    assert resolve("F", spec, "feat", False, "alice").branch_name == "test.feat"
    assert resolve("F", spec, None, True, "alice").branch_name == "prod"
    info = resolve("F", spec, "feat", True, "alice")
    assert (info.branch_name, info.project_flow_name, info.is_production, info.is_user_branch) == (
        "prod.feat",
        "proj.prod.feat.F",
        True,
        False,
    )
    user = resolve("F", spec, None, False, "alice")
    assert user.is_user_branch and user.system_tags == ("project:proj", "project_branch:user.alice")


def test_the_decorator_may_set_the_branch_but_not_against_the_command_line():
    spec = _spec(name="proj", branch="fixed")
    assert resolve("F", spec, None, False, "u").branch_name == "test.fixed"
    assert resolve("F", spec, "fixed", False, "u").branch_name == "test.fixed"  # the same value is fine
    with pytest.raises(UsageError, match="You cannot pass branch as both a command-line argument and an attribute"):
        resolve("F", spec, "other", False, "u")
    assert resolve("F", _spec(name="proj", production=True), None, False, "u").branch_name == "prod"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "@project needs a name. Try @project(name='some_name')"),
        ({"name": "Bad-Name"}, "must contain only lowercase alphanumeric characters and underscores"),
        ({"name": "p", "branch": "Has Space"}, "The branch name must contain only lowercase alphanumeric"),
    ],
)
def test_bad_names_are_located_errors(kwargs, message):
    with pytest.raises(FlowDefinitionError, match=re.escape(message)) as info:
        _spec(**kwargs)
    assert info.value.line


def test_a_bad_command_line_branch_is_a_usage_error():
    with pytest.raises(UsageError, match="The branch name must contain only lowercase"):
        resolve("F", _spec(name="proj"), "Bad-Branch", False, "u")
