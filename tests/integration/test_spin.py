"""``spin``: one task of a past run again, in edited code, with its exact inputs; under the local and
Docker executors, from the CLI (both forms) and the Runner API."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from orchestrator import Flow, Runner, client
from orchestrator.cli.main import main
from tests.conftest import ROOT

FLOW = """
from orchestrator import FlowSpec, Parameter, catch, current, parallel, retry, step


class SpinFlow(FlowSpec):
    scale = Parameter("scale", default=1)

    @step
    def start(self):
        self.items = [3, 5, 7]
        self.base = 100
        self.next(self.work, foreach="items")

    @catch(var="failure")
    @retry(times=2)
    @step
    def work(self):
        self.value = self.input * self.scale + self.base  # EDIT
        self.where = (current.retry_count, self.index)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.next(self.prep)

    @step
    def prep(self):
        self.next(self.gang, num_parallel=2)

    @parallel
    @step
    def gang(self):
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SpinFlow()
"""


@pytest.fixture
def flow(tmp_path, orch, monkeypatch):
    """SpinFlow, run once with scale=2, in a folder of its own (spin's scratch store goes there)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "spin_flow.py"
    path.write_text(textwrap.dedent(FLOW))
    code, _, err = orch("run", str(path), "--scale", "2")
    assert code == 0, err
    return path


def _scratch(tmp_path):
    client.metadata(str(tmp_path / ".orch_spin"))
    return Flow("SpinFlow").latest_run


def test_a_foreach_task_spins_with_its_inputs_in_edited_code(flow, orch, tmp_path):
    origin = Flow("SpinFlow").latest_run
    second = sorted(origin["work"], key=lambda t: t.index)[1]
    flow.write_text(flow.read_text().replace("+ self.base  # EDIT", "- self.base  # EDIT"))
    code, _, err = orch("spin", str(flow), "%s/work/%s" % (origin.id, second.id))
    assert code == 0, err
    assert [run.id for run in Flow("SpinFlow").runs()] == [origin.id]  # the flow's store has no new run
    spun = _scratch(tmp_path)
    task = spun["work"][second.id]
    # the same input (5), parameter (scale=2), parent artifact (base) and foreach index; the edited code;
    # no @retry or @catch: retry_count 0 and no catch variable set
    assert task.data.value == 5 * 2 - 100 and task.data.where == (0, 1)
    assert "failure" not in task and spun.origin_run_id == origin.id and list(spun["work"]) == [task]


def test_a_join_spins_metaflows_form_and_persist(flow, orch, tmp_path):
    origin = Flow("SpinFlow").latest_run
    join = origin["join"].task
    flow.write_text(flow.read_text().replace("sorted(i.value for i in inputs)", "sorted(-i.value for i in inputs)"))
    result = subprocess.run(
        [sys.executable, str(flow), "--datastore-root", orch.store, "--quiet", "spin", "join"]
        + ["--spin-pathspec", "%s/join/%s" % (origin.id, join.id), "--persist"],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "ORCH_EXECUTOR": "local"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    client.metadata(orch.store)
    spun = Flow("SpinFlow").latest_run  # --persist: a new run of the flow's own store
    assert spun.id != origin.id and spun.origin_run_id == origin.id
    assert spun["join"].task.data.values == [-114, -110, -106]
    assert spun["join"].task.id == join.id  # the task keeps the id of the one it repeats


def test_artifacts_module_replaces_an_input(flow, orch, tmp_path):
    (tmp_path / "overrides.py").write_text("ARTIFACTS = {'base': 1000}\n")
    origin = Flow("SpinFlow").latest_run
    first = sorted(origin["work"], key=lambda t: t.index)[0]
    path = "%s/work/%s" % (origin.id, first.id)
    assert orch("spin", str(flow), path, "--artifacts-module", str(tmp_path / "overrides.py"))[0] == 0
    assert _scratch(tmp_path)["work"][first.id].data.value == 3 * 2 + 1000


def test_bad_spins_say_why(flow, orch):
    origin = Flow("SpinFlow").latest_run
    code, _, err = orch("spin", str(flow), "%s/gang" % origin.id)
    assert code == 2 and "Step 'gang' is a @parallel step" in err
    code, _, err = orch("spin", str(flow), "%s/work/999" % origin.id)
    assert code == 1 and "has no task work/999" in err
    code, _, err = orch("spin", str(flow), "Other/%s/work/1" % origin.id)
    assert code == 2 and "names flow Other, but the flow file defines SpinFlow" in err
    code, _, err = orch("spin", str(flow), "../x/work")
    assert code != 0 and "Invalid run name" in err and "Traceback" not in err


def test_runner_spin_and_the_latest_run(flow, orch, tmp_path):
    """``spin STEP`` takes the latest run's first task of the step, as Metaflow's."""
    env = {"PYTHONPATH": str(ROOT), "ORCH_STORE": orch.store, "ORCH_EXECUTOR": "local"}
    origin = Flow("SpinFlow").latest_run
    start_id = origin["start"].task.id
    with Runner(str(flow), show_output=False, env=env, cwd=str(tmp_path)) as runner:
        spun = runner.spin("start")
        assert spun.status == "successful" and spun.task.data.items == [3, 5, 7]
        assert spun.task.id == start_id and spun.task.parent.parent.origin_run_id == origin.id
    assert client.get_metadata() == "local@%s" % (tmp_path / ".orch_spin")  # the client reads the spin store


def test_spin_in_a_container_in_the_steps_environment(engine, flow, orch, tmp_path):
    origin = Flow("SpinFlow").latest_run
    task = sorted(origin["work"], key=lambda t: t.index)[2]
    flow.write_text(flow.read_text().replace("self.where = (", "import os; self.uid = os.getuid(); self.where = ("))
    code, _, err = orch("spin", str(flow), "%s/work/%s" % (origin.id, task.id), "--executor", "docker")
    assert code == 0, err
    spun = _scratch(tmp_path)
    assert spun._record.executor == "docker"
    data = spun["work"][task.id].data
    assert data.value == 7 * 2 + 100 and data.uid != 0  # in a non-root container, with the same inputs
    assert main(["fsck", "--store", str(tmp_path / ".orch_spin")]) == 0
