"""PID 1 of a task container: an out-of-memory kill is told apart from any other SIGKILL."""

from __future__ import annotations

import subprocess
import sys

from orchestrator.task.supervise import EXIT_MARKER, kill_reason, oom_kills, supervise
from tests.conftest import ROOT


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


def _child(counter, bump: bool) -> list:
    """A child that does what the kernel's OOM killer does (bump the counter) or not, then dies of SIGKILL."""
    code = "import os, signal\n"
    if bump:
        code += "open(%r, 'w').write('oom 1\\noom_kill 1\\n')\n" % str(counter)
    code += "os.kill(os.getpid(), signal.SIGKILL)\n"
    return [sys.executable, "-c", code]


def test_a_child_killed_for_memory_is_reported_as_oom(tmp_path):
    counter = tmp_path / "memory.events"
    counter.write_text("oom 0\noom_kill 0\n")
    reports = []
    assert supervise(_child(counter, True), lambda c, r: reports.append((c, r)), (str(counter),)) == 137
    assert reports == [(137, "oom")]


def test_a_plain_kill_and_a_plain_exit(tmp_path):
    counter = tmp_path / "memory.events"
    counter.write_text("oom_kill 0\n")
    reports = []
    assert supervise(_child(counter, False), lambda c, r: reports.append((c, r)), (str(counter),)) == 137
    assert reports == [(137, "signal-9")]
    exit_3 = [sys.executable, "-c", "raise SystemExit(3)"]
    assert supervise(exit_3, lambda c, r: reports.append((c, r)), (str(counter),)) == 3
    assert reports == [(137, "signal-9")]  # an exit is the task's own to report


def test_as_a_script_it_passes_stdin_and_prints_the_marker():
    """How containers run it: by path, isolated, with the child reading the task from stdin."""
    script = str(ROOT / "orchestrator" / "task" / "supervise.py")
    child = "import os, sys; print(sys.stdin.readline().strip(), flush=True); os.kill(os.getpid(), 9)"
    done = subprocess.run(
        [sys.executable, "-I", "-S", script, sys.executable, "-c", child],
        input="the task\n",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 137
    assert done.stdout == "the task\n\n%s 137 signal-9\n" % EXIT_MARKER
