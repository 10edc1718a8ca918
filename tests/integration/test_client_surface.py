"""The client's Metaflow surface: parents and path components, tags on every object, task metadata
with Metaflow's keys, lineage, log lines and exceptions as objects."""

from __future__ import annotations

from orchestrator import Flow, Task


def test_parents_paths_and_tags(orch):
    code, _, err = orch("run", "branches_flow.py", "--tag", "t1")
    assert code == 0, err
    run = Flow("BranchesFlow").latest_run
    step = run["start"]
    task = step.task
    artifact = next(iter(task))
    assert run.parent.id == "BranchesFlow" and step.parent.id == run.id and task.parent.id == "start"
    assert artifact.parent.pathspec == task.pathspec
    assert run.path_components == ["BranchesFlow", run.id]
    assert task.path_components == ["BranchesFlow", run.id, "start", task.id]
    assert artifact.path_components[-1] == artifact.id
    for thing in (step, task, artifact):
        assert thing.tags == run.tags and thing.user_tags == {"t1"} and "t1" in thing.tags
    assert task.metadata_dict["attempt"] == "0" and any(m.name == "attempt" for m in task.metadata)


def test_lineage_loglines_and_exceptions(orch, tmp_path, monkeypatch):
    code, _, err = orch("run", "branches_flow.py")
    assert code == 0, err
    run = Flow("BranchesFlow").latest_run
    start = run["start"].task
    children = sorted(t.parent.id for t in start.child_tasks)
    assert children == sorted(run._record.graph["steps"][0]["next"])
    for child in start.child_tasks:
        assert [p.pathspec for p in child.parent_tasks] == [start.pathspec]
    join = next(s for s in run if len(list(s.task.parent_tasks)) > 1).task
    assert len(set(join.parent_task_pathspecs)) == len(list(join.parent_tasks))
    lines = list(start.loglines("stdout"))
    assert [line for _, line in lines] == start.stdout.splitlines()
    marker = tmp_path / "fail"
    marker.write_text("x")
    monkeypatch.setenv("FAIL_MARKER", str(marker))
    code, _, err = orch("run", "failing_flow.py")
    assert code == 1
    failed = next(t for s in Flow("FailingFlow").latest_run for t in s if not t.successful)
    exc = failed.exception
    assert (exc.type, exc.exception) == ("ZeroDivisionError", "the join is broken") and exc.type in str(exc)


def test_a_resumed_task_says_where_it_came_from(orch, tmp_path, monkeypatch):
    code, _, err = orch("run", "recursion_flow.py")
    assert code == 0, err
    origin = Flow("RecursionFlow").latest_run
    code, _, err = orch("resume", "recursion_flow.py", "end")
    assert code == 0, err
    run = Flow("RecursionFlow").latest_run
    start = run["start"].task
    assert start.metadata_dict["origin-run-id"] == origin.id
    assert start.metadata_dict["origin-task-id"] == origin["start"].task.id
    assert run["end"].task.metadata_dict["origin-run-id"] == origin.id  # re-run, in a resumed run
    assert run["start"].origin_pathspec == "RecursionFlow/%s/start" % origin.id
    assert Task(start.pathspec, _namespace_check=False).pathspec == start.pathspec


def test_metaflow_root_lists_the_flows_in_the_namespace(orch):
    from orchestrator import Metaflow, namespace

    assert orch("run", "branches_flow.py")[0] == 0
    assert orch("run", "params_flow.py", "--run-name", "x")[0] == 0
    namespace(None)
    assert [f.id for f in Metaflow().flows] == ["BranchesFlow", "ParamsFlow"]
    assert Metaflow()["ParamsFlow"].latest_run.successful
    namespace("user:someone-else")
    assert Metaflow().flows == []  # no run of either flow is in that namespace
    namespace(None)
