"""Ctrl-C, SIGTERM and kill -9 of the orchestrator: tasks stop, nothing completed is lost, resume finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator import Flow
from tests.conftest import FLOWS, ROOT

FLOW = str(FLOWS / "run" / "slow_foreach_flow.py")


def _start(store: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", FLOW, "--store", store, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def _records(store: str, kind: str) -> list:
    return [json.loads(p.read_text()) for p in Path(store).glob("flows/*/runs/*/steps/work/*/*.%s.json" % kind)]


def _wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:  # a zombie is as good as dead
        return handle.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "kill-9"])
def test_stop_then_resume(orch, sig):
    proc = _start(orch.store, "--n", "4", "--pause", "1.5", "--max-workers", "2")
    _wait_for(lambda: len(_records(orch.store, "done")) >= 2)
    _wait_for(lambda: len(_records(orch.store, "start")) >= 3)  # the second wave is running
    running = [r["pid"] for r in _records(orch.store, "start")]
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    _wait_for(lambda: not any(_alive(pid) for pid in running), seconds=10)
    run = Flow("SlowForeachFlow").latest_run
    if sig == signal.SIGKILL:
        assert not run.finished  # the orchestrator had no chance to write the end record
    else:
        assert run.status == "failed"
        assert "stopped by %s; resume it with: orch resume" % signal.Signals(sig).name in err
    done_before = {r["finished_at"] for r in _records(orch.store, "done")}

    code, out, err = orch("resume", "slow_foreach_flow.py")
    assert code == 0, err
    resumed = Flow("SlowForeachFlow").latest_run
    assert resumed.data.values == [0, 2, 4, 6]
    cloned = [t for t in resumed["work"] if t.origin_pathspec]
    assert len(cloned) >= 2  # completed work is reused, not re-run
    assert resumed["start"].task.origin_pathspec is not None
    # no record of the interrupted run was rewritten
    assert done_before <= {r["finished_at"] for r in _records(orch.store, "done")}


def test_python_flow_py_run(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "linear_flow.py", "run", "--store", str(tmp_path)],
        cwd=ROOT / "examples",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "the data artifact is still: hello world" in result.stdout
    assert "succeeded: 3 tasks" in result.stdout


def test_tasks_run_the_code_snapshot_not_the_live_file(tmp_path):
    flow = tmp_path / "snapshot_flow.py"
    flow.write_text(
        "import time\n"
        "from orchestrator import FlowSpec, step\n\n"
        "class SnapshotFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        time.sleep(2)\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        print('version one')\n\n"
        "if __name__ == '__main__':\n"
        "    SnapshotFlow()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(flow), "run", "--store", str(tmp_path / "store")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: list((tmp_path / "store").glob("flows/*/runs/*/steps/start/*/0.start.json")))
    flow.write_text(flow.read_text().replace("version one", "version two"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "version one" in out and "version two" not in out
