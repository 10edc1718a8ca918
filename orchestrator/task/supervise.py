"""PID 1 of a task container: tell an out-of-memory kill from any other SIGKILL.

A task killed for exceeding its memory limit only leaves exit code 137, which any
``kill -9`` also gives. The engine's own ``OOMKilled`` flag comes from an
asynchronous event that races the container's exit and is sometimes never set
(seen in CI, and a known containerd/cgroup v2 flake). The reliable witness is the
kernel's ``oom_kill`` counter of the container's memory cgroup, and it can only be
read while the cgroup still exists: from inside, by a process that outlives the task.

So a task container runs this file as PID 1, by path, so it imports nothing but the
standard library and stays a few MB: it starts the real command (the warm task
runner) as its child, waits for it, and when the child dies of a signal it compares
the counter with its value at the start and prints the reason after the exit code,
on the line the executor reads. It also reaps orphaned grandchildren, as PID 1 must.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, List, Optional, Sequence

EXIT_MARKER = "ORCH-TASK-EXIT"  # "ORCH-TASK-EXIT <code> [oom|signal-N]", one line on the container's stdout

# cgroup v2 (the container's own cgroup namespace), then cgroup v1's memory controller
COUNTERS = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills(paths: Sequence[str] = COUNTERS) -> Optional[int]:
    """The cgroup's count of processes killed by the OOM killer, or None where none is readable."""
    for path in paths:
        try:
            with open(path) as handle:
                for line in handle:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def kill_reason(signum: int, before: Optional[int], after: Optional[int]) -> str:
    """``oom`` when a SIGKILL came with a new OOM kill in the cgroup, else ``signal-N``."""
    if signum == 9 and before is not None and after is not None and after > before:
        return "oom"
    return "signal-%d" % signum


def supervise(command: List[str], report: Callable[[int, str], None], counters: Sequence[str] = COUNTERS) -> int:
    """Run ``command`` as a child and return the exit code to use. A child killed by signal N
    returns 128 + N, as a shell reports it, after ``report(128 + N, reason)``."""
    before = oom_kills(counters)
    pid = os.posix_spawn(command[0], command, os.environ)
    while True:  # reap everything: orphans of the task are re-parented to us
        found, status = os.wait()
        if found == pid:
            break
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        report(128 + signum, kill_reason(signum, before, oom_kills(counters)))
        return 128 + signum
    return os.WEXITSTATUS(status)


def main(argv: List[str]) -> int:
    """``python -I -S supervise.py PYTHON -m orchestrator.task --warm``: ``-I`` keeps this file's
    folder off the path, and ``-S`` skips site-packages, which PID 1 never needs."""

    def report(code: int, reason: str) -> None:
        os.write(1, ("\n%s %d %s\n" % (EXIT_MARKER, code, reason)).encode())

    return supervise(argv, report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
