"""The run and attempt records, typed: what each JSON file under ``flows/`` holds, written and read here only.

Four records, all frozen and write-once:

- ``RunRecord`` (``run.json``): created before the first task;
- ``RunEnd`` (``done.json``): written when the run ends;
- ``AttemptStart`` (``<n>.start.json``): an attempt began;
- ``AttemptEnd`` (``<n>.done.json``): an attempt ended. It is the attempt's
  single commit point: its artifact index is inside it.

Every file carries ``schema``. Schema 1 (orch 0.1.0) is still read: a
successful attempt said ``"ok"``, and a process that died before it could
commit was recorded as an exception whose ``type`` was the executor's state;
schema 2 gives that death a field of its own (``AttemptEnd.died``); schema 3
replaces the start's ``batch_job_id`` with its backend's ``placement``
mapping (an old Batch id reads as ``aws-batch-job-id``). A record
from a newer orch raises ``RecordSchemaError`` instead of being misread.
Standard library only: the task runtime writes attempt records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Dict, Mapping, Optional, Tuple

from ..errors import OrchError
from ..ids import AttemptRef, Frame
from ..states import Status, TaskState
from .artifacts import ArtifactRecord

SCHEMA = 3
_DEATHS = {state.value for state in TaskState} - {"running", "succeeded"}


class RecordSchemaError(OrchError):
    """A record written by a newer orch, with a schema this version does not know."""


def _check_schema(data: Mapping[str, Any], what: str) -> None:
    schema = data.get("schema", 1)
    if not isinstance(schema, int) or schema > SCHEMA:
        raise RecordSchemaError(
            "The %s record has schema %r; this orch reads schemas up to %d." % (what, schema, SCHEMA),
            "Upgrade orch to read this store.",
        )


def _artifacts_from(data: Optional[Mapping[str, Any]]) -> Dict[str, ArtifactRecord]:
    return {name: ArtifactRecord.from_json(raw) for name, raw in (data or {}).items()}


def _artifacts_to(records: Mapping[str, ArtifactRecord]) -> Dict[str, list]:
    return {name: record.to_json() for name, record in records.items()}


def _ref(text: Optional[str]) -> Optional[AttemptRef]:
    return AttemptRef.parse(text) if text else None


def _str(ref: Optional[AttemptRef]) -> Optional[str]:
    return str(ref) if ref is not None else None


def _known(cls: type, data: Mapping[str, Any]) -> Dict[str, Any]:
    """The fields of ``cls`` present in ``data``: unknown keys are ignored, missing ones defaulted."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class ExceptionInfo:
    """A step's failure: what it raised, where in the flow's own code, and the traceback."""

    type: str
    message: str = ""
    traceback: str = ""
    where: str = ""  # "file.py:LINE in step", for one-line summaries
    orch_error: bool = False  # raised by orch on the step's behalf: the message says it all

    def to_json(self) -> Dict[str, Any]:
        return {
            "type": self.type,
            "message": self.message,
            "traceback": self.traceback,
            "where": self.where,
            "orch_error": self.orch_error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExceptionInfo:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class Death:
    """A task process that ended before committing its attempt: timed out, killed, OOM, lost, or an exit code."""

    state: TaskState
    message: str

    def to_json(self) -> Dict[str, Any]:
        return {"state": self.state.value, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Death:
        return cls(TaskState(data["state"]), str(data.get("message", "")))


@dataclass(frozen=True)
class CodeRef:
    key: str  # the code package's blob
    flow_file: str  # the flow file's path inside it


@dataclass(frozen=True)
class RunRecord:
    flow: str
    run_id: str
    created_at: float
    user: str = ""
    tags: Tuple[str, ...] = ()
    system_tags: Tuple[str, ...] = ()
    parameters: Mapping[str, ArtifactRecord] = field(default_factory=dict)
    parameter_values: Mapping[str, Any] = field(default_factory=dict)  # for display: JSON-able renderings
    constants: Mapping[str, ArtifactRecord] = field(default_factory=dict)  # class-level values, read-only
    code: Optional[CodeRef] = None
    origin_run_id: Optional[str] = None
    executor: str = ""
    graph: Mapping[str, Any] = field(default_factory=dict)
    environments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    project: Mapping[str, Any] = field(default_factory=dict)  # @project: what current says (project_name...)
    configs: Mapping[str, ArtifactRecord] = field(default_factory=dict)  # Config values, read-only artifacts
    # What started a deployed run: {"type": "event"|"run"|"schedule", "name", "id", "timestamp", "run"}
    trigger: Mapping[str, Any] = field(default_factory=dict)

    def with_run_id(self, run_id: str) -> RunRecord:
        return replace(self, run_id=run_id)

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA,
            "flow": self.flow,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "user": self.user,
            "tags": list(self.tags),
            "system_tags": list(self.system_tags),
            "parameters": _artifacts_to(self.parameters),
            "parameter_values": dict(self.parameter_values),
            "constants": _artifacts_to(self.constants),
            "code": {"key": self.code.key, "flow_file": self.code.flow_file} if self.code else None,
            "origin_run_id": self.origin_run_id,
            "executor": self.executor,
            "graph": dict(self.graph),
            "environments": {k: dict(v) for k, v in self.environments.items()},
            "project": dict(self.project),
            "configs": _artifacts_to(self.configs),
            "trigger": dict(self.trigger),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        _check_schema(data, "run")
        values = _known(cls, data)
        code = data.get("code")
        values.update(
            tags=tuple(data.get("tags") or ()),
            system_tags=tuple(data.get("system_tags") or ()),
            parameters=_artifacts_from(data.get("parameters")),
            parameter_values=dict(data.get("parameter_values") or {}),
            constants=_artifacts_from(data.get("constants")),
            code=CodeRef(code["key"], code["flow_file"]) if code else None,
            graph=dict(data.get("graph") or {}),
            environments=dict(data.get("environments") or {}),
            project=dict(data.get("project") or {}),
            configs=_artifacts_from(data.get("configs")),
            trigger=dict(data.get("trigger") or {}),
        )
        return cls(**values)


@dataclass(frozen=True)
class TagEvent:
    """One change to a run's user tags: removals first, then additions (Metaflow's order).

    A run's record is written once and never changed; its tags are the record's,
    folded with every event in the order of their keys. Each event is its own
    write-once object, so writers that change tags at the same time never lose
    each other's changes.
    """

    add: Tuple[str, ...] = ()
    remove: Tuple[str, ...] = ()
    at: float = 0.0
    user: str = ""

    def apply(self, tags: Tuple[str, ...]) -> Tuple[str, ...]:
        kept = [t for t in tags if t not in self.remove]
        return tuple(kept + [t for t in self.add if t not in kept])

    def to_json(self) -> Dict[str, Any]:
        return {"schema": SCHEMA, "add": list(self.add), "remove": list(self.remove), "at": self.at, "user": self.user}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TagEvent:
        _check_schema(data, "tag change")
        return cls(
            tuple(str(t) for t in data.get("add") or ()),
            tuple(str(t) for t in data.get("remove") or ()),
            float(data.get("at") or 0.0),
            str(data.get("user") or ""),
        )


@dataclass(frozen=True)
class RunFailure:
    """One failed task of a run, as the end record summarises it."""

    task: str  # Flow/run/step/task
    state: TaskState
    message: str

    def to_json(self) -> Dict[str, Any]:
        return {"task": self.task, "state": self.state.value, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunFailure:
        return cls(str(data.get("task", "")), TaskState(data.get("state", "failed")), str(data.get("message", "")))


@dataclass(frozen=True)
class RunEnd:
    status: Status
    finished_at: float
    failures: Tuple[RunFailure, ...] = ()
    interrupted: Optional[str] = None  # the signal that stopped it: SIGINT, SIGTERM
    tasks_run: int = 0
    tasks_cloned: int = 0
    executor_stats: Mapping[str, Any] = field(default_factory=dict)
    tasks_cached: int = 0  # reused from earlier runs by step memoization

    @property
    def succeeded(self) -> bool:
        return self.status is Status.SUCCEEDED

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA,
            "status": self.status.value,
            "finished_at": self.finished_at,
            "failures": [f.to_json() for f in self.failures],
            "interrupted": self.interrupted,
            "tasks_run": self.tasks_run,
            "tasks_cloned": self.tasks_cloned,
            "tasks_cached": self.tasks_cached,
            "executor_stats": dict(self.executor_stats),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunEnd:
        _check_schema(data, "run end")
        values = _known(cls, data)
        values.update(
            status=Status.parse(data.get("status", "failed")),
            failures=tuple(RunFailure.from_json(f) for f in data.get("failures") or ()),
            executor_stats=dict(data.get("executor_stats") or {}),
        )
        return cls(**values)


@dataclass(frozen=True)
class AttemptStart:
    attempt: int
    started_at: float
    inputs: Tuple[AttemptRef, ...] = ()
    foreach_stack: Tuple[Frame, ...] = ()
    host: str = ""
    pid: Optional[int] = None
    python: str = ""
    placement: Mapping[str, str] = field(default_factory=dict)  # where it ran, by its backend's metadata keys
    cloned_from: Optional[AttemptRef] = None  # resume: the origin run's attempt
    loops: Tuple[int, ...] = ()  # recursion iterations (a switch looped back); () when none

    @property
    def foreach_index(self) -> Optional[int]:
        return self.foreach_stack[-1].index if self.foreach_stack else None

    def where(self) -> Dict[str, str]:
        """Where it ran, as strings (Metaflow's ``metadata_dict``)."""
        found = {"attempt": self.attempt, "started_at": self.started_at, "host": self.host, "pid": self.pid}
        found.update(python=self.python, cloned_from=_str(self.cloned_from), **self.placement)
        return {k: str(v) for k, v in found.items() if v not in (None, "")}

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA,
            "attempt": self.attempt,
            "started_at": self.started_at,
            "inputs": [str(ref) for ref in self.inputs],
            "foreach_stack": [list(frame) for frame in self.foreach_stack],
            "host": self.host,
            "pid": self.pid,
            "python": self.python,
            "placement": dict(self.placement),
            "cloned_from": _str(self.cloned_from),
            "loops": list(self.loops),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttemptStart:
        _check_schema(data, "attempt start")
        values = _known(cls, data)
        values.update(
            inputs=tuple(AttemptRef.parse(text) for text in data.get("inputs") or ()),
            foreach_stack=tuple(Frame.from_json(f) for f in data.get("foreach_stack") or ()),
            host=str(data.get("host") or ""),
            cloned_from=_ref(data.get("cloned_from")),
            loops=tuple(int(n) for n in data.get("loops") or ()),
            placement={str(k): str(v) for k, v in (data.get("placement") or {}).items()},
        )
        if data.get("batch_job_id"):  # schemas 1 and 2 had one field for where a task ran
            values["placement"] = {"aws-batch-job-id": str(data["batch_job_id"])}
        return cls(**values)


Read = Tuple[str, str, Optional[str]]  # (scope, artifact name, content digest; None: looked for, absent)


@dataclass(frozen=True)
class MemoInfo:
    """Step memoization's part of an attempt: the task's static cache key (the host's), what the task
    read and wrote (the task's), and for a hit, the attempt it reused instead of running."""

    key: Mapping[str, Any]  # orchestrator.memo.key.StaticKey.to_json(), with its "digest"
    reads: Optional[Tuple[Read, ...]] = None  # None: the task may not be reused (@catch caught, failed)
    written: Tuple[str, ...] = ()  # artifacts the step set (the rest it passed through)
    deleted: Tuple[str, ...] = ()  # inherited artifacts it deleted
    cached_from: Optional[AttemptRef] = None  # a hit: run/step/task/attempt reused
    outcome: str = "miss"  # hit | miss | refresh (--refresh, --no-cache)

    def to_json(self) -> Dict[str, Any]:
        return {
            "key": dict(self.key),
            "reads": [list(r) for r in self.reads] if self.reads is not None else None,
            "written": list(self.written),
            "deleted": list(self.deleted),
            "cached_from": _str(self.cached_from),
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemoInfo:
        reads = data.get("reads")
        return cls(
            key=dict(data.get("key") or {}),
            reads=tuple((str(a), str(b), c) for a, b, c in reads) if reads is not None else None,
            written=tuple(data.get("written") or ()),
            deleted=tuple(data.get("deleted") or ()),
            cached_from=_ref(data.get("cached_from")),
            outcome=str(data.get("outcome") or "miss"),
        )


@dataclass(frozen=True)
class CardRecord:
    """One card of an attempt (``@card``): its HTML is a blob of the content-addressed store, so the
    digest is also the card's hash; ``data`` is the blob of its last data update (live cards), if any."""

    type: str
    id: Optional[str]
    html: str  # blob key (sha256) of the self-contained HTML
    data: Optional[str] = None  # blob key of the JSON data update, for cards that take them
    error: bool = False  # the card failed to render (or timed out): this is the error card in its place

    @property
    def label(self) -> str:
        """``type``, or ``type[id]`` for a card with an id: how lists name it."""
        return self.type + ("[%s]" % self.id if self.id else "")

    def blob_keys(self) -> Tuple[str, ...]:
        return (self.html,) + ((self.data,) if self.data else ())

    def to_json(self) -> Dict[str, Any]:
        return {"type": self.type, "id": self.id, "html": self.html, "data": self.data, "error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CardRecord:
        return cls(
            str(data["type"]),
            None if data.get("id") is None else str(data["id"]),
            str(data["html"]),
            data.get("data"),
            bool(data.get("error")),
        )


@dataclass(frozen=True)
class AttemptEnd:
    attempt: int
    status: Status
    finished_at: float
    started_at: Optional[float] = None
    artifacts: Mapping[str, ArtifactRecord] = field(default_factory=dict)
    next: Tuple[str, ...] = ()
    num_splits: Optional[int] = None  # a foreach split: how many tasks it fans out to
    exception: Optional[ExceptionInfo] = None  # the step raised (or the task runtime refused it)
    died: Optional[Death] = None  # the process ended without committing; written by the host
    cloned_from: Optional[AttemptRef] = None  # resume: the origin run's attempt (run/step/task/attempt)
    logs_from: Optional[AttemptRef] = None  # whose logs these are, when not this attempt's own
    memo: Optional[MemoInfo] = None  # a cached step (@cache, --cache): its key, reads, and any hit
    cards: Tuple[CardRecord, ...] = ()  # @card: the cards this attempt rendered, in decorator order
    caught: Optional[ExceptionInfo] = None  # @catch caught this failure: the task is finished, not successful

    @property
    def succeeded(self) -> bool:
        """The attempt committed and the flow goes on from it (a failure @catch caught included)."""
        return self.status is Status.SUCCEEDED

    @property
    def successful(self) -> bool:
        """Metaflow's ``Task.successful``: the step itself returned; a caught failure is not."""
        return self.succeeded and self.caught is None

    def error_text(self) -> str:
        """``Type: message`` of a failure (the state for a death), for one-line displays."""
        if self.died is not None:
            return "%s: %s" % (self.died.state.value, self.died.message)
        if self.exception is not None:
            return ("%s: %s" % (self.exception.type, self.exception.message)).strip(": ")
        return ""

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA,
            "attempt": self.attempt,
            "status": self.status.value,
            "finished_at": self.finished_at,
            "started_at": self.started_at,
            "artifacts": _artifacts_to(self.artifacts),
            "next": list(self.next),
            "num_splits": self.num_splits,
            "exception": self.exception.to_json() if self.exception else None,
            "died": self.died.to_json() if self.died else None,
            "cloned_from": _str(self.cloned_from),
            "logs_from": _str(self.logs_from),
            "memo": self.memo.to_json() if self.memo else None,
            "cards": [card.to_json() for card in self.cards],
            "caught": self.caught.to_json() if self.caught else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttemptEnd:
        _check_schema(data, "attempt end")
        values = _known(cls, data)
        exception = data.get("exception")
        died = Death.from_json(data["died"]) if data.get("died") else None
        if died is None and exception and exception.get("type") in _DEATHS and not exception.get("traceback"):
            # schema 1: a death was written as an exception named after the executor's state
            died, exception = Death(TaskState(exception["type"]), str(exception.get("message", ""))), None
        values.update(
            status=Status.parse(data.get("status", "failed")),
            finished_at=data.get("finished_at") or 0.0,
            artifacts=_artifacts_from(data.get("artifacts")),
            next=tuple(data.get("next") or ()),
            exception=ExceptionInfo.from_json(exception) if exception else None,
            died=died,
            cloned_from=_ref(data.get("cloned_from")),
            logs_from=_ref(data.get("logs_from")),
            memo=MemoInfo.from_json(data["memo"]) if data.get("memo") else None,
            cards=tuple(CardRecord.from_json(c) for c in data.get("cards") or ()),
            caught=ExceptionInfo.from_json(data["caught"]) if data.get("caught") else None,
        )
        return cls(**values)
