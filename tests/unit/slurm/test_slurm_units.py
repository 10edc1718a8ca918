"""The pure parts of Slurm support: @slurm's arguments, job scripts, squeue's output, how a job's end
is read (exit record and Slurm's state), and the commands' retries. The real cluster is in
tests/integration/test_slurm.py and the executor contract."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Dict, List

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.backends.slurm.commands import SlurmCommands, SlurmError, parse_queue
from orchestrator.backends.slurm.executor import Scratch, SlurmExecutor, cancel_orphans, owner_comment
from orchestrator.backends.slurm.script import JobShape, Submission, directives, exit_record, render
from orchestrator.errors import FlowDefinitionError
from orchestrator.executors.base import TaskState
from orchestrator.store.factory import open_backend
from orchestrator.task.spec import TaskSpec


def _flow(tmp_path: Path, decorator: str) -> Path:
    path = tmp_path / "f.py"
    path.write_text(
        textwrap.dedent(
            """\
            from orchestrator import FlowSpec, slurm, step

            class F(FlowSpec):
                %s
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
            % decorator
        )
    )
    return path


def test_slurm_arguments_are_checked_and_normalised(tmp_path):
    loaded = load_flow(str(_flow(tmp_path, "@slurm(partition='gpu-a100', memory='2GB', time=90, max_concurrent=4)")))
    spec = loaded.graph["start"].decorator("slurm")
    assert (spec.partition, spec.memory, spec.time, spec.max_concurrent) == ("gpu-a100", 2048, "90", 4)
    assert load_flow(str(_flow(tmp_path, "@slurm(time='1-12:00:00')"))).graph["start"].decorator("slurm").time


@pytest.mark.parametrize(
    "decorator, said",
    [
        ("@slurm(partition='debug --uid=0')", "partition='debug --uid=0' has characters Slurm does not allow"),
        ("@slurm(time='soon')", "time='soon' is not a time limit"),
        ("@slurm(max_concurrent=0)", "max_concurrent=0 is out of range"),
        ("@slurm(qos='a;b')", "qos='a;b' has characters"),
    ],
)
def test_bad_slurm_arguments_are_located_errors(tmp_path, decorator, said):
    with pytest.raises(FlowDefinitionError) as found:
        load_flow(str(_flow(tmp_path, decorator)))
    assert said in str(found.value) and "f.py:4" in found.value.format()


def _job(**kw) -> Submission:
    base = dict(
        name="orch-F-s-1-x3",
        size=3,
        comment=owner_comment("F/1"),
        specs_key="flows/F/runs/1/jobs/x.json",
        store_url="/shared/store",
        store_dir="/shared/store",
        log_dir="/scratch/F/1/logs",
        exit_dir="/scratch/F/1/exits",
        heartbeat="/scratch/F/1/heartbeat",
        throttle=16,
    )
    base.update(kw)
    return Submission(**base)


def test_directives_size_the_job_and_throttle_the_array():
    shape = JobShape(image="sha256:1", python="/opt/env/bin/python", cpu=1.5, memory=1000, gpu=1, time="10")
    lines = directives(shape, _job())
    assert "#SBATCH --array=0-2%16" in lines and "#SBATCH --cpus-per-task=2" in lines
    assert "#SBATCH --mem=1128M" in lines  # the container's 1000, and the docker client's share
    assert "#SBATCH --gres=gpu:1" in lines and "#SBATCH --time=10" in lines
    assert "#SBATCH --output=/scratch/F/1/logs/%A_%a.out" in lines
    charlie = directives(JobShape(image="/c/ch/1", python="p", runtime="charliecloud", memory=1000), _job(size=1))
    assert "#SBATCH --mem=1000M" in charlie and not any("--array" in line for line in charlie)
    assert "#SBATCH --array=0-2%3" in directives(JobShape(image="i", python="p", max_concurrent=3), _job())
    assert "#SBATCH --array=0-2" in directives(JobShape(image="i", python="p"), _job(throttle=None))


def test_scripts_parse_and_carry_no_secret_values(tmp_path):
    for runtime in ("docker", "podman", "charliecloud", "apptainer"):
        text = render(JobShape(image="img", python="/usr/bin/python3", runtime=runtime, memory=64), _job())
        script = tmp_path / ("%s.sh" % runtime)
        script.write_text(text)
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
        assert "AWS_SECRET_ACCESS_KEY" in text and "AWS_SECRET_ACCESS_KEY=" not in text.replace(
            'AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"', ""
        )  # passed by name from the job's environment, never written
        assert "--entry slurm" in text and "record " in text
    docker = render(JobShape(image="img", python="p", user="1000:1000"), _job())
    for hardening in ("--user 1000:1000", "--cap-drop ALL", "no-new-privileges", "--read-only", "--pids-limit"):
        assert hardening in docker
    with pytest.raises(ValueError):
        render(JobShape(image="img", python="p", runtime="singularity"), _job())


def test_a_job_refuses_to_start_when_its_run_is_gone(tmp_path):
    """The script's own prelude, run for real: an old heartbeat means the orch that submitted it is gone."""
    beat, exits = tmp_path / "heartbeat", tmp_path / "exits"
    exits.mkdir()
    beat.write_text("")
    old = time.time() - 600
    os.utime(beat, (old, old))
    text = render(JobShape(image="img", python="p"), _job(size=1, heartbeat=str(beat), exit_dir=str(exits)))
    (tmp_path / "job.sh").write_text(text)
    done = subprocess.run(
        ["bash", str(tmp_path / "job.sh")],
        env={"SLURM_JOB_ID": "41", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 125 and "the run that submitted this job is gone" in done.stderr
    assert exit_record((exits / "41").read_text()) == (125, False)


def test_parse_queue_reads_array_tasks_and_comments():
    out = (
        "12_0|RUNNING|None|vm|debug|orch-owner=vm:7,run=F/1\n"
        "12_1|PENDING|Resources||debug|(null)\n"
        "9|TIMEOUT|TimeLimit|vm|long|x\n"
    )
    found = parse_queue(out)
    assert found["12_0"].comment == "orch-owner=vm:7,run=F/1" and not found["12_0"].ended
    assert found["12_1"].reason == "Resources" and found["12_1"].comment == ""
    assert found["9"].ended and found["9"].partition == "long"


class FakeSlurm:
    """sbatch, squeue and scancel as a cluster would answer them, with the states a test sets."""

    def __init__(self) -> None:
        self.states: Dict[str, str] = {}
        self.cancelled: List[str] = []
        self.submitted: List[str] = []
        self.busy = 0  # squeue answers "Socket timed out" this many times first

    def __call__(self, argv):
        if argv[0] == "sbatch":
            self.submitted.append(argv[-1])
            return subprocess.CompletedProcess(argv, 0, "%d\n" % (100 + len(self.submitted)), "")
        if argv[0] == "squeue":
            if self.busy:
                self.busy -= 1
                return subprocess.CompletedProcess(argv, 1, "", "squeue: error: Socket timed out on send/recv")
            lines = ["%s|%s|None|vm|debug|(null)" % item for item in self.states.items()]
            return subprocess.CompletedProcess(argv, 0, "\n".join(lines), "")
        if argv[0] == "scancel":
            self.cancelled += argv[1:]
            return subprocess.CompletedProcess(argv, 0, "", "")
        return subprocess.CompletedProcess(argv, 0, "", "")


def _spec(task: str, step: str = "s") -> TaskSpec:
    return TaskSpec(
        flow="F", run_id="1", step=step, task_id=task, attempt=0, store_url="", code_dir="", flow_file="f.py"
    )


@pytest.fixture
def fake(tmp_path):
    slurm = FakeSlurm()
    store = open_backend(str(tmp_path / "store"))
    logs = tmp_path / "logs"
    executor = SlurmExecutor(
        SlurmCommands(slurm, users=("me",)),
        {"s": JobShape(image="i", python="p", memory=256, time="3")},
        store,
        str(tmp_path / "store"),
        Scratch(str(tmp_path / "scratch")),
        lambda spec: (str(logs / (spec.task_id + ".out")), str(logs / (spec.task_id + ".err"))),
        poll_range=(0.01, 0.05),
    )
    yield slurm, executor, tmp_path / "scratch" / "F" / "1" / "exits"
    executor.close()


def _results(executor, count: int, seconds: float = 10):
    found = {}
    deadline = time.monotonic() + seconds
    while len(found) < count and time.monotonic() < deadline:
        for result in executor.poll(0.1):
            found[result.handle] = result
    return found


def test_siblings_are_one_array_and_each_end_is_read_from_records_and_states(fake):
    slurm, executor, exits = fake
    handles = [executor.submit(_spec(str(i))) for i in range(5)]
    executor.flush()
    assert len(slurm.submitted) == 1 and "--array=0-4" in Path(slurm.submitted[0]).read_text()
    slurm.states = {"101_%d" % i: "RUNNING" for i in range(5)}
    (exits / "101_0").write_text("0 false\n")  # the job's own record: done, at once
    (exits / "101_1").write_text("137 true\n")  # killed by the container's memory limit
    (exits / "101_2").write_text("143 false\n")
    slurm.states.update({"101_2": "TIMEOUT", "101_3": "NODE_FAIL", "101_4": "CANCELLED"})  # 3 and 4: no record
    results = _results(executor, 5)
    states = {h: (results[h].state, results[h].message.split(":")[0]) for h in handles}
    assert states[handles[0]] == (TaskState.SUCCEEDED, "")
    assert states[handles[1]] == (TaskState.OOM, "killed")
    assert results[handles[1]].message == "killed: out of memory (limit 256 MiB)"
    assert states[handles[2]] == (TaskState.FAILED, "Slurm job 101_2 reached its Slurm time limit (--time=3)")
    assert states[handles[3]] == (TaskState.LOST, "Slurm job 101_3 its node failed")
    assert states[handles[4]] == (TaskState.KILLED, "Slurm job 101_4 was cancelled from outside orch (scancel)")


def test_a_job_slurm_forgot_without_a_record_is_lost(fake):
    slurm, executor, exits = fake
    handle = executor.submit(_spec("1"))
    executor.flush()
    (result,) = _results(executor, 1).values()
    assert result.handle == handle and result.state is TaskState.LOST
    assert "Slurm job 101 is no longer known to Slurm and left no exit record" in result.message


def test_cancel_scancels_and_reports_the_cancellation(fake):
    slurm, executor, exits = fake
    handle = executor.submit(_spec("1"))
    executor.flush()
    slurm.states = {"101": "RUNNING"}
    executor.cancel(handle, TaskState.TIMED_OUT, "timed out after 5 seconds (@timeout)")
    assert slurm.cancelled == ["101"]
    slurm.states = {"101": "CANCELLED"}
    (result,) = _results(executor, 1).values()
    assert (result.state, result.message) == (TaskState.TIMED_OUT, "timed out after 5 seconds (@timeout)")


def test_one_squeue_per_poll_whatever_the_number_of_tasks(fake):
    slurm, executor, exits = fake
    for i in range(50):
        executor.submit(_spec(str(i)))
    executor.flush()
    slurm.states = {"101_%d" % i: "RUNNING" for i in range(50)}
    time.sleep(0.5)
    calls = executor.commands.counts()
    assert calls["sbatch"] == 1 and calls["squeue"] < 40  # about one a poll, backing off, never one per task


def test_a_busy_controller_is_asked_again_and_a_broken_command_is_an_error():
    slurm = FakeSlurm()
    slurm.busy = 2
    commands = SlurmCommands(slurm, users=("me",))
    assert commands.queue() == {}
    assert commands.counts()["squeue"] == 3

    def refuses(argv):
        return subprocess.CompletedProcess(argv, 1, "", "sbatch: error: invalid partition specified: gpu")

    with pytest.raises(SlurmError, match="invalid partition specified: gpu"):
        SlurmCommands(refuses).submit("/x.sh")


def test_orphans_of_dead_orch_processes_on_this_host_are_cancelled():
    import socket

    slurm = FakeSlurm()
    host = socket.gethostname()

    def answers(argv):
        if argv[0] == "squeue":
            lines = [
                "5|RUNNING|None|vm|debug|orch-owner=%s:999999999,run=F/1" % host,  # its orch is gone
                "6|RUNNING|None|vm|debug|%s" % owner_comment("F/2"),  # this process: alive
                "7|RUNNING|None|vm|debug|orch-owner=elsewhere:1,run=F/3",  # another host's
                "8|COMPLETED|None|vm|debug|orch-owner=%s:999999999,run=F/1" % host,
            ]
            return subprocess.CompletedProcess(argv, 0, "\n".join(lines), "")
        return slurm(argv)

    assert cancel_orphans(SlurmCommands(answers, users=("me",))) == ["5"]
    assert slurm.cancelled == ["5"]


def test_a_clean_record_wins_over_a_state_seen_before_the_job_ran(fake):
    slurm, executor, exits = fake
    handle = executor.submit(_spec("1"))
    executor.flush()
    slurm.states = {"101": "PENDING"}
    time.sleep(0.3)  # squeue saw it pending; it then ran and ended between two calls
    (exits / "101").write_text("0 false\n")
    (result,) = _results(executor, 1).values()
    assert (result.handle, result.state) == (handle, TaskState.SUCCEEDED)


@pytest.mark.parametrize(
    "variable, value, said",
    [
        ("ORCH_SLURM_RUNTIME", "singularity", "ORCH_SLURM_RUNTIME='singularity' is not docker, charliecloud"),
        ("ORCH_SLURM_ORPHAN_SECONDS", "soon", "ORCH_SLURM_ORPHAN_SECONDS='soon' is not whole seconds"),
    ],
)
def test_a_bad_setting_from_the_environment_is_a_one_line_error(tmp_path, variable, value, said):
    from orchestrator.backends.slurm.descriptor import SECTION
    from orchestrator.config import backend_settings
    from orchestrator.errors import UsageError

    with pytest.raises(UsageError) as found:
        backend_settings(SECTION, {"ORCH_CONFIG": str(tmp_path / "none.json"), variable: value})
    assert said in str(found.value) and "orch configure slurm" in found.value.format()
