"""PID 1 of a task container: an out-of-memory kill is told apart from any other SIGKILL."""

from __future__ import annotations

import os
import signal

from orchestrator.task.supervise import kill_reason, oom_kills, supervise


def test_reads_the_oom_kill_counter_of_cgroup_v2_then_v1(tmp_path):
    v2, v1 = tmp_path / "memory.events", tmp_path / "memory.oom_control"
    v1.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    assert oom_kills((str(v2), str(v1))) == 4  # no v2 file: v1's counter
    v2.write_text("low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\n")
    assert oom_kills((str(v2), str(v1))) == 2
    assert oom_kills((str(tmp_path / "none"),)) is None


def test_only_a_sigkill_with_a_new_oom_kill_is_out_of_memory():
    assert kill_reason(9, 0, 1) == "oom"
    assert kill_reason(9, 1, 1) == "signal-9"  # kill -9 from outside
    assert kill_reason(15, 0, 1) == "signal-15"
    assert kill_reason(9, None, None) == "signal-9"  # no counter readable: no guess


def _child(counter, then) -> None:
    """Runs in the forked child: never return into pytest."""
    try:
        then(counter)
    finally:
        os._exit(1)


def _oom(counter) -> None:
    counter.write_text("oom 1\noom_kill 1\n")  # what the kernel does before its SIGKILL
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_killed_for_memory_is_reported_as_oom(tmp_path):
    counter = tmp_path / "memory.events"
    counter.write_text("oom 0\noom_kill 0\n")
    reports = []
    code = supervise(lambda c, r: reports.append((c, r)), (str(counter),))
    if code is None:
        _child(counter, _oom)
    assert code == 137 and reports == [(137, "oom")]


def test_a_plain_kill_and_a_plain_exit(tmp_path):
    counter = tmp_path / "memory.events"
    counter.write_text("oom_kill 0\n")
    reports = []
    code = supervise(lambda c, r: reports.append((c, r)), (str(counter),))
    if code is None:
        _child(counter, lambda _: os.kill(os.getpid(), signal.SIGKILL))
    assert code == 137 and reports == [(137, "signal-9")]
    code = supervise(lambda c, r: reports.append((c, r)), (str(counter),))
    if code is None:
        _child(counter, lambda _: os._exit(3))
    assert code == 3 and reports == [(137, "signal-9")]  # an exit is the task's own to report
