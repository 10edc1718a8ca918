"""@exit_hook: the flow's functions run once the run has ended, and never change how it ended."""

from __future__ import annotations

import pytest

from orchestrator import FlowSpec, exit_hook
from orchestrator.errors import FlowDefinitionError


def test_success_hooks_run_in_order_with_the_run_and_a_failing_one_changes_nothing(orch):
    code, out, err = orch("run", "exit_hook_flow.py")
    assert code == 0, err
    lines = [line for line in out.splitlines() if "notify" in line or "exit_hook" in line]
    # the lower decorator's hook first, then the upper one's, in list order; every one runs
    assert lines == [
        "notify: successful=True finished=True",
        "notify: successful=True finished=True",
        "[exit_hook] Hook 'broken' failed with exit code 1.",
    ]
    assert "on_fail" not in out


def test_error_hooks_run_when_the_run_failed(orch):
    code, out, err = orch("run", "exit_hook_flow.py", "--fail", "true")
    assert code == 1
    assert "on_fail called" in out and "notify" not in out


def test_bad_hooks_are_located_errors():
    with pytest.raises(FlowDefinitionError, match="on_success=\\[...\\] or on_error"):
        exit_hook()(type("NoHooks", (FlowSpec,), {}))
    with pytest.raises(FlowDefinitionError, match="is not a function or the name of one"):
        exit_hook(on_error=[3])(type("BadHook", (FlowSpec,), {}))
