"""The two state vocabularies, each one enum used everywhere.

``Status`` is what the records say of a run or an attempt: running,
succeeded or failed. ``TaskState`` is how an executor says an attempt
ended, which is finer (a timeout, a kill, an OOM kill), and is what a
record keeps as the cause when a task's process died before it could
commit. Standard library only: the task runtime records these too.
"""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    """The status of a run or of one attempt, as stored and as shown."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: object) -> Status:
        """Also reads schema 1 records, where a successful attempt said ``ok``."""
        if value == "ok":
            return cls.SUCCEEDED
        return cls(value)

    @property
    def is_terminal(self) -> bool:
        return self is not Status.RUNNING


class TaskState(str, enum.Enum):
    """How an executor reports the end of an attempt."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the step raised, or the process exited non-zero
    TIMED_OUT = "timed_out"  # stopped by @timeout
    KILLED = "killed"  # stopped from outside: Ctrl-C, SIGTERM, another process
    OOM = "oom"  # killed for exceeding its memory limit
    LOST = "lost"  # the executor lost track of it (engine died)

    @property
    def is_terminal(self) -> bool:
        return self is not TaskState.RUNNING
