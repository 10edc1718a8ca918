"""kill -9 of the orchestrator at a random moment, then ``orch resume``: nothing completed is lost or re-run.

For each executor, a fixed seed picks 10 kill moments over the span of an
uninterrupted run of a flow with static branches, a foreach of 20 and
artifacts from bytes to megabytes. After each kill, resume must finish with
the same artifacts (compared by content hash) as the uninterrupted run,
clone every task the killed run completed instead of running it again, leave
``orch fsck`` clean and, in Docker, leave no container behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Tuple

import pytest

from orchestrator.cli.main import main
from orchestrator.store.records import AttemptEnd
from tests.conftest import FLOWS, ROOT

FLOW = str(FLOWS / "reliability" / "crash_flow.py")
TRIALS = 10
SEED = 20261129
_reference: Dict[str, Tuple[dict, float]] = {}
_outcomes: Dict[str, list] = {"local": [], "docker": []}  # per trial: where the kill landed


def _run_dirs(store: str) -> list:
    return sorted(Path(store).glob("flows/CrashFlow/runs/*"), key=lambda p: int(p.name))


def _task_key(start: dict, step: str) -> tuple:
    return (step,) + tuple(frame[2] for frame in start.get("foreach_stack", []))


def _artifacts(run_dir: Path) -> dict:
    """(step, foreach indexes) → {artifact: content hash} for every task's final attempt."""
    out = {}
    for done_path in run_dir.glob("steps/*/*/*.done.json"):
        done = AttemptEnd.from_json(json.loads(done_path.read_text()))
        if not done.succeeded:
            continue
        start_path = done_path.with_name(done_path.name.replace(".done.", ".start."))
        start = json.loads(start_path.read_text())
        key = _task_key(start, done_path.parent.parent.name)
        out[key] = {name: record.key for name, record in done.artifacts.items()}
    return out


def _completed(run_dir: Path) -> set:
    return set(_artifacts(run_dir))


def _orch_containers() -> list:
    import docker

    return docker.from_env().api.containers(all=True, filters={"label": "org.orch.owner"})


def _command(store: str, executor: str, *args: str) -> list:
    return [sys.executable, "-m", "orchestrator.cli.main", *args, FLOW, "--store", store, "--executor", executor]


def _reference_run(executor: str, tmp_path_factory) -> Tuple[dict, float]:
    if executor not in _reference:
        store = str(tmp_path_factory.mktemp("reference-%s" % executor))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run(_command(store, executor, "run", "--quiet"), env=env, check=True, capture_output=True)  # warm
        began = time.monotonic()
        subprocess.run(_command(store, executor, "run", "--quiet"), env=env, check=True, capture_output=True)
        _reference[executor] = (_artifacts(_run_dirs(store)[-1]), time.monotonic() - began)
        assert len(_reference[executor][0]) == 27  # every task's artifacts: the comparisons below are not vacuous
    return _reference[executor]


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("executor", ["local", "docker"])
def test_kill_9_then_resume(executor, trial, tmp_path, tmp_path_factory, capsys):
    expected, span = _reference_run(executor, tmp_path_factory)
    assert len(expected) == 27  # start, left, right, meet, fan, 20 × work, gather, end
    moment = random.Random(SEED * 100 + trial + (1000 if executor == "docker" else 0)).uniform(0.1, span * 0.9)
    store = str(tmp_path / "store")
    process = subprocess.Popen(
        _command(store, executor, "run", "--quiet"),
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(moment)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    runs = _run_dirs(store)
    if not runs:  # killed before the run record existed: nothing to resume, which is correct too
        _outcomes[executor].append("before the run record")
        capsys.readouterr()
        assert main(["run", FLOW, "--store", store, "--executor", executor, "--quiet"]) == 0
        assert _artifacts(_run_dirs(store)[-1]) == expected
        return
    killed = runs[-1]
    time.sleep(0.5)  # containers of a killed run may still commit: they count as completed
    completed = _completed(killed)
    if (killed / "done.json").exists():  # the kill came after the run had ended: nothing to resume
        _outcomes[executor].append("after the run ended")
        done = json.loads((killed / "done.json").read_text())
        assert done["status"] == "succeeded", done
        assert _artifacts(killed) == expected
        assert main(["fsck", "--store", store]) == 0
        return

    _outcomes[executor].append("mid-run, %d of 27 tasks done" % len(completed))
    capsys.readouterr()
    code = main(["resume", FLOW, "--store", store, "--executor", executor, "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    resumed = _run_dirs(store)[-1]
    assert resumed != killed
    assert _artifacts(resumed) == expected  # the same content, hash for hash

    # every task the killed run completed was cloned from it, not run again
    for done_path in resumed.glob("steps/*/*/*.done.json"):
        done = AttemptEnd.from_json(json.loads(done_path.read_text()))
        start = json.loads(done_path.with_name(done_path.name.replace(".done.", ".start.")).read_text())
        key = _task_key(start, done_path.parent.parent.name)
        if key in completed:
            assert done.cloned_from is not None and done.cloned_from.run == killed.name, (key, done)
    assert main(["fsck", "--store", store]) == 0
    if executor == "docker":
        assert _orch_containers() == []  # orphans of the killed run were removed by the resume


@pytest.mark.parametrize("executor", ["local", "docker"])
def test_most_kills_landed_mid_run(executor):
    """The trials above prove something only if their kills interrupt live runs."""
    outcomes = _outcomes[executor]
    if len(outcomes) < TRIALS:
        pytest.skip("runs only after all %d trials of %s (run the whole module)" % (TRIALS, executor))
    mid_run = [o for o in outcomes if o.startswith("mid-run")]
    print("%s kill moments: %s" % (executor, "; ".join(outcomes)))  # shown with pytest -s
    assert len(mid_run) >= TRIALS * 0.7, outcomes


def test_killed_after_the_last_task_but_before_the_run_record(orch, capsys):
    """The narrowest window: every task committed, the run's done record not yet written."""
    code, _, err = orch("run", FLOW, "--pause", "0", "--executor", "local")
    assert code == 0, err
    killed = _run_dirs(orch.store)[-1]
    (killed / "done.json").unlink()  # what a kill -9 between the end task and the run record leaves
    code, _, err = orch("resume", FLOW, "--executor", "local")
    assert code == 0, err
    resumed = _run_dirs(orch.store)[-1]
    assert json.loads((resumed / "done.json").read_text())["tasks_cloned"] == 27
    assert _artifacts(resumed) == _artifacts(killed)
