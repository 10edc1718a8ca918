"""Step memoization under the Docker and AWS Batch (moto) executors, and a lock change: a hit starts no
container and submits no job, and a new lock re-runs exactly the steps of that environment."""

from __future__ import annotations

import textwrap

from orchestrator import Flow
from orchestrator.cli.main import main

FLOW = """
from orchestrator import FlowSpec, cache, step


class ExecMemoFlow(FlowSpec):
    @cache
    @step
    def start(self):
        self.items = list(range(4))
        self.next(self.work, foreach="items")

    @cache
    @step
    def work(self):
        self.square = self.input * self.input
        self.next(self.join)

    @cache
    @step
    def join(self, inputs):
        self.total = sum(i.square for i in inputs)
        self.next(self.end)

    @cache
    @step
    def end(self):
        pass
"""

SIX = """
from orchestrator import FlowSpec, cache, pypi, step


class SixMemoFlow(FlowSpec):
    @cache
    @pypi(python="3.11", packages={"six": "%s"})
    @step
    def start(self):
        import six
        self.version = six.__version__
        self.next(self.end)

    @cache
    @step
    def end(self):
        self.done = True
"""


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _ran(run) -> int:
    return run._end_record().tasks_run


def test_docker_hits_start_no_container(engine, orch, tmp_path):
    flow = _write(tmp_path, "exec_memo_flow.py", FLOW)
    assert orch("run", flow, "--executor", "docker")[0] == 0
    first = Flow("ExecMemoFlow").latest_run
    before = {c.id for c in engine.containers.list(all=True)}
    code, _, err = orch("run", flow, "--executor", "docker")
    assert code == 0, err
    again = Flow("ExecMemoFlow").latest_run
    assert _ran(again) == 0 and again.data.total == first.data.total == 14
    assert {c.id for c in engine.containers.list(all=True)} - before == set()  # nothing was started
    # the executor is not part of the key: a local run reuses what the containers wrote
    assert orch("run", flow, "--executor", "local")[0] == 0
    assert _ran(Flow("ExecMemoFlow").latest_run) == 0


def test_batch_hits_submit_no_job(on_batch, tmp_path):
    flow = _write(tmp_path, "exec_memo_flow.py", FLOW)
    code, _, err = on_batch(flow, "--with", "batch")
    assert code == 0, err
    first = Flow("ExecMemoFlow").latest_run
    assert first._end_record().executor_stats["batch_api_calls"]["submit_job"] > 0
    code, _, err = on_batch(flow, "--with", "batch")
    assert code == 0, err
    again = Flow("ExecMemoFlow").latest_run
    assert _ran(again) == 0 and again.data.total == first.data.total
    assert not again._end_record().executor_stats.get("batch_api_calls", {}).get("submit_job")


def test_a_lock_change_reruns_the_steps_of_that_environment(offline_pypi, orch, tmp_path):
    flow = _write(tmp_path, "six_memo_flow.py", SIX % "1.16.0")
    assert orch("run", flow, "--executor", "local")[0] == 0
    assert _ran(Flow("SixMemoFlow").latest_run) == 2
    flow = _write(tmp_path, "six_memo_flow.py", SIX % "1.17.0")
    code, _, err = orch("run", flow, "--executor", "local")
    assert code == 0, err
    run = Flow("SixMemoFlow").latest_run
    assert run["start"].task.cached_from is None and run["start"].task.data.version == "1.17.0"
    assert run["end"].task.cached_from is not None  # it read nothing that changed
    orch.capsys.readouterr()
    assert main(["why", "%s/start" % run.pathspec, "--store", orch.store]) == 0
    assert "environment changed: six 1.16.0 -> 1.17.0." in orch.capsys.readouterr().out
