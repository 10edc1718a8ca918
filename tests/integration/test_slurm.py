"""Slurm end to end, on the real one-node cluster ``make slurm`` starts: jobs run orch's images with
Docker (or Charliecloud), the store is a folder every job reaches. Nothing here is skipped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from orchestrator import Flow, client
from orchestrator.cli.main import main
from tests.conftest import FLOWS, ROOT

SLURM_FLOWS = FLOWS / "slurm"
EXAMPLES = ROOT / "examples"


class OnSlurm:
    """Runs ``orch COMMAND FLOW --store STORE ARGS`` in this process, and reads what Slurm and Docker show."""

    def __init__(self, folder: Path, capsys) -> None:
        self.folder = folder
        self.store = str(folder / "store")
        self.capsys = capsys

    def __call__(self, command: str, flow: str, *args: str):
        self.capsys.readouterr()
        code = main([command, flow, "--store", self.store, *args])
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def start(self, flow: str, *args: str) -> subprocess.Popen:
        """The same command as a child process, for tests that stop or kill orch."""
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli.main", "run", flow, "--store", self.store, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            start_new_session=True,
        )

    def scripts(self, flow: str) -> List[str]:
        return [p.read_text() for p in sorted((self.folder / "scratch" / flow).glob("*/jobs/*.sh"))]


@pytest.fixture
def on_slurm(slurm_env, capsys):
    runner = OnSlurm(slurm_env, capsys)
    client.metadata(runner.store)
    client.namespace(None)
    yield runner
    client.reset()


def jobs(flow: str, step: str = "") -> Dict[str, str]:
    """job id → state, for the jobs of ``flow``'s runs (of ``step``) that Slurm still shows (array tasks
    one each)."""
    out = subprocess.run(
        ["squeue", "-h", "-r", "--states=all", "-u", "root,%s" % _user(1000), "-o", "%i|%T|%j|%k"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        job, state, name, comment = line.split("|", 3)
        if ",run=%s/" % flow in comment and (not step or "-%s-" % step in name):
            found[job] = state
    return found


def _user(uid: int) -> str:
    import pwd

    return pwd.getpwuid(uid).pw_name


def containers(job: str = "") -> List[str]:
    """Task containers of Slurm jobs (of ``job``) still on the engine."""
    label = "org.orch.slurm-job" + ("=%s" % job if job else "")
    out = subprocess.run(["docker", "ps", "-a", "-q", "--filter", "label=" + label], capture_output=True, text=True)
    return out.stdout.split()


def wait_for(predicate, seconds: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % (what or predicate))
        time.sleep(0.2)


def running(flow: str, step: str = "wait") -> List[str]:
    return [job for job, state in jobs(flow, step).items() if state == "RUNNING"]


def test_a_hybrid_run_puts_only_the_decorated_step_on_slurm(on_slurm):
    code, out, err = on_slurm("run", str(SLURM_FLOWS / "hybrid_flow.py"), "--executor", "local")
    assert code == 0, err
    run = Flow("SlurmHybridFlow").latest_run
    assert run._record.executor == "local+slurm"
    assert run.data.where["start"] is None and run.data.where["end"] is None
    crunch = run["crunch"].task
    assert crunch.data.where["crunch"] == crunch.metadata_dict["slurm-job-id"]
    assert crunch.metadata_dict["slurm-node"] and crunch.metadata_dict["slurm-partition"]
    assert crunch.data.uid == 1000  # the container's user, not root
    assert "crunching on Slurm job %s" % crunch.data.where["crunch"] in crunch.stdout
    assert "slurm-job-id" not in run["start"].task.metadata_dict
    (script,) = on_slurm.scripts("SlurmHybridFlow")
    assert "#SBATCH --mem=428M" in script  # @slurm(memory=300) for the container, and its client's share
    assert "--memory-swap" in script and "--cap-drop ALL" in script and "--read-only" in script
    assert not containers()


def test_a_foreach_is_one_job_array_throttled_by_max_workers(on_slurm):
    flow = str(SLURM_FLOWS / "fanout_flow.py")
    code, out, err = on_slurm("run", flow, "--with", "slurm", "--max-workers", "2", "--n", "6")
    assert code == 0, err
    run = Flow("SlurmFanoutFlow").latest_run
    assert run._record.executor == "slurm" and run.data.total == sum(i * i for i in range(6))
    parent = run.data.jobs[0].split("_")[0]
    assert run.data.jobs == ["%s_%d" % (parent, i) for i in range(6)]  # Slurm's own ARRAYJOBID_INDEX form
    assert sorted(t.metadata_dict["slurm-job-id"] for t in run["square"]) == run.data.jobs
    arrays = [s for s in on_slurm.scripts("SlurmFanoutFlow") if "--array" in s]
    assert len(arrays) == 1 and "#SBATCH --array=0-5%2" in arrays[0]
    done = json.loads((Path(on_slurm.store) / ("flows/SlurmFanoutFlow/runs/%s/done.json" % run.id)).read_text())
    calls = done["executor_stats"]["slurm_calls"]
    assert calls["sbatch"] == 4  # start, the array of six, join, end
    assert calls["squeue"] <= 8 * done["executor_stats"]["seconds"] + 10  # one call per poll, never per task


def test_the_same_flow_runs_under_charliecloud(on_slurm, monkeypatch):
    monkeypatch.setenv("ORCH_SLURM_RUNTIME", "charliecloud")
    code, out, err = on_slurm("run", str(SLURM_FLOWS / "fanout_flow.py"), "--with", "slurm", "--n", "3")
    assert code == 0, err
    run = Flow("SlurmFanoutFlow").latest_run
    assert run.data.total == 5 and len(run.data.jobs) == 3
    assert all("ch-run --private-tmp" in s for s in on_slurm.scripts("SlurmFanoutFlow"))
    assert list((on_slurm.folder / "scratch" / "images" / "ch").iterdir())  # unpacked once, by digest


def test_two_pandas_versions_in_one_run(on_slurm, offline_pypi):
    demo = on_slurm.folder / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code, out, err = on_slurm("run", str(demo / "pypi_flow.py"), "--with", "slurm")
    assert code == 0, err
    run = Flow("PandasVersionsPypiFlow").latest_run
    assert run["start"].task.data.old["version"] == "1.5.3"
    assert run["upgrade"].task.data.new["version"] == "2.2.3"
    assert all(run[step].task.metadata_dict["slurm-job-id"] for step in run._record.environments)


def test_ctrl_c_cancels_the_job_and_removes_its_container(on_slurm):
    proc = on_slurm.start(str(SLURM_FLOWS / "slow_flow.py"), "--with", "slurm")
    wait_for(lambda: running("SlurmSlowFlow"), what="the wait step's job")
    (job,) = running("SlurmSlowFlow")
    wait_for(lambda: containers(job), what="its container")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "stopped by SIGINT" in err, err
    assert jobs("SlurmSlowFlow")[job] == "CANCELLED"
    wait_for(lambda: not containers(job), 30, "the task container to be removed")


def test_timeout_and_out_of_memory_are_retried_then_caught(on_slurm):
    code, out, err = on_slurm("run", str(SLURM_FLOWS / "faults_flow.py"), "--with", "slurm")
    assert code == 0, err
    run = Flow("SlurmFaultsFlow").latest_run
    # @timeout stops the step inside its task, so its retry's exception is what @catch records
    assert run.data.slow_failure == (
        "metaflow.plugins.timeout_decorator.TimeoutException: Step too_slow timed out after 0 hours, 0 minutes, "
        "5 seconds"
    )
    assert run["too_slow"].task.current_attempt == 1
    # an OOM kill is a death: retried, then recorded by @catch's fallback attempt with the reason
    assert run.data.big_failure.endswith("environment caused the failure: oom: killed: out of memory (limit 128 MiB)")
    assert run["too_big"].task.current_attempt == 2
    assert not containers()


def test_a_job_cancelled_from_outside_is_retried(on_slurm):
    proc = on_slurm.start(str(SLURM_FLOWS / "slow_flow.py"), "--with", "slurm")
    wait_for(lambda: running("SlurmSlowFlow"), what="the wait step's job")
    (job,) = running("SlurmSlowFlow")
    subprocess.run(["scancel", job], check=True)  # an administrator, or the user, by hand
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "cancelled from outside orch (scancel): CANCELLED" in err + out
    run = Flow("SlurmSlowFlow").latest_run
    assert run.data.attempt == 1


def test_resume_after_kill_9_cancels_what_the_killed_run_left(on_slurm):
    proc = on_slurm.start(str(SLURM_FLOWS / "slow_flow.py"), "--with", "slurm")
    wait_for(lambda: running("SlurmSlowFlow"), what="the wait step's job")
    (job,) = running("SlurmSlowFlow")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert jobs("SlurmSlowFlow")[job] == "RUNNING"  # orch is gone; its job is not (yet)
    code, out, err = on_slurm("resume", str(SLURM_FLOWS / "slow_flow.py"), "--with", "slurm")
    assert code == 0, err
    assert jobs("SlurmSlowFlow")[job] == "CANCELLED"
    assert Flow("SlurmSlowFlow").latest_run.successful
    wait_for(lambda: not containers(job), 30, "the orphan's container to be removed")


def test_jobs_of_a_killed_orch_stop_by_themselves(on_slurm, monkeypatch):
    monkeypatch.setenv("ORCH_SLURM_ORPHAN_SECONDS", "6")
    proc = on_slurm.start(str(SLURM_FLOWS / "slow_flow.py"), "--with", "slurm")
    wait_for(lambda: running("SlurmSlowFlow"), what="the wait step's job")
    (job,) = running("SlurmSlowFlow")
    killed = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    wait_for(lambda: jobs("SlurmSlowFlow")[job] != "RUNNING", 60, "the orphan to stop itself")
    assert time.monotonic() - killed < 40  # 6 s of silence, looked at every 1 s, then the container's stop
    assert not containers(job)
    log = next((on_slurm.folder / "scratch" / "SlurmSlowFlow").glob("*/logs/%s.err" % job)).read_text()
    assert "the run that submitted this job is gone" in log


def test_images_reach_the_nodes_through_a_registry(on_slurm, monkeypatch):
    from tests.batch_infra import LocalRegistry

    registry = LocalRegistry(str(on_slurm.folder / "registry"))
    try:
        monkeypatch.setenv("ORCH_SLURM_REGISTRY", registry.host)
        code, out, err = on_slurm("run", str(SLURM_FLOWS / "fanout_flow.py"), "--with", "slurm", "--n", "2")
        assert code == 0, err
        run = Flow("SlurmFanoutFlow").latest_run
        (env,) = {tuple(sorted(e.items())) for e in run._record.environments.values()}
        env = dict(env)
        repository, _, digest = env["slurm_image"].partition("@")
        assert repository == "%s/orch-env" % registry.host
        assert registry.manifest_digest("orch-env", env["image"].split(":")[1]) == digest  # jobs run it by digest
        assert all(env["slurm_image"] in s and "docker load" not in s for s in on_slurm.scripts("SlurmFanoutFlow"))
    finally:
        registry.stop()


def test_a_job_past_its_slurm_time_limit_is_a_death_named_timeout(on_slurm):
    code, out, err = on_slurm("run", str(SLURM_FLOWS / "timelimit_flow.py"), "--executor", "local")
    assert code == 0, err
    said = Flow("SlurmTimeLimitFlow").latest_run.data.said
    assert "reached its Slurm time limit (--time=1): TIMEOUT" in said, said
    assert not containers()


def test_an_s3_store_with_charliecloud_jobs(slurm_env, s3_bucket, monkeypatch, capsys):
    """The store in S3 (moto on loopback, which ch-run's jobs share the network of): nothing but the
    scratch folder is on the shared filesystem, and no credential is written into a job script."""
    monkeypatch.setenv("ORCH_SLURM_RUNTIME", "charliecloud")
    store = "s3://%s/slurm" % s3_bucket
    client.metadata(store)
    client.namespace(None)
    try:
        capsys.readouterr()
        code = main(["run", str(SLURM_FLOWS / "fanout_flow.py"), "--store", store, "--with", "slurm", "--n", "3"])
        err = capsys.readouterr().err
        assert code == 0, err
        run = Flow("SlurmFanoutFlow").latest_run
        assert run.data.total == 5 and len(run.data.jobs) == 3
        assert "total 5" in run["end"].task.stdout
        scripts = [p.read_text() for p in (slurm_env / "scratch").glob("SlurmFanoutFlow/*/jobs/*.sh")]
        secret = "AWS_SECRET_ACCESS_KEY=%s" % os.environ["AWS_SECRET_ACCESS_KEY"]
        assert scripts and not any(secret in s or secret.replace("=", '="') in s for s in scripts)
        assert all("ORCH_STORE=%s" % store in s for s in scripts)
    finally:
        client.reset()
