"""The client's leaf objects: a task's data and artifacts, its metadata entries, a run's code package.

They read through the store ``client_state`` opened, and know their task by duck type, so they need
nothing of ``client``, which builds them.
"""

from __future__ import annotations

import datetime as _dt
import io
import tarfile
from typing import Any, Iterator, List, NamedTuple, Optional

from ..ids import PARALLEL_VAR
from ..store.artifacts import ArtifactRecord, load_artifact
from .state import opened_store


class Same:
    """Two views of one object (same kind, same pathspec) are equal, as Metaflow's client objects."""

    pathspec: str

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and getattr(other, "pathspec", None) == self.pathspec

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec))


class MetaflowData:
    """``task.data.x`` loads artifact x; ``'x' in data`` checks for it."""

    def __init__(self, task: Any) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        """An artifact's value; a name the task does not have is an ``AttributeError``, as in Metaflow,
        so ``getattr(task.data, "x", default)`` and ``hasattr(run.data, "x")`` work."""
        if name.startswith("_") or name not in self._task._records():
            raise AttributeError(name)
        return self._task[name].data

    def __contains__(self, name: str) -> bool:
        return name in self._task._records()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._task._records()))

    def __repr__(self) -> str:
        return "<data of %s: %s>" % (self._task.pathspec, ", ".join(sorted(self._task._records())))


class DataArtifact:
    def __init__(self, task: Any, name: str, record: ArtifactRecord) -> None:
        self._task, self.id, self._record = task, name, record

    @property
    def pathspec(self) -> str:
        return str(self._task._path.child(self.id))

    @property
    def data(self) -> Any:
        return load_artifact(
            opened_store()[2], self._record, "artifact '%s' of task %s" % (self.id, self._task.pathspec)
        )

    @property
    def sha(self) -> str:
        return self._record.digest

    @property
    def size(self) -> int:
        return self._record.size

    @property
    def type(self) -> str:
        return self._record.type

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        return self._task.finished_at

    @property
    def parent(self) -> Any:
        return self._task

    path_components = property(lambda self: self.pathspec.split("/"))
    tags = property(lambda self: self._task.tags)
    user_tags = property(lambda self: self._task.user_tags)
    system_tags = property(lambda self: self._task.system_tags)

    def __repr__(self) -> str:
        return "DataArtifact('%s')" % self.pathspec


class Metadata(NamedTuple):
    """One entry of ``Task.metadata``, as Metaflow's: name, value (a string), type and when."""

    name: str
    value: str
    created_at: int  # milliseconds since the epoch, as Metaflow's
    type: str
    task: Any


class Code:
    """The code package a run executed."""

    def __init__(self, key: str, path: str) -> None:
        self.key, self.path = key, path

    @property
    def blob(self) -> bytes:
        return bytes(opened_store()[2].load_blob(self.key, "code package"))

    @property
    def tarball(self) -> tarfile.TarFile:
        return tarfile.open(fileobj=io.BytesIO(self.blob), mode="r:gz")

    @property
    def flowspec(self) -> str:
        """The source of the flow file as it ran."""
        member = self.tarball.extractfile(self.path)
        return member.read().decode() if member else ""

    def extract(self, target: str) -> str:
        from ..task.codepkg import extract_package

        extract_package(self.blob, target)
        return target


_METAFLOW_NAMES = {"python": "python_version"}  # AttemptStart.where() name → Metaflow's metadata field


def task_metadata(task: Any, meta: Any) -> List[Metadata]:
    """A task's metadata entries, as Metaflow's: ``attempt`` (one per attempt), where each attempt ran
    (its backend's placement keys), ``origin-run-id`` and ``origin-task-id`` for a resumed task."""
    entries: List[Metadata] = []
    for attempt in range(task._latest() + 1):
        start = meta.attempt_start(task.flow_name, task.run_id, task.step_name, task.id, attempt)
        if start is None:
            continue
        at = int(start.started_at * 1000)
        entries.append(Metadata("attempt", str(attempt), at, "attempt", task))
        for name, value in start.where().items():
            name = _METAFLOW_NAMES.get(name, name)
            if name not in ("attempt", "cloned_from", "started_at"):  # started_at: the entry's created_at
                entries.append(Metadata(name, value, at, name, task))
        frames = start.foreach_stack
        if attempt == 0 and frames and frames[-1].var == PARALLEL_VAR and frames[-1].index == 0:
            entries.append(Metadata("internal_task_type", "control", at, "internal_task_type", task))
    origin = task._origin()
    if origin is not None:
        at = entries[0].created_at if entries else 0
        entries.append(Metadata("origin-run-id", origin.run or "", at, "origin-run-id", task))
        entries.append(Metadata("origin-task-id", origin.task, at, "origin-task-id", task))
    run = task._run()
    if run.origin_run_id and origin is None:  # resumed run, task run anew
        entries.append(Metadata("origin-run-id", run.origin_run_id, 0, "origin-run-id", task))
    return entries
