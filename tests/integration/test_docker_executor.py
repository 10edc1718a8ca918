"""The Docker executor against a real engine: isolation, identity, limits, faults, cleanup, the pandas demo."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from orchestrator import Flow
from tests.conftest import EXAMPLES, FLOWS, ROOT

FACTS = str(FLOWS / "docker" / "container_facts_flow.py")


def _orch_containers(engine, settle: float = 15.0) -> list:
    """orch-labelled containers still present once the engine has finished removals in flight."""
    deadline = time.monotonic() + settle
    while True:
        left = engine.containers.list(all=True, sparse=True, filters={"label": "org.orch.owner"})
        if not left or time.monotonic() > deadline:
            return [c.id for c in left]
        time.sleep(0.2)


def test_each_task_in_its_own_non_root_container(engine, orch):
    code, out, err = orch("run", FACTS, "--executor", "docker")
    assert code == 0, err
    run = Flow("ContainerFactsFlow").latest_run
    where = list(run["where"])
    assert len({t.data.hostname for t in where}) == 3  # three containers, three hostnames
    assert len({t.data.cgroup for t in where}) == 3
    assert all(t.data.uid != 0 for t in where)
    data = run["join"].task.data
    assert not data.code_writable and not data.saw_socket
    assert run._record.executor == "docker"
    assert all(e["image"].startswith("orch-env:") for e in run._record.environments.values())
    assert _orch_containers(engine) == []


def test_faults_behave_as_in_the_local_executor(engine, orch):
    code, out, err = orch("run", FACTS, "--executor", "docker", "--mode", "faults")
    assert code == 0, err
    data = Flow("ContainerFactsFlow").latest_run.data
    assert "killed: out of memory (limit 64 MiB)" in data.hog_failure.exception
    assert data.slow_failure.type == "metaflow.plugins.timeout_decorator.TimeoutException"  # raised in the step
    assert "Step slow timed out after 0 hours, 0 minutes, 2 seconds" in data.slow_failure.exception
    assert "container exited with code 3" in data.crash_failure.exception
    assert data.attempt == 1
    assert "failed (oom): killed: out of memory (limit 64 MiB)" in err
    assert _orch_containers(engine) == []


def test_container_pid1_tells_an_out_of_memory_kill(engine, orch):
    """The engine's OOMKilled flag races the exit; PID 1's reading of the cgroup counter does not."""
    from orchestrator.executors.docker import SUPERVISOR

    code, out, err = orch("run", FACTS, "--executor", "docker", "--mode", "faults")
    assert code == 0, err
    image = Flow("ContainerFactsFlow").latest_run._record.environments["hog"]["image"]
    outputs = {}
    for size in (8, 300):
        command = ["/usr/bin/python3", "-I", "-S", SUPERVISOR, "/usr/bin/python3", "-c", "b'x' * (%d * 2**20)" % size]
        container = engine.containers.run(image, command, detach=True, mem_limit="64m", user="65534")
        try:
            status = container.wait()["StatusCode"]
            outputs[size] = (status, container.logs().decode())
        finally:
            container.remove(force=True)
    assert outputs[8] == (0, "")
    assert outputs[300] == (137, "\nORCH-TASK-EXIT 137 oom\n")


def test_sigint_leaves_no_container_and_orphans_are_removed(engine, orch, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    flow = str(FLOWS / "run" / "slow_foreach_flow.py")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.cli.main",
            "run",
            flow,
            "--store",
            orch.store,
            "--executor",
            "docker",
            "--n",
            "3",
            "--pause",
            "30",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(engine.containers.list(filters={"label": "org.orch.step=work"})) < 3:
        assert time.monotonic() < deadline, "containers did not start"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert _orch_containers(engine) == [], err

    # A container left by an orchestrator that died is removed before the next run.
    image = engine.images.list(filters={"label": "org.orch.kind=default"})[0]
    orphan = engine.containers.create(
        image.id, ["sleep", "600"], labels={"org.orch.owner": "%s:999999" % (__import__("socket").gethostname())}
    )
    code, _, err = orch("run", "branches_flow.py", "--executor", "docker")
    assert code == 0, err
    assert orphan.id not in [c.id for c in engine.containers.list(all=True)]


def test_pandas_demo_in_containers(engine, orch, offline_pypi, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code, out, err = orch("run", str(demo / "pypi_flow.py"), "--executor", "docker")
    assert code == 0, err
    run = Flow("PandasVersionsPypiFlow").latest_run
    assert run["start"].task.data.old["version"] == "1.5.3"
    assert run["upgrade"].task.data.new["version"] == "2.2.3"
    images = {step: e["image"] for step, e in run._record.environments.items()}
    assert len(set(images.values())) == 3
    assert _orch_containers(engine) == []


HARDENING = str(FLOWS / "docker" / "hardening_flow.py")


def test_task_containers_are_hardened_and_sandbox_relaxes_them(engine, orch):
    """Read-only root with a writable /tmp and home; no capabilities; no privilege gain. The store
    is written (the artifacts below came through it). ``@sandbox`` gives back what a step asks for."""
    code, out, err = orch("run", HARDENING, "--executor", "docker")
    assert code == 0, err
    run = Flow("HardeningFlow").latest_run
    default = run["start"].task.data.default
    assert default["uid"] != 0 and default["home"] == "/home/orch"
    assert default["writable"] == {
        "/": False,
        "/usr/local": False,
        "/opt": False,
        "/etc": False,
        "/tmp": True,
        "/home/orch": True,
    }
    assert default["no_new_privs"] == "1" and default["cap_eff"] == 0 and default["cap_bnd"] == 0
    relaxed = run["relaxed"].task.data.relaxed_facts
    assert relaxed["writable"]["/tmp"] and relaxed["no_new_privs"] == "1"
    assert relaxed["cap_bnd"] == 1 << 0  # CAP_CHOWN, and only it
    assert _orch_containers(engine) == []


def test_a_setuid_root_binary_does_not_escalate_in_a_task_container(engine, tmp_path):
    """The real thing: a setuid-root copy of python in a step image. Run as orch runs tasks, its
    effective uid stays the task's; without orch's options (the control) it would be root."""
    from orchestrator.authoring.loader import load_flow
    from orchestrator.executors.docker import CONTAINER_USER, sandbox_options

    base = os.environ.get("ORCH_BASE_IMAGE", "orch-base:bookworm")
    suid = "/usr/local/bin/python-suid"
    (tmp_path / "Dockerfile").write_text(
        "FROM %s\nUSER root\nRUN cp /usr/bin/python3 %s && chmod 4755 %s\n" % (base, suid, suid)
    )
    tag = "orch-test-setuid:latest"
    engine.images.build(path=str(tmp_path), tag=tag, network_mode="none", rm=True)
    node = load_flow(HARDENING).graph["start"]
    uid, gid = CONTAINER_USER
    command = [suid, "-c", "import os; print(os.geteuid())"]
    user = "%d:%d" % (uid, gid)
    try:
        hardened = engine.containers.run(tag, command, user=user, remove=True, **sandbox_options(node, uid, gid))
        control = engine.containers.run(tag, command, user=user, remove=True)
    finally:
        engine.images.remove(tag, force=True)
    assert control.decode().strip() == "0"  # the binary really is setuid root
    assert hardened.decode().strip() == str(uid)


def test_a_segfault_in_a_container_is_named_in_its_stderr_log(engine, orch):
    code, _, err = orch("run", str(FLOWS / "run" / "segfault_flow.py"), "--executor", "docker")
    assert code == 1
    task = Flow("SegfaultFlow").latest_run["start"].task
    assert "Crash and burn!" in task.stdout
    assert "Task failed with a segmentation fault." in task.stderr
