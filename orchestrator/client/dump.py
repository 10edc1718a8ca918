"""What ``dump`` shows of a task: its artifacts, filtered as Metaflow's ``dump`` filters them.

A task is dumped from its latest attempt that recorded an end with data: an
attempt whose process died recorded nothing, and is left out, as Metaflow
leaves out a task with no finished attempt. Private artifacts (names starting
with ``_``) need ``private``; a value larger than ``max_value_size`` bytes
(pickled) is not loaded, and shows as ``ArtifactTooLarge``.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterator, List, Optional

from .core import Step, Task


class ArtifactTooLarge:
    """Stands in for a value above ``--max-value-size``: what Metaflow's dump puts in its place."""

    def __repr__(self) -> str:
        return "< artifact too large >"

    __str__ = __repr__


def dumpable_tasks(step: Step, task_id: Optional[str] = None) -> Iterator[Task]:
    """The step's tasks (or the one named) whose latest attempt recorded its end, in task order."""
    for task in step.tasks() if task_id is None else [step[task_id]]:
        end = task._end_record()
        if end is not None and end.died is None:
            yield task


def task_values(
    task: Task, include: FrozenSet[str] = frozenset(), private: bool = False, max_value_size: Optional[int] = None
) -> Dict[str, Any]:
    """Name → value of the task's artifacts, as ``dump`` shows them."""
    values: Dict[str, Any] = {}
    for artifact in task.artifacts:
        name = artifact.id
        if (include and name not in include) or (name.startswith("_") and not private):
            continue
        too_large = max_value_size is not None and (artifact.size == 0 or artifact.size > max_value_size)
        values[name] = ArtifactTooLarge() if too_large else artifact.data
    return values


def format_task(task: Task, values: Dict[str, Any]) -> List[str]:
    """One line per artifact, sorted by name, as Metaflow prints it: ``name [size: N type: <class 'T'>] =
    value``, the type as ``str()`` of the value's class."""
    sizes = {artifact.id: artifact for artifact in task.artifacts}
    return [
        "%s [size: %d type: <class '%s'>] = %s" % (name, sizes[name].size, sizes[name].type, values[name])
        for name in sorted(values)
    ]
