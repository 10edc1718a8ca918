"""Flow semantics in the local executor: artifacts, parameters, branches, foreach, faults, resume."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import replace

from orchestrator import Flow, Run
from orchestrator.executors.base import TaskResult, TaskState
from orchestrator.runtime import session


def test_linear_artifacts_parameters_and_current(orch, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("héllo")
    blob = tmp_path / "in.bin"
    blob.write_bytes(b"\x00\xff")
    code, out, err = orch(
        "run",
        "params_flow.py",
        "--run-name",
        "trial",
        "--alpha=0.25",
        "--flag",
        "--config",
        '{"k": 3}',
        "--text",
        str(text),
        "--blob",
        str(blob),
    )
    assert code == 0, err
    run = Flow("ParamsFlow").latest_successful_run
    seen = run["start"].task.data.seen
    assert seen == {
        "alpha": 0.25,
        "count": 3,
        "name": "trial",
        "flag": True,
        "config": {"k": 3},
        "text": "héllo",
        "blob": b"\x00\xff",
    }
    flow_name, run_id, step, task_id, retry = run["start"].task.data.ids
    assert (flow_name, run_id, step, retry) == ("ParamsFlow", run.id, "start", 0)
    assert run.data.final == (2, 20, 0.25)
    assert run.data.alpha == 0.25  # parameters are visible in every step
    middle = run["middle"].task
    assert middle.data.from_current == (middle.pathspec, run.id, 1, ".", True, "no project", True)
    assert run.parameters["count"] == 3
    assert "final (2, 20, 0.25)" in run["end"].task.stdout
    assert re.search(r"\[%s/end/\d+\] final \(2, 20, 0.25\)" % run.id, out)


def test_bad_parameters_fail_before_anything_runs(orch):
    code, _, err = orch("run", "params_flow.py")
    assert code == 2 and err.strip() == (
        "Missing required parameter --run-name. Give it on the command line: --run-name VALUE "
        "(or set ORCH_RUN_RUN_NAME)."
    )
    code, _, err = orch("run", "params_flow.py", "--run-name", "x", "--count", "many")
    assert code == 2 and "--count: 'many' is not a valid int." in err
    code, _, err = orch("run", "params_flow.py", "--run-name", "x", "--alpah", "1")
    assert code == 2 and "Unknown option --alpah. Did you mean --alpha?" in err
    code, _, err = orch("run", "params_flow.py", "--run-name", "x", "--text", "/nope/missing.txt")
    assert code == 2 and "--text: file '/nope/missing.txt' does not exist." in err
    assert "Traceback" not in err


def test_parameters_from_the_environment_and_metaflow_user(orch, monkeypatch):
    """METAFLOW_RUN_<NAME> sets a parameter as in Metaflow, ORCH_RUN_<NAME> over it, the command line
    over both; METAFLOW_USER names the user when ORCH_USER does not."""
    monkeypatch.delenv("ORCH_USER", raising=False)
    monkeypatch.setenv("METAFLOW_USER", "tester")
    monkeypatch.setenv("METAFLOW_RUN_RUN_NAME", "from-metaflow-env")
    monkeypatch.setenv("METAFLOW_RUN_COUNT", "5")
    monkeypatch.setenv("ORCH_RUN_COUNT", "7")
    monkeypatch.setenv("METAFLOW_RUN_ALPHA", "0.5")
    code, _, err = orch("run", "params_flow.py", "--alpha", "0.75")
    assert code == 0, err
    run = Flow("ParamsFlow").latest_run
    assert (run.parameters["name_"], run.parameters["count"], run.parameters["alpha"]) == (
        "from-metaflow-env",
        7,
        0.75,
    )
    assert run.user == "tester" and "user:tester" in run.system_tags


def test_static_branches_join_and_merge(orch):
    code, _, err = orch("run", "branches_flow.py")
    assert code == 0, err
    data = Flow("BranchesFlow").latest_run.data
    assert data.by_name == ("from a", "from b")
    assert data.order == ["from a", "from b"] and data.n == 2
    assert data.x == "joined" and data.shared == "same" and data.only_a == 1


def test_merge_conflict_fails_with_metaflow_message(orch):
    code, _, err = orch("run", "conflict_flow.py")
    assert code == 1
    assert "Step join cannot merge the following artifacts due to them having conflicting values: [x]." in err
    run = Flow("ConflictFlow").latest_run
    # Metaflow's rule: a run is finished when its end task is, and this one never reached it
    assert not run.successful and not run.finished and run.finished_at is None
    assert run["join"].task.exception.type == "MergeConflictError"


def test_nested_foreach_with_branches(orch):
    code, _, err = orch("run", "nested_flow.py", "--max-workers", "4")
    assert code == 0, err
    run = Flow("NestedFlow").latest_run
    assert run.data.grid == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]
    inner = sorted(run["inner"], key=lambda t: t.data.cell)
    assert [t.data.cell for t in inner] == ["a1", "a2", "a3", "b1", "b2", "b3"]
    assert inner[4].data.stack == [(1, 2, "b"), (1, 3, 2)]
    assert inner[4].data.idx == 1
    assert inner[4].foreach_stack == [("start", 1, 2), ("outer", 1, 3)]
    assert len(list(run["merge"])) == 6
    first_row = next(t for t in run["inner_join"] if t.data.cells[0] == "a1")
    assert first_row.data.all_sides == [["La1", "Ra1"], ["La2", "Ra2"], ["La3", "Ra3"]]


def test_retry_catch_and_timeout(orch):
    code, out, err = orch("run", "faults_flow.py")
    assert code == 0, err
    run = Flow("FaultsFlow").latest_run
    assert run.data.flaky_attempt == 2
    assert run.data.n_inputs == 4  # len(inputs) works in joins
    flaky = run["flaky"].task
    assert flaky.current_attempt == 2 and flaky.successful
    caught = run.data.doomed_failure
    assert caught.type == "builtins.ValueError" and caught.exception == "always fails"  # module.Class, as Metaflow
    assert "raise ValueError" in caught.stacktrace
    assert run["doomed"].task.current_attempt == 1  # retried once, then caught
    # @timeout raises inside the step, as Metaflow's: @catch keeps what the step set before it
    assert run.data.slow_failure.type == "metaflow.plugins.timeout_decorator.TimeoutException"
    assert run.data.slow_failure.exception.startswith("Step slow timed out after 0 hours, 0 minutes, 1 seconds")
    assert "in slow" in run.data.slow_failure.exception  # the stack when it was raised
    assert run.data.before_timeout == "kept"
    # a step that blocks the signal is killed a grace period later, and @catch records that
    stubborn = run.data.stubborn_failure
    assert stubborn.type == "metaflow.plugins.catch_decorator.FailureHandledByCatch"
    assert stubborn.exception.startswith("Task execution kept failing over 1 attempts.")
    assert "timed_out: timed out after 1 seconds (@timeout) and did not stop; killed" in stubborn.exception
    assert "failed (timed_out): timed out after 1 seconds (@timeout) and did not stop; killed; @catch records it" in err


def test_failure_shows_step_task_and_traceback_then_resume_clones(orch, tmp_path, monkeypatch):
    marker = tmp_path / "fail"
    marker.write_text("x")
    monkeypatch.setenv("FAIL_MARKER", str(marker))
    code, out, err = orch("run", "failing_flow.py")
    assert code == 1
    assert re.search(r"Step failed: FailingFlow/\d+/join/\d+ \(failed\)", err)
    assert "ZeroDivisionError: the join is broken" in err and "Traceback" in err
    failed = Flow("FailingFlow").latest_run
    assert failed.status == "failed"

    marker.unlink()
    code, out, err = orch("resume", "failing_flow.py")
    assert code == 0, err
    assert "from step join of run %s" % failed.id in out
    resumed = Flow("FailingFlow").latest_run
    assert resumed.id != failed.id and resumed.origin_run_id == failed.id
    assert resumed.data.total == 0 + 1 + 4 + 9
    assert resumed.data.origin == failed.id  # current.origin_run_id
    work = list(resumed["work"])
    assert len(work) == 4 and all(t.origin_pathspec for t in work)
    assert resumed["start"].task.origin_pathspec.startswith("FailingFlow/%s/start/" % failed.id)
    assert resumed["join"].task.origin_pathspec is None
    # Cloned tasks share the original artifact blobs, and their logs.
    assert resumed["work"].task["square"].sha == failed["work"].task["square"].sha


def test_resume_named_step_and_unknown_run(orch):
    assert orch("run", "branches_flow.py")[0] == 0
    code, _, err = orch("resume", "branches_flow.py", "b")
    assert code == 0, err
    run = Flow("BranchesFlow").latest_run
    assert run["a"].task.origin_pathspec and not run["b"].task.origin_pathspec
    code, _, err = orch("resume", "branches_flow.py", "--origin-run-id", "999")
    assert code == 1 and "Run BranchesFlow/999 does not exist in this store." in err
    code, _, err = orch("resume", "branches_flow.py", "nope")
    assert code == 1 and "Flow BranchesFlow has no step 'nope' to resume from." in err


def test_runtime_contract_errors(orch):
    code, _, err = orch("run", "bad_runtime_flow.py", "--what", "too-many")
    assert code == 1
    # as in Metaflow: the split task itself succeeded, the run fails
    assert "Foreach in step start yielded 150 child steps, more than the maximum of 100 (--max-num-splits)." in err
    start = Run("BadRuntimeFlow/%s" % Flow("BadRuntimeFlow").latest_run.id)["start"].task
    assert start.successful and start.finished
    assert orch("run", "bad_runtime_flow.py", "--what", "too-many", "--max-num-splits", "200")[0] == 0
    code, _, err = orch("run", "bad_runtime_flow.py", "--what", "not-iterable")
    assert code == 1 and "self.items is a int, which is not iterable." in err
    code, _, err = orch("run", "bad_runtime_flow.py", "--what", "unpicklable")
    assert code == 1 and "Artifact 'lock' of type _thread.lock cannot be pickled" in err


def test_run_id_file_and_tags(orch, tmp_path):
    id_file = tmp_path / "run-id"
    code, _, _ = orch("run", "branches_flow.py", "--run-id-file", str(id_file), "--tag", "nightly")
    assert code == 0
    run = Run("BranchesFlow/%s" % id_file.read_text())
    assert run.user_tags == {"nightly"} and "nightly" in run.tags and run.successful
    assert [r.id for r in Flow("BranchesFlow").runs("nightly")] == [run.id]


def test_genre_stats_example_produces_genre_stats(orch):
    from orchestrator.cli.main import main
    from tests.conftest import EXAMPLES

    code = main(["run", str(EXAMPLES / "genre_stats_flow.py"), "--store", orch.store, "--quiet"])
    assert code == 0
    stats = Flow("GenreStatsFlow").latest_successful_run.data.genre_stats
    assert len(stats) == 15 and stats["Drama"] == [162804648, 187991439, 274084951]
    assert all(len(q) == 3 and q == sorted(q) for q in stats.values())


def test_package_suffixes_ship_declared_files(orch, tmp_path):
    import shutil

    from orchestrator.cli.main import main

    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "lookup.json").write_text('{"answer": 42}')
    (folder / "reader_flow.py").write_text(
        "import json, os\n"
        "from orchestrator import FlowSpec, step\n\n"
        "class ReaderFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        here = os.path.dirname(os.path.abspath(__file__))\n"
        "        self.answer = json.load(open(os.path.join(here, 'lookup.json')))['answer']\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    flow = str(folder / "reader_flow.py")
    assert (
        main(["run", flow, "--store", orch.store, "--quiet", "--executor", "local"]) == 1
    )  # not shipped: .py files only
    assert main(["run", flow, "--store", orch.store, "--quiet", "--package-suffixes", ".json"]) == 0
    assert Flow("ReaderFlow").latest_run.data.answer == 42
    assert "lookup.json" in Flow("ReaderFlow").latest_run.code.tarball.getnames()
    shutil.rmtree(folder)


class _SlowFallbackStart:
    """Wraps an executor so @catch fallback attempts take ``delay`` seconds to start, as a container
    can on a loaded machine; everything else passes through."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.pending = {}  # our handle -> (due, spec), not yet given to the inner executor
        self.alias = {}  # inner handle -> our handle
        self.done = []
        self.ids = itertools.count()

    def submit(self, spec):
        if spec.fallback_reason is None:
            return self.inner.submit(spec)
        handle = "slow-start-%d" % next(self.ids)
        self.pending[handle] = (time.monotonic() + self.delay, spec)
        return handle

    def poll(self, timeout):
        for handle, (due, spec) in list(self.pending.items()):
            if time.monotonic() >= due:
                self.alias[self.inner.submit(spec)] = handle
                del self.pending[handle]
        results = self.inner.poll(min(timeout, 0.1) if self.pending else timeout)
        results = [replace(r, handle=self.alias.get(r.handle, r.handle)) for r in results] + self.done
        self.done = []
        return results

    def cancel(self, handle, state=TaskState.KILLED, message=""):
        if self.pending.pop(handle, None) is not None:
            self.done.append(TaskResult(handle, state, None, message or state.value))
            return
        inner = {ours: theirs for theirs, ours in self.alias.items()}.get(handle, handle)
        self.inner.cancel(inner, state, message)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_catch_fallback_is_not_held_to_the_steps_timeout(orch, monkeypatch):
    """The attempt that records a timed-out task in its @catch variable runs no user code: a slow
    start of it (longer than the step's 1 s @timeout) must not fail the run."""
    make = session.create_executor
    monkeypatch.setattr(session, "create_executor", lambda *args: _SlowFallbackStart(make(*args), 2.0))
    code, out, err = orch("run", "faults_flow.py")
    assert code == 0, err
    failure = Flow("FaultsFlow").latest_run.data.stubborn_failure
    assert "timed_out: timed out after 1 seconds (@timeout)" in failure.exception


def test_a_segfault_is_named_in_the_tasks_stderr_log(orch):
    """As Metaflow: what the step printed before the crash is kept, and its stderr says it segfaulted."""
    code, _, err = orch("run", "segfault_flow.py")
    assert code == 1 and "SIGSEGV" in err
    task = Flow("SegfaultFlow").latest_run["start"].task
    assert "Crash and burn!" in task.stdout
    assert "Task failed with a segmentation fault." in task.stderr
