"""The client's leaf objects: a task's data and artifacts, its metadata entries, a run's code package.

They read through the store ``client_state`` opened, and know their task by duck type, so they need
nothing of ``client``, which builds them.
"""

from __future__ import annotations

import datetime as _dt
import io
import tarfile
from typing import Any, Iterator, NamedTuple, Optional

from .client_state import opened_store
from .store.artifacts import ArtifactRecord, load_artifact


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
        return "%s/%s" % (self._task.pathspec, self.id)

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
        from .codepkg import extract_package

        extract_package(self.blob, target)
        return target
