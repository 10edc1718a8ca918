"""What a run looks like to people: steps with their status, tasks with their attempts and timings.

Built from the store's records only (one listing of the run, then the
records themselves, read in parallel), so the report and the web UI show
exactly what the client API reads, for local and S3 stores alike.
Artifacts are described from their index (name, type, size), never loaded,
except a foreach's list (up to 1 MiB, once per process), to label its tasks
with the values they handled.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..store.artifacts import load_artifact
from ..store.cas import ContentAddressedStore
from ..store.metadata import MetadataStore
from ..store.records import AttemptEnd, AttemptStart, CardRecord

# task and step states, as the UI colours them
SUCCEEDED, FAILED, RUNNING, PENDING, CLONED = "succeeded", "failed", "running", "pending", "cloned"
CACHED = "cached"  # reused from an earlier run by step memoization


@dataclass
class Attempt:
    number: int
    started_at: Optional[float]
    finished_at: Optional[float]
    status: str  # succeeded, failed, running
    host: str = ""
    error: str = ""  # "Type: message" of a failed attempt
    cloned_from: Optional[str] = None
    cached_from: Optional[str] = None  # step memoization: the task reused (run/step/task/attempt)

    @property
    def shown_status(self) -> str:
        """succeeded, failed, running; cloned or cached for a success that reused another task."""
        if self.status == SUCCEEDED and self.cloned_from:
            return CLONED
        if self.status == SUCCEEDED and self.cached_from:
            return CACHED
        return self.status


@dataclass
class ArtifactInfo:
    name: str
    type: str
    size: int


@dataclass
class TaskView:
    step: str
    task_id: str
    attempts: List[Attempt]
    foreach_index: Optional[int] = None
    artifacts: List[ArtifactInfo] = field(default_factory=list)
    foreach_value: Optional[str] = None  # what self.input was, shortened: "Action"
    python: str = ""  # the Python the task ran on (its last attempt)
    cards: Tuple[CardRecord, ...] = ()  # @card: its last attempt's cards

    @property
    def label(self) -> str:
        """``3 [Action]``: the task id and, in a foreach, the value it handled (else its index)."""
        if self.foreach_value is not None:
            return "%s [%s]" % (self.task_id, self.foreach_value)
        return self.task_id if self.foreach_index is None else "%s [%d]" % (self.task_id, self.foreach_index)

    @property
    def status(self) -> str:
        return self.attempts[-1].shown_status


@dataclass
class StepView:
    name: str
    type: str
    next: List[str]
    doc: str
    decorators: List[str]
    tasks: List[TaskView] = field(default_factory=list)

    @property
    def status(self) -> str:
        states = {t.status for t in self.tasks}
        if not states:
            return PENDING
        for state in (FAILED, RUNNING):
            if state in states:
                return state
        if len(states) == 1 and states & {CLONED, CACHED}:
            return states.pop()
        return SUCCEEDED


@dataclass
class RunView:
    flow: str
    run_id: str
    status: str
    created_at: Optional[float]
    finished_at: Optional[float]
    user: str
    tags: List[str]
    parameters: Dict[str, Any]
    environments: Dict[str, dict]
    code_key: str
    executor: str
    steps: List[StepView]
    failures: List[dict] = field(default_factory=list)

    @property
    def tasks(self) -> List[TaskView]:
        return [task for step in self.steps for task in step.tasks]


def _attempt(number: int, start: Optional[AttemptStart], end: Optional[AttemptEnd]) -> Attempt:
    status = RUNNING if end is None else SUCCEEDED if end.succeeded else FAILED
    cloned = (end.cloned_from if end else None) or (start.cloned_from if start else None)
    return Attempt(
        number=number,
        started_at=(start.started_at if start else None) or (end.started_at if end else None),
        finished_at=end.finished_at if end else None,
        status=status,
        host=start.host if start else "",
        error=end.error_text() if end else "",
        cloned_from=str(cloned) if cloned else None,
        cached_from=str(end.memo.cached_from) if end and end.memo and end.memo.cached_from else None,
    )


def _artifacts(end: Optional[AttemptEnd]) -> List[ArtifactInfo]:
    records = end.artifacts if end is not None else {}
    return [ArtifactInfo(name, record.type, record.size) for name, record in sorted(records.items())]


def run_view(meta: MetadataStore, flow: str, run_id: str, threads: int = 16) -> Optional[RunView]:
    """The whole run, or None when there is no such run."""
    record = meta.run_record(flow, run_id)
    if record is None:
        return None
    end = meta.run_end(flow, run_id)
    files: Dict[Tuple[str, str], Dict[int, set]] = {}
    for step, task, attempt, kind in meta.task_files(flow, run_id):
        files.setdefault((step, task), {}).setdefault(attempt, set()).add(kind)

    def read(item: Tuple[Tuple[str, str], Dict[int, set]]) -> TaskView:
        (step, task), attempts = item
        views: List[Attempt] = []
        last_end: Optional[AttemptEnd] = None
        last_start: Optional[AttemptStart] = None
        for number in sorted(attempts):
            start = meta.attempt_start(flow, run_id, step, task, number) if "start" in attempts[number] else None
            finished = meta.attempt_end(flow, run_id, step, task, number) if "done" in attempts[number] else None
            views.append(_attempt(number, start, finished))
            last_end, last_start = finished, start
        index = last_start.foreach_index if last_start else None
        view = TaskView(step, task, views, index, _artifacts(last_end), python=last_start.python if last_start else "")
        view.foreach_value = _foreach_value(meta, flow, run_id, last_start)
        view.cards = last_end.cards if last_end else ()
        return view

    with ThreadPoolExecutor(max_workers=threads) as pool:
        tasks = list(pool.map(read, sorted(files.items(), key=lambda i: (i[0][0], _numeric(i[0][1])))))
    by_step: Dict[str, List[TaskView]] = {}
    for task in tasks:
        by_step.setdefault(task.step, []).append(task)
    steps = []
    for node in record.graph.get("steps", []):
        decorators = [d["name"] for d in node.get("decorators", [])]
        steps.append(
            StepView(
                node["name"],
                node["type"],
                list(node.get("next", [])),
                node.get("doc", ""),
                decorators,
                by_step.get(node["name"], []),
            )
        )
    return RunView(
        flow=flow,
        run_id=run_id,
        status=end.status.value if end else RUNNING,
        created_at=record.created_at,
        finished_at=end.finished_at if end else None,
        user=record.user,
        tags=list(meta.user_tags(flow, run_id, record)),  # as they are now: orch tag / add_tag change them
        parameters=dict(record.parameter_values),
        environments={k: dict(v) for k, v in record.environments.items()},
        code_key=record.code.key if record.code else "",
        executor=record.executor,
        steps=steps,
        failures=[f.to_json() for f in end.failures] if end else [],
    )


_LISTS: Dict[str, Any] = {}  # digest → a foreach list, loaded once per process (UI pages refresh often)
_LIST_LIMIT = 1 << 20  # bytes: a larger foreach list is not loaded for labels; tasks show their index


def _foreach_value(meta: MetadataStore, flow: str, run_id: str, start: Optional[AttemptStart]) -> Optional[str]:
    """What a foreach task's ``self.input`` was, as text of at most 30 characters (Metaflow's rule)."""
    if start is None or not start.foreach_stack or not start.inputs:
        return None
    frame, parent = start.foreach_stack[-1], start.inputs[0]
    if parent.step != frame.step:  # a join inside the foreach, or a later step of it: no list beside it
        return None
    end = meta.attempt_end(flow, parent.run or run_id, parent.step, parent.task, parent.attempt)
    record = end.artifacts.get(frame.var) if end is not None else None
    if record is None or record.size > _LIST_LIMIT:
        return None
    if record.digest not in _LISTS:
        try:
            _LISTS[record.digest] = load_artifact(ContentAddressedStore(meta.backend), record, "foreach list")
        except Exception:  # a value this process cannot unpickle (a class of the flow's): show the index
            _LISTS[record.digest] = None
    items = _LISTS[record.digest]
    try:
        value = items[frame.index]
    except (TypeError, IndexError, KeyError):
        return None
    text = str(value) if isinstance(value, (str, int, float, bool)) else repr(value)
    return text if len(text) <= 30 else text[:29] + "…"


def _numeric(task_id: str) -> Tuple[int, str]:
    return (int(task_id), "") if task_id.isdigit() else (0, task_id)
