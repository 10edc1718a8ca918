"""Tell an out-of-memory kill from any other SIGKILL, from inside the task's container.

A task killed for exceeding its memory limit only leaves exit code 137, which any
``kill -9`` also gives. The engine's own ``OOMKilled`` flag comes from an
asynchronous event that races the container's exit on cgroup v2 and is sometimes
never set. The one reliable witness is the kernel's ``oom_kill`` counter of the
container's memory cgroup, and it can only be read while the cgroup still
exists: from inside, by a process that outlives the task.

So PID 1 of a task container forks: the child becomes the task, and the parent
(a bare interpreter, a few MB) waits for it. When the child dies of a signal, the
parent compares the counter with its value at the start and reports the reason on
the container's stdout, next to the exit code. Standard library only.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

# cgroup v2 (the container's own cgroup namespace), then cgroup v1's memory controller
_COUNTERS = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills(paths: tuple = _COUNTERS) -> Optional[int]:
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


def supervise(report: Callable[[int, str], None], counters: tuple = _COUNTERS) -> Optional[int]:
    """Fork. In the child, return None: the caller goes on to run the task. In the parent, wait
    for the child and return the exit code to use; a child killed by a signal is first reported
    through ``report(128 + N, reason)``.

    The parent also reaps orphaned grandchildren (it is PID 1), so they do not pile up as zombies.
    """
    before = oom_kills(counters)
    pid = os.fork()
    if pid == 0:
        return None
    while True:
        found, status = os.wait()
        if found == pid:
            break
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        report(128 + signum, kill_reason(signum, before, oom_kills(counters)))
        return 128 + signum
    return os.waitstatus_to_exitcode(status)
