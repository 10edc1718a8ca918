"""The client API, Metaflow-compatible: read runs and artifacts from a notebook or a script.

    from orchestrator import Flow
    Flow('GenreStatsFlow').latest_successful_run.data.genre_stats

Objects are read-only views over the store (local directory or S3); nothing
is cached between calls except the records an object already read, and
artifacts load only when asked for. The store is ``metadata(url)`` if set,
else ``ORCH_STORE``, else ``./.orch``, resolved when first needed.
"""

from __future__ import annotations

import datetime as _dt
import io
import tarfile
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .config import Config, resolve_store
from .errors import OrchError
from .exception import MetaflowNamespaceMismatch, MetaflowNotFound
from .ids import PARALLEL_VAR
from .store.artifacts import ArtifactRecord, load_artifact
from .store.backend import Backend, MissingKey
from .store.cas import ContentAddressedStore
from .store.factory import open_backend
from .store.metadata import MetadataStore, attempt_log_key
from .store.records import AttemptEnd, AttemptStart, RunEnd, RunRecord

_store_url: Optional[str] = None
_namespace: Optional[str] = None
_namespace_set = False
_opened: Dict[str, Tuple[Backend, MetadataStore, ContentAddressedStore]] = {}


class ClientError(OrchError, MetaflowNotFound):
    """A flow, run, step, task or artifact that does not exist (Metaflow's ``MetaflowNotFound`` too)."""


class MissingChild(ClientError, KeyError):
    """``task["x"]``, ``run["step"]``: no such child. A ``KeyError`` too, as in Metaflow's client."""

    def __str__(self) -> str:
        return self.format()


class NamespaceMismatch(ClientError, MetaflowNamespaceMismatch):
    """The object exists but belongs to another namespace (Metaflow's ``MetaflowNamespaceMismatch``)."""


def metadata(url: str) -> str:
    """Point the client at a store: a local directory or s3://bucket/prefix. Returns get_metadata()."""
    global _store_url
    _store_url = resolve_store(url)
    return get_metadata()


def use_store(url: Optional[str]) -> None:
    """Point the client at ``url`` when given (a running task's own store, for ``current.run``)."""
    if url:
        metadata(url)


def get_metadata() -> str:
    """Where the client reads from, e.g. 'local@/home/me/project/.orch' or 's3://bucket/prefix'."""
    url = _current_url()
    return url if url.startswith("s3://") else "local@" + url


def _current_url() -> str:
    return _store_url or Config.from_env().store_url


def _store() -> Tuple[Backend, MetadataStore, ContentAddressedStore]:
    url = _current_url()
    if url not in _opened:
        backend = open_backend(url)
        _opened[url] = (backend, MetadataStore(backend), ContentAddressedStore(backend))
    return _opened[url]


def default_namespace() -> str:
    return "user:%s" % Config.from_env().username


def namespace(ns: Optional[str]) -> Optional[str]:
    """Restrict reads to runs tagged ``ns`` (e.g. 'user:alice'); None sees every run."""
    global _namespace, _namespace_set
    _namespace, _namespace_set = ns, True
    return ns


def get_namespace() -> Optional[str]:
    return _namespace if _namespace_set else default_namespace()


def _timestamp(value: Optional[float]) -> Optional[_dt.datetime]:
    return _dt.datetime.fromtimestamp(value) if value else None


class MetaflowData:
    """``task.data.x`` loads artifact x; ``'x' in data`` checks for it."""

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._task[name].data

    def __contains__(self, name: str) -> bool:
        return name in self._task._records()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._task._records()))

    def __repr__(self) -> str:
        return "<data of %s: %s>" % (self._task.pathspec, ", ".join(sorted(self._task._records())))


class DataArtifact:
    def __init__(self, task: Task, name: str, record: ArtifactRecord) -> None:
        self._task, self.id, self._record = task, name, record

    @property
    def pathspec(self) -> str:
        return "%s/%s" % (self._task.pathspec, self.id)

    @property
    def data(self) -> Any:
        return load_artifact(_store()[2], self._record, "artifact '%s' of task %s" % (self.id, self._task.pathspec))

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

    def __repr__(self) -> str:
        return "DataArtifact('%s')" % self.pathspec


class Task:
    def __init__(self, pathspec: str, _attempt: Optional[int] = None) -> None:
        parts = pathspec.split("/")
        if len(parts) != 4:
            raise ClientError("Task pathspecs look like Flow/run/step/task, not %r." % pathspec)
        self.flow_name, self.run_id, self.step_name, self.id = parts
        self.pathspec = pathspec
        self._attempt = _attempt  # the latest attempt, when the Step that made this Task already knows it
        self._end: Optional[AttemptEnd] = None
        self._start: Optional[AttemptStart] = None

    def _latest(self) -> int:
        if self._attempt is None:
            _, meta, _ = _store()
            latest = meta.latest_attempts(self.flow_name, self.run_id, self.step_name).get((self.step_name, self.id))
            if latest is None:
                raise ClientError("Task %s does not exist." % self.pathspec)
            self._attempt = latest.attempt
        return self._attempt

    def _end_record(self) -> Optional[AttemptEnd]:
        """The latest attempt's end, or None while it runs."""
        if self._end is None:
            _, meta, _ = _store()
            self._end = meta.attempt_end(self.flow_name, self.run_id, self.step_name, self.id, self._latest())
        return self._end

    def _start_record(self) -> Optional[AttemptStart]:
        if self._start is None:
            _, meta, _ = _store()
            self._start = meta.attempt_start(self.flow_name, self.run_id, self.step_name, self.id, self._latest())
        return self._start

    def _records(self) -> Dict[str, ArtifactRecord]:
        end = self._end_record()
        return dict(end.artifacts) if end is not None else {}

    @property
    def data(self) -> MetaflowData:
        return MetaflowData(self)

    @property
    def artifacts(self) -> List[DataArtifact]:
        return [DataArtifact(self, n, r) for n, r in sorted(self._records().items())]

    def __getitem__(self, name: str) -> DataArtifact:
        records = self._records()
        if name not in records:
            raise MissingChild(
                "Task %s has no artifact '%s'." % (self.pathspec, name),
                "Its artifacts are: %s." % (", ".join(sorted(records)) or "none"),
            )
        return DataArtifact(self, name, records[name])

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self.artifacts)

    def __contains__(self, name: str) -> bool:
        return name in self._records()

    @property
    def metadata_dict(self) -> Dict[str, str]:
        """What the attempt recorded about where it ran (host, pid, python, Batch job id), as strings,
        like Metaflow's ``Task.metadata_dict``."""
        start = self._start_record()
        return start.where() if start is not None else {}

    @property
    def successful(self) -> bool:
        end = self._end_record()
        return end is not None and end.succeeded

    @property
    def finished(self) -> bool:
        return self._end_record() is not None

    @property
    def current_attempt(self) -> int:
        return self._latest()

    @property
    def exception(self) -> Optional[dict]:
        """The failure of the latest attempt: {'type', 'message', 'traceback'}, or None. A process that
        died (timeout, kill, OOM) has its state as the type."""
        end = self._end_record()
        if end is None:
            return None
        if end.died is not None:
            return {"type": end.died.state.value, "message": end.died.message, "traceback": ""}
        return end.exception.to_json() if end.exception is not None else None

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        start = self._start_record()
        return _timestamp(start.started_at if start else None)

    @property
    def finished_at(self) -> Optional[_dt.datetime]:
        end = self._end_record()
        return _timestamp(end.finished_at if end else None)

    @property
    def index(self) -> Optional[int]:
        start = self._start_record()
        return start.foreach_index if start else None

    @property
    def foreach_stack(self) -> List[Tuple[str, int, int]]:
        """(split step, index, number of splits), outermost first."""
        start = self._start_record()
        return [(f.step, f.index, f.num_splits) for f in (start.foreach_stack if start else ())]

    @property
    def origin_pathspec(self) -> Optional[str]:
        """For a task cloned by resume: the task it was cloned from."""
        end = self._end_record()
        origin = end.cloned_from if end else None
        return "%s/%s/%s/%s" % (self.flow_name, origin.run, origin.step, origin.task) if origin else None

    def _log(self, stream: str) -> str:
        backend, _, _ = _store()
        end = self._end_record()
        key = attempt_log_key(self.flow_name, self.run_id, self.step_name, self.id, self._latest(), end, stream)
        try:
            return bytes(backend.get(key)).decode("utf-8", "replace")
        except MissingKey:
            return ""

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    def __repr__(self) -> str:
        return "Task('%s')" % self.pathspec


class Step:
    def __init__(self, pathspec: str) -> None:
        parts = pathspec.split("/")
        if len(parts) != 3:
            raise ClientError("Step pathspecs look like Flow/run/step, not %r." % pathspec)
        self.flow_name, self.run_id, self.id = parts
        self.pathspec = pathspec

    def _latest_attempts(self) -> Dict[str, int]:
        """task id → latest attempt, from one listing of this step (not one per task)."""
        _, meta, _ = _store()
        found = meta.latest_attempts(self.flow_name, self.run_id, self.id)
        return {task: latest.attempt for (_, task), latest in found.items()}

    def _task_ids(self) -> List[str]:
        return sorted(self._latest_attempts(), key=lambda t: (len(t), t))

    def tasks(self) -> List[Task]:
        latest = self._latest_attempts()
        ids = sorted(latest, key=lambda t: (len(t), t))
        return [Task("%s/%s" % (self.pathspec, t), _attempt=latest[t]) for t in ids]

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks())

    def __getitem__(self, task_id: str) -> Task:
        if str(task_id) not in self._task_ids():
            raise MissingChild("Step %s has no task %s." % (self.pathspec, task_id))
        return Task("%s/%s" % (self.pathspec, task_id))

    def control_tasks(self) -> Iterator[Task]:
        """A ``@parallel`` step's control tasks (node 0 of each gang), as Metaflow's."""
        for task in self.tasks():
            start = task._start_record()
            frames = start.foreach_stack if start else ()
            if frames and frames[-1].var == PARALLEL_VAR and frames[-1].index == 0:
                yield task

    @property
    def task(self) -> Optional[Task]:
        """One task of the step (the only one, unless it is a foreach)."""
        ids = self._task_ids()
        return Task("%s/%s" % (self.pathspec, ids[0])) if ids else None

    def __repr__(self) -> str:
        return "Step('%s')" % self.pathspec


class Code:
    """The code package a run executed."""

    def __init__(self, key: str, path: str) -> None:
        self.key, self.path = key, path

    @property
    def blob(self) -> bytes:
        return bytes(_store()[2].load_blob(self.key, "code package"))

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


class Run:
    def __init__(self, pathspec: str, _check_namespace: bool = True) -> None:
        parts = pathspec.split("/")
        if len(parts) != 2:
            raise ClientError("Run pathspecs look like Flow/run_id, not %r." % pathspec)
        self.flow_name, self.id = parts
        self.pathspec = pathspec
        _, meta, _ = _store()
        record = meta.run_record(self.flow_name, self.id)
        if record is None:
            raise ClientError("Run %s does not exist in %s." % (pathspec, get_metadata()))
        self._record: RunRecord = record
        self._end: Optional[RunEnd] = None
        self._ended = False
        ns = get_namespace()
        if _check_namespace and ns is not None and ns not in self.tags + self.system_tags:
            raise NamespaceMismatch(
                "Run %s is not in namespace %s." % (pathspec, ns), "Call namespace(None) to see every run."
            )

    def _end_record(self) -> Optional[RunEnd]:
        if not self._ended:
            self._end = _store()[1].run_end(self.flow_name, self.id)
            self._ended = self._end is not None
        return self._end

    @property
    def tags(self) -> List[str]:
        return list(self._record.tags)

    @property
    def system_tags(self) -> List[str]:
        return list(self._record.system_tags)

    @property
    def user(self) -> str:
        return self._record.user

    @property
    def successful(self) -> bool:
        end = self._end_record()
        return end is not None and end.succeeded

    @property
    def finished(self) -> bool:
        return self._end_record() is not None

    @property
    def status(self) -> str:
        """'succeeded', 'failed', or 'running' (also a run whose orchestrator was killed)."""
        end = self._end_record()
        return end.status.value if end is not None else "running"

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        return _timestamp(self._record.created_at)

    @property
    def finished_at(self) -> Optional[_dt.datetime]:
        end = self._end_record()
        return _timestamp(end.finished_at if end else None)

    @property
    def origin_run_id(self) -> Optional[str]:
        return self._record.origin_run_id

    @property
    def parameters(self) -> Dict[str, Any]:
        cas = _store()[2]
        return {
            name: load_artifact(cas, record, "parameter '%s' of %s" % (name, self.pathspec))
            for name, record in sorted(self._record.parameters.items())
        }

    @property
    def code(self) -> Optional[Code]:
        code = self._record.code
        return Code(code.key, code.flow_file) if code else None

    def steps(self) -> List[Step]:
        order = [s["name"] for s in self._record.graph.get("steps", [])]
        _, meta, _ = _store()
        present = {s for s, _, _, _ in meta.task_files(self.flow_name, self.id)}
        return [Step("%s/%s" % (self.pathspec, s)) for s in order if s in present]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __getitem__(self, step: str) -> Step:
        if step not in {s.id for s in self.steps()}:
            raise MissingChild("Run %s has no step '%s'." % (self.pathspec, step))
        return Step("%s/%s" % (self.pathspec, step))

    def __contains__(self, step: str) -> bool:
        return step in {s.id for s in self.steps()}

    @property
    def end_task(self) -> Optional[Task]:
        return Step("%s/end" % self.pathspec).task if "end" in self else None

    @property
    def data(self) -> Optional[MetaflowData]:
        """The artifacts of the end step, or None when the run did not reach it."""
        task = self.end_task
        return task.data if task is not None and task.successful else None

    def __repr__(self) -> str:
        return "Run('%s')" % self.pathspec


class Flow:
    def __init__(self, name: str) -> None:
        self.id = self.pathspec = name
        if not _store()[1].runs(name):
            raise ClientError(
                "Flow %s has no runs in %s." % (name, get_metadata()),
                "Check the name, or point the client at the right store with metadata(url).",
            )

    def _run_ids(self) -> List[str]:
        return sorted(_store()[1].runs(self.id), key=lambda r: (len(r), r), reverse=True)

    def runs(self, *tags: str) -> List[Run]:
        """Runs newest first, in the current namespace, having every tag given."""
        found = []
        for run_id in self._run_ids():
            run = Run("%s/%s" % (self.id, run_id), _check_namespace=False)
            ns = get_namespace()
            all_tags = set(run.tags + run.system_tags)
            if (ns is None or ns in all_tags) and set(tags) <= all_tags:
                found.append(run)
        return found

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs())

    def __getitem__(self, run_id: str) -> Run:
        return Run("%s/%s" % (self.id, run_id))

    @property
    def latest_run(self) -> Optional[Run]:
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self) -> Optional[Run]:
        return next((r for r in self.runs() if r.successful), None)

    def __repr__(self) -> str:
        return "Flow('%s')" % self.id
