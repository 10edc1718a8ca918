"""What a run looks like to people: steps with their status, tasks with their attempts and timings.

Built from the store's records only (one listing of the run, then the
records themselves, read in parallel), so the report and the web UI show
exactly what the client API reads, for local and S3 stores alike.
Artifacts are described from their index (name, type, size), never loaded.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..store.metadata import MetadataStore

# task and step states, as the UI colours them
SUCCEEDED, FAILED, RUNNING, PENDING, CLONED = "succeeded", "failed", "running", "pending", "cloned"


@dataclass
class Attempt:
    number: int
    started_at: Optional[float]
    finished_at: Optional[float]
    status: str  # succeeded, failed, running
    host: str = ""
    error: str = ""  # "Type: message" of a failed attempt
    cloned_from: Optional[str] = None


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

    @property
    def status(self) -> str:
        last = self.attempts[-1]
        if last.cloned_from and last.status == SUCCEEDED:
            return CLONED
        return last.status


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
        return CLONED if states == {CLONED} else SUCCEEDED


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


def _attempt(number: int, start: Optional[dict], done: Optional[dict]) -> Attempt:
    start, finished = start or {}, done or {}
    status = RUNNING if not done else SUCCEEDED if finished.get("status") == "ok" else FAILED
    exception = finished.get("exception") or {}
    error = "%s: %s" % (exception.get("type", ""), exception.get("message", "")) if exception else ""
    return Attempt(
        number=number,
        started_at=start.get("started_at") or finished.get("started_at"),
        finished_at=finished.get("finished_at"),
        status=status,
        host=str(start.get("host") or ""),
        error=error.strip(": "),
        cloned_from=finished.get("cloned_from") or start.get("cloned_from"),
    )


def _artifacts(done: Optional[dict]) -> List[ArtifactInfo]:
    out = []
    for name, record in sorted(((done or {}).get("artifacts") or {}).items()):
        out.append(
            ArtifactInfo(name, str(record[3]) if len(record) > 3 else "?", int(record[2]) if len(record) > 2 else 0)
        )
    return out


def run_view(meta: MetadataStore, flow: str, run_id: str, threads: int = 16) -> Optional[RunView]:
    """The whole run, or None when there is no such run."""
    record = meta.run_record(flow, run_id)
    if record is None:
        return None
    done = meta.run_done(flow, run_id)
    files: Dict[Tuple[str, str], Dict[int, set]] = {}
    for step, task, attempt, kind in meta.task_files(flow, run_id):
        files.setdefault((step, task), {}).setdefault(attempt, set()).add(kind)

    def read(item: Tuple[Tuple[str, str], Dict[int, set]]) -> TaskView:
        (step, task), attempts = item
        views: List[Attempt] = []
        last_done: Optional[dict] = None
        last_start: Optional[dict] = None
        for number in sorted(attempts):
            start = meta.attempt_start(flow, run_id, step, task, number) if "start" in attempts[number] else None
            finished = meta.attempt_done(flow, run_id, step, task, number) if "done" in attempts[number] else None
            views.append(_attempt(number, start, finished))
            last_done, last_start = finished, start
        stack = (last_start or {}).get("foreach_stack") or []
        return TaskView(step, task, views, stack[-1][2] if stack else None, _artifacts(last_done))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        tasks = list(pool.map(read, sorted(files.items(), key=lambda i: (i[0][0], _numeric(i[0][1])))))
    by_step: Dict[str, List[TaskView]] = {}
    for task in tasks:
        by_step.setdefault(task.step, []).append(task)
    steps = []
    for node in (record.get("graph") or {}).get("steps", []):
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
    status = (done or {}).get("status") or RUNNING
    return RunView(
        flow=flow,
        run_id=run_id,
        status=status,
        created_at=record.get("created_at"),
        finished_at=(done or {}).get("finished_at"),
        user=record.get("user", ""),
        tags=list(record.get("tags", [])),
        parameters=dict(record.get("parameter_values") or {}),
        environments=dict(record.get("environments") or {}),
        code_key=(record.get("code") or {}).get("key", ""),
        executor=record.get("executor", ""),
        steps=steps,
        failures=list((done or {}).get("failures") or []),
    )


def _numeric(task_id: str) -> Tuple[int, str]:
    return (int(task_id), "") if task_id.isdigit() else (0, task_id)
