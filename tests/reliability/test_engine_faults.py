"""Docker engine faults, injected for real: a container killed from outside, a missing image, and the
engine itself stopping mid-run and coming back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator import Flow, Task
from tests.conftest import FLOWS, ROOT, wait_for

SLOW = str(FLOWS / "reliability" / "slow_retry_flow.py")


def _step_containers(engine, step: str) -> list:
    return engine.api.containers(filters={"label": ["org.orch.owner", "org.orch.step=%s" % step]})


def _attempt_started(store: str, step: str) -> bool:
    return bool(list(Path(store).glob("flows/*/runs/*/steps/%s/*/0.start.json" % step)))


def _start(store: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", SLOW, "--store", store, "--executor", "docker", *args],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_container_killed_from_outside_fails_its_attempt_and_retry_applies(engine, orch):
    process = _start(orch.store)
    assert wait_for(lambda: _attempt_started(orch.store, "slow")), "the slow step never started"
    running = wait_for(lambda: [c for c in _step_containers(engine, "slow") if c["State"] == "running"])
    time.sleep(0.5)  # the task has been handed over and is sleeping
    owner = [c for c in running if _attempt_started(orch.store, "slow")]
    engine.api.kill(owner[0]["Id"])
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "retrying" in err
    run = Flow("SlowRetryFlow").latest_run
    assert run["slow"].task.data.finished_on == 1
    first = Task(run["slow"].task.pathspec, _attempt=0)
    assert first.exception.type in ("killed", "failed")


def test_a_missing_image_is_rebuilt(engine, orch):
    code, out, err = orch("run", SLOW, "--executor", "docker", "--seconds", "0")
    assert code == 0, err
    image = Flow("SlowRetryFlow").latest_run._record.environments
    tag = next(iter(image.values()))["image"] if image else None
    if tag is None:  # steps without an env run in the default image
        tag = engine.api.images(filters={"label": "org.orch.kind=default"})[0]["RepoTags"][0]
    engine.api.remove_image(tag, force=True)
    code, out, err = orch("run", SLOW, "--executor", "docker", "--seconds", "0")
    assert code == 0, err
    assert "Built image %s" % tag in out + err
    assert engine.api.images(name=tag.split(":")[0], filters={"reference": tag})


def _dockerd_pid() -> int:
    out = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    assert out, "no dockerd process: these tests manage the engine started by scripts/ensure-docker.sh"
    return int(out[0])


def test_the_engine_stopping_mid_run_fails_clearly_and_resume_finishes(engine, orch, capsys):
    process = _start(orch.store)
    assert wait_for(lambda: _attempt_started(orch.store, "slow")), "the slow step never started"
    time.sleep(1)
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGTERM)
    try:
        wait_for(lambda: not Path("/proc/%d" % pid).exists(), seconds=60)
        out, err = process.communicate(timeout=120)
    finally:
        subprocess.run([str(ROOT / "scripts" / "ensure-docker.sh")], check=True)
    assert process.returncode == 1, err
    assert "Docker engine" in err, err
    assert "Traceback" not in err
    done = list(Path(orch.store).glob("flows/*/runs/*/done.json"))
    assert done and json.loads(done[0].read_text())["status"] == "failed"
    code, out, err = orch("resume", SLOW, "--executor", "docker")
    assert code == 0, err
    resumed = Flow("SlowRetryFlow").latest_run
    assert resumed.successful and resumed["start"].task.origin_pathspec  # start was not run again
