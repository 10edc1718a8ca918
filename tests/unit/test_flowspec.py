"""FlowSpec's task-facing API: transitions, foreach state, merge_artifacts, current."""

from __future__ import annotations

import pytest

from orchestrator import FlowSpec, current, step
from orchestrator.authoring.flowspec import ForeachFrame, MergeConflictError, Transition
from orchestrator.errors import OrchError


class TinyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def make():
    return TinyFlow(use_cli=False)


def test_next_records_transition_once():
    flow = make()
    flow.next(flow.a, flow.b)
    assert flow._orch_transition == Transition(("a", "b"), None)
    with pytest.raises(OrchError, match="called twice"):
        flow.next(flow.end)


def test_next_rejects_non_steps():
    with pytest.raises(OrchError, match="self.next\\(\\) takes steps"):
        make().next("end")


def test_foreach_state():
    flow = make()
    assert flow.input is None and flow.index is None and flow.foreach_stack() == []
    flow._orch_foreach = (
        ForeachFrame("start", "xs", num_splits=3, index=1, value="b"),
        ForeachFrame("a", "ys", num_splits=2, index=0, value=10),
    )
    assert (flow.input, flow.index) == (10, 0)
    assert flow.foreach_stack() == [(1, 3, "b"), (0, 2, 10)]
    # Metaflow's private frames, read by flows in the wild: step, var, num_splits, index, value
    assert [tuple(f)[1:] for f in flow._foreach_stack] == [("xs", 3, 1, "b"), ("ys", 2, 0, "10")]
    assert flow._foreach_stack[-1].var == "ys" and flow._foreach_stack[0].num_splits == 3
    assert flow.name == "TinyFlow"


class Branch:
    """A join input as the task runtime provides it: values plus content digests."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def _orch_artifact_digests(self):
        return {k: repr(v) for k, v in self.__dict__.items()}


def test_merge_artifacts_copies_agreeing_values_and_keeps_own():
    flow = make()
    flow.mine = "join's own"
    flow.merge_artifacts([Branch(x=1, only_a=2, mine="a"), Branch(x=1, mine="b")])
    assert (flow.x, flow.only_a, flow.mine) == (1, 2, "join's own")


def test_merge_artifacts_conflict_lists_names():
    flow = make()
    with pytest.raises(MergeConflictError) as info:
        flow.merge_artifacts([Branch(x=1, y=1, z=0), Branch(x=2, y=3, z=0)])
    assert "conflicting values: [x, y]" in info.value.format()
    assert "self.<artifact_name> = ..." in info.value.format()
    assert not hasattr(flow, "z")  # as in Metaflow: a conflict merges nothing, not even what agreed


def test_merge_artifacts_exclude_and_include():
    flow = make()
    flow.merge_artifacts([Branch(x=1, y=1), Branch(x=2, y=1)], exclude=["x"])
    assert flow.y == 1 and not hasattr(flow, "x")
    other = make()
    other.merge_artifacts([Branch(x=1, y=5)], include=["y"])
    assert other.y == 5 and not hasattr(other, "x")
    with pytest.raises(OrchError, match="names artifacts that no branch has: nope"):
        make().merge_artifacts([Branch(x=1)], include=["nope"])


def test_current_outside_a_task():
    assert current.is_running_flow is False
    assert current.flow_name is None and current.pathspec is None


def test_current_inside_a_task():
    current._set(flow_name="F", run_id="1", step_name="s", task_id="2", retry_count=0, origin_run_id=None)
    try:
        assert current.pathspec == "F/1/s/2"
        assert current.retry_count == 0 and current.is_running_flow
    finally:
        current._clear()
