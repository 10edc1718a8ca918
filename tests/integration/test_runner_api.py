"""The Runner API: runs and resumes from Python in a subprocess, blocking and async, and NBRunner for a
flow defined in an IPython cell (a real InteractiveShell, as in Jupyter)."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time

import pytest

from orchestrator import Flow, NBRunner, Runner
from orchestrator.runner.command import flow_command
from tests.conftest import FLOWS, ROOT

PARAMS = str(FLOWS / "run" / "params_flow.py")
FAILING = str(FLOWS / "run" / "failing_flow.py")


@pytest.fixture
def env(tmp_path, orch):
    """The subprocess's environment: this checkout importable, the test's store, local tasks."""
    return {"PYTHONPATH": str(ROOT), "ORCH_STORE": orch.store, "ORCH_EXECUTOR": "local", "METAFLOW_USER": "tester"}


def test_keywords_become_the_commands_options():
    argv = flow_command(
        "f.py", {"quiet": True, "pylint": False, "decospecs": ["retry"]}, "run", {"tags": ["a", "b"], "alpha": 0.5}
    )
    top, command = argv[: argv.index("run")], argv[argv.index("run") :]
    assert sorted(top) == ["--no-pylint", "--quiet", "--with", "retry"] and top[top.index("--with") + 1] == "retry"
    assert command == ["run", "f.py", "--tag", "a", "--tag", "b", "--alpha=0.5"]
    assert flow_command("f.py", {}, "resume", {"step_to_rerun": "b", "origin_run_id": "7"}) == [
        "resume",
        "f.py",
        "b",
        "--origin-run-id",
        "7",
    ]
    flags = flow_command("f.py", {}, "run", {"flag": True, "config": {"k": [1]}, "none": None})
    assert flags[2:] == ["--flag=true", '--config={"k": [1]}']


def test_run_waits_and_gives_the_client_run(env, tmp_path):
    with Runner(PARAMS, show_output=False, env=env, cwd=str(tmp_path), quiet=True) as runner:
        result = runner.run(run_name="api", alpha=0.25, flag=True, tags=["nightly"], max_workers=2)
        assert result.status == "successful" and result.returncode == 0
        assert result.run.successful and result.run.data.final == (2, 20, 0.25)
        assert result.run["start"].task.data.seen["flag"] is True and "nightly" in result.run.user_tags
        assert "Running ParamsFlow as run %s" % result.run.id in result.stdout
        logs = result.command_obj.log_files
    assert not any(os.path.exists(path) for path in logs.values())  # the context manager cleaned up


def test_a_failing_run_returns_and_resumes(env, tmp_path):
    marker = tmp_path / "fail"
    marker.write_text("")
    runner = Runner(FAILING, show_output=False, env=dict(env, FAIL_MARKER=str(marker)), cwd=str(tmp_path))
    failed = runner.run()
    assert failed.status == "failed" and failed.returncode == 1 and not failed.run.successful
    assert "the join is broken" in failed.stdout + failed.stderr
    marker.unlink()
    resumed = runner.resume()  # the latest run is the origin, as on the command line
    assert resumed.status == "successful" and resumed.run.origin_run_id == failed.run.id
    assert resumed.run.data.total == 14
    runner.cleanup()


def test_bad_keywords_and_parameters_raise_at_once(env, tmp_path):
    with pytest.raises(RuntimeError, match="Unknown option --alpa. Did you mean --alpha"):
        Runner(PARAMS, show_output=False, env=env, cwd=str(tmp_path)).run(run_name="x", alpa=1)
    with pytest.raises(TypeError, match="unexpected keyword argument.*'colour'"):
        Runner(PARAMS, colour="red")
    with pytest.raises(FileNotFoundError):
        Runner(str(tmp_path / "nope.py"))


def test_resume_reruns_from_a_step(env, tmp_path):
    with Runner(PARAMS, show_output=False, env=env, cwd=str(tmp_path)) as runner:
        first = runner.run(run_name="r")
        again = runner.resume(step_to_rerun="end", origin_run_id=first.run.id)
        assert again.status == "successful" and again.run.origin_run_id == first.run.id
        assert again.run.id != first.run.id and again.run.data.final == (2, 20, 0.5)


def test_async_run_streams_lines_while_it_runs(env, tmp_path):
    async def follow():
        async with Runner(PARAMS, env=env, cwd=str(tmp_path)) as runner:
            running = await runner.async_run(run_name="async")
            seen = [line async for _, line in running.stream_log("stdout")]
            await running.wait(timeout=120)
            return running.status, running.run.id, seen

    status, run_id, lines = asyncio.run(follow())
    assert status == "successful"
    assert any(line.endswith("final (2, 20, 0.5)") for line in lines)
    assert lines[-1].startswith("Run ParamsFlow/%s succeeded" % run_id)


def test_wait_with_a_timeout_kills_the_run(env, tmp_path):
    async def impatient():
        runner = Runner(str(FLOWS / "run" / "slow_foreach_flow.py"), env=env, cwd=str(tmp_path))
        running = await runner.async_run(pause=30)
        began = time.monotonic()
        await running.wait(timeout=1)
        status, waited = running.status, time.monotonic() - began
        runner.cleanup()
        return status, waited, running.run

    status, waited, run = asyncio.run(impatient())
    assert status == "timeout" and waited < 20 and not run.successful  # stopped: the run records it ended


def test_nbrunner_runs_the_flow_of_an_ipython_cell(env, tmp_path, monkeypatch):
    """The cell is what IPython recorded; the notebook's interpreter runs no step code."""
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    monkeypatch.chdir(tmp_path)
    shell = interactive.InteractiveShell.instance()
    cell = textwrap.dedent(
        """
        from orchestrator import FlowSpec, Parameter, step
        import os

        class CellFlow(FlowSpec):
            n = Parameter("n", default=2)

            @step
            def start(self):
                self.pid = os.getpid()
                self.squared = self.n ** 2
                self.next(self.end)

            @step
            def end(self):
                pass

        run = NBRunner(CellFlow, show_output=False, env=ENV).nbrun(n=7)
        """
    )
    shell.user_ns.update(NBRunner=NBRunner, ENV=env)
    outcome = shell.run_cell(cell, store_history=True)
    assert outcome.success, outcome.error_in_exec
    run = shell.user_ns["run"]
    assert run.successful and run.data.squared == 49 and run.data.pid != os.getpid()
    assert Flow("CellFlow").latest_run.id == run.id
    assert [name for name in os.listdir(str(tmp_path)) if name.endswith(".py")] == []  # nbrun cleaned up
