"""Switch steps, recursion and @parallel under the local executor: what runs, what the store
records, resume through a loop, and the errors a user sees."""

from __future__ import annotations

from orchestrator import Flow
from orchestrator.authoring.loader import load_flow
from orchestrator.graph.render import to_dot
from orchestrator.store.factory import open_backend
from orchestrator.store.metadata import MetadataStore
from orchestrator.ui.model import run_view
from orchestrator.ui.svg import dag_svg
from tests.conftest import FLOWS


def test_recursion_to_an_earlier_step_runs_each_round(orch):
    code, out, err = orch("run", "recursion_flow.py")
    assert code == 0, err
    run = Flow("RecursionFlow").latest_run
    assert run.data.rounds == 3
    assert sorted(t.data.round for t in run["check"]) == [1, 2, 3]
    assert len(list(run["body"])) == 3


def test_a_value_no_case_names_fails_the_task_naming_the_cases(orch):
    code, out, err = orch("run", "recursion_flow.py", "--mode", "other")
    assert code == 1
    assert (
        "Switch condition variable 'mode' has value 'other' which is not in the available cases: ['count', 'skip']"
        in err
    )
    code, _, err = orch("run", "recursion_flow.py", "--mode", "skip")
    assert code == 0, err
    assert [s.id for s in Flow("RecursionFlow").latest_run] == ["start", "end"]


def test_resume_inside_a_loop_reuses_the_earlier_rounds(orch, monkeypatch):
    monkeypatch.setenv("FAIL_AT", "2")
    code, _, err = orch("run", "recursion_flow.py")
    assert code == 1
    origin = Flow("RecursionFlow").latest_run
    assert sorted(t.data.round for t in origin["check"] if t.successful) == [1]
    monkeypatch.delenv("FAIL_AT")
    code, _, err = orch("resume", "recursion_flow.py")
    assert code == 0, err
    run = Flow("RecursionFlow").latest_run
    assert run.id != origin.id and run.data.rounds == 3
    checks = sorted(run["check"], key=lambda t: t.data.round)
    assert [t.origin_pathspec is not None for t in checks] == [True, False, False]  # round 1 reused
    bodies = sorted(run["body"], key=lambda t: t.data.round)
    assert [t.origin_pathspec is not None for t in bodies] == [True, True, False]


def test_parallel_gang_starts_together_with_its_place(orch):
    code, _, err = orch("run", str(FLOWS / "differential" / "diff_parallel_flow.py"), "--max-workers", "1")
    assert code == 0, err
    run = Flow("DiffParallelFlow").latest_run
    join = run["join"].task.data
    assert (join.indices, join.sizes, join.inputs_seen) == ([0, 1, 2], [3], [0, 1, 2])
    tasks = sorted(run["train"], key=lambda t: t.data.node_index)
    assert all(t.data.is_parallel for t in tasks)


def test_loops_are_drawn_and_shown(orch, tmp_path):
    loaded = load_flow(str(FLOWS / "run" / "recursion_flow.py"))
    assert loaded.graph["check"].loops_to == ("body",)
    assert '"check" -> "body" [label="True"];' in to_dot(loaded.graph)
    code, _, err = orch("run", "recursion_flow.py")
    assert code == 0, err
    run = Flow("RecursionFlow").latest_run
    view = run_view(MetadataStore(open_backend(orch.store)), "RecursionFlow", run.id)
    svg = dag_svg(view)
    assert svg.count('class="loop"') == 1


def test_control_tasks_are_node_zero(orch):
    code, _, err = orch("run", str(FLOWS / "differential" / "diff_parallel_flow.py"))
    assert code == 0, err
    (control,) = list(Flow("DiffParallelFlow").latest_run["train"].control_tasks())
    assert control.data.node_index == 0
    assert control.metadata_dict["internal_task_type"] == "control"  # Metaflow's mark of a control task
    workers = [t for t in Flow("DiffParallelFlow").latest_run["train"] if t.data.node_index]
    assert workers and all("internal_task_type" not in t.metadata_dict for t in workers)


def _attempts(task) -> list:
    return sorted(int(m.value) for m in task.metadata if m.type == "attempt")


def test_a_gang_retries_as_one_and_falls_back_through_its_control(orch):
    """As Metaflow: node 2 dying reruns every member; a gang that keeps dying gets the @catch fallback on
    its control task only (workers keep their failed last attempt) and the join sees the control alone."""
    code, _, err = orch("run", "parallel_faults_flow.py")
    assert code == 0, err
    run = Flow("ParallelFaultsFlow").latest_run
    assert run["join"].task.data.seen == [(0, 1), (1, 1), (2, 1)]
    assert all(_attempts(t) == [0, 1] for t in run["train"])

    code, _, err = orch("run", "parallel_faults_flow.py", "--mode", "dead")
    assert code == 0, err
    run = Flow("ParallelFaultsFlow").latest_run
    (control,) = list(run["train"].control_tasks())
    assert _attempts(control) == [0, 1, 2]
    workers = [t for t in run["train"] if t.id != control.id]
    assert len(workers) == 2 and all(_attempts(t) == [0, 1] for t in workers)
    join = run["join"].task.data
    assert join.seen == [(None, None)] and join.failures == ["metaflow.plugins.catch_decorator.FailureHandledByCatch"]
