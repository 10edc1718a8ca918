"""Four runs of two flows share one store at once, with gc running beside them: all succeed, nothing is lost.

gc is safe by design rather than by a lock: it keeps every run without a done
record whose records changed within the grace period (a live run), and it
never deletes a blob younger than the grace period, so a blob written by a
task that has not committed yet survives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from orchestrator.cli.main import main
from tests.conftest import FLOWS, ROOT


def test_four_runs_two_flows_one_store_with_gc_alongside(tmp_path, capsys):
    store = str(tmp_path / "store")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    flows = [FLOWS / "reliability" / "crash_flow.py", FLOWS / "run" / "branches_flow.py"] * 2
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli.main", "run", str(flow), "--store", store]
            + ["--executor", "local", "--quiet", "--max-workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for flow in flows
    ]
    stop = threading.Event()
    gc_runs = []

    def collect() -> None:
        while not stop.is_set():
            gc_runs.append(
                subprocess.run(
                    [sys.executable, "-m", "orchestrator.cli.main", "gc", "--store", store, "--keep-last", "0"],
                    env=env,
                    capture_output=True,
                    text=True,
                )
            )
            time.sleep(0.2)

    collector = threading.Thread(target=collect)
    collector.start()
    errors = [p.communicate(timeout=300)[1] for p in processes]
    stop.set()
    collector.join()
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert len(gc_runs) >= 2 and all(r.returncode == 0 for r in gc_runs), [r.stderr for r in gc_runs]

    # gc removed every finished run it saw (--keep-last 0) but never what a live one still needed:
    # each flow's joins read every artifact of their inputs, so a lost blob would have failed its run
    assert any("removed" in r.stdout.lower() for r in gc_runs), [r.stdout for r in gc_runs]
    capsys.readouterr()
    assert main(["fsck", "--store", store]) == 0
