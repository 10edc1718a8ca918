"""Run metadata in the store: flows, runs, steps, tasks and attempts, as write-once JSON records.

Layout under the store root (every name validated by ``names``)::

    flows/<flow>/runs/<run>/run.json                      created once: params, tags, code package, graph
    flows/<flow>/runs/<run>/done.json                     written once when the run ends
    flows/<flow>/runs/<run>/steps/<step>/<task>/<n>.start.json   attempt n began: inputs, foreach stack
    flows/<flow>/runs/<run>/steps/<step>/<task>/<n>.done.json    attempt n ended: status, artifacts, exception
    flows/<flow>/runs/<run>/steps/<step>/<task>/<n>.stdout|.stderr

Records are never rewritten: a retry is a new attempt, a resume a new run.
``<n>.done.json`` is the single commit point of an attempt: its artifact
index is inside it, so a killed task leaves no index that looks valid.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar

from ..ids import id_order
from .backend import Backend, MissingKey
from .names import check_name
from .records import AttemptEnd, AttemptStart, RunEnd, RunRecord, TagEvent

R = TypeVar("R")

_ATTEMPT_FILE = re.compile(r"^(\d+)\.(start|done)\.json$")


def _safe(name: str) -> bool:
    try:
        check_name("flow", name)
        return True
    except Exception:
        return False


def run_prefix(flow: str, run: str) -> str:
    return "flows/%s/runs/%s" % (check_name("flow", flow), check_name("run", run))


def task_prefix(flow: str, run: str, step: str, task: str) -> str:
    return "%s/steps/%s/%s" % (run_prefix(flow, run), check_name("step", step), check_name("task", task))


def log_key(flow: str, run: str, step: str, task: str, attempt: int, stream: str) -> str:
    assert stream in ("stdout", "stderr")
    return "%s/%d.%s" % (task_prefix(flow, run, step, task), attempt, stream)


def attempt_log_key(
    flow: str, run: str, step: str, task: str, attempt: int, end: Optional[AttemptEnd], stream: str
) -> str:
    """The key of an attempt's log: its own, or for a task cloned by resume, the logs of the task it reuses."""
    source = end.logs_from if end is not None else None
    if source is not None:
        return log_key(flow, source.run or run, source.step, source.task, source.attempt, stream)
    return log_key(flow, run, step, task, attempt, stream)


def log_files(
    backend: Backend, flow: str, run: str, step: str, task: str, attempt: int, scratch_dir: Optional[str]
) -> Tuple[str, str]:
    """The (stdout, stderr) files of an attempt: in a local store, its log keys themselves, so the logs
    are stored as they are written; otherwise files in ``scratch_dir``, uploaded when the task ends."""
    paths = []
    for stream in ("stdout", "stderr"):
        key = log_key(flow, run, step, task, attempt, stream)
        local = backend.local_path(key)
        if local is None:
            local = os.path.join(scratch_dir or "/tmp/orch-logs", key.replace("/", "_"))
        paths.append(local)
    return paths[0], paths[1]


def _encode(data: Dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class LatestAttempt:
    """The newest attempt of a task, and which of its records exist."""

    attempt: int
    started: bool = False
    done: bool = False


class MetadataStore:
    """Reads and writes the typed records (``records``); all bytes go through the backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _read(self, key: str) -> Optional[Dict[str, Any]]:
        """The decoded JSON under ``key``, or None. Subclasses may cache it: records are write-once."""
        try:
            return json.loads(bytes(self.backend.get(key)))
        except MissingKey:
            return None

    def _typed(self, key: str, decode: Callable[[Dict[str, Any]], R]) -> Optional[R]:
        data = self._read(key)
        return decode(data) if data is not None else None

    # runs

    def create_run(self, record: RunRecord) -> bool:
        """False when the run id is taken (the caller picks another)."""
        key = run_prefix(record.flow, record.run_id) + "/run.json"
        return self.backend.put(key, [_encode(record.to_json())], if_absent=True)

    def finish_run(self, flow: str, run: str, end: RunEnd) -> None:
        self.backend.put(run_prefix(flow, run) + "/done.json", [_encode(end.to_json())], if_absent=True)

    def run_record(self, flow: str, run: str) -> Optional[RunRecord]:
        return self._typed(run_prefix(flow, run) + "/run.json", RunRecord.from_json)

    def run_end(self, flow: str, run: str) -> Optional[RunEnd]:
        return self._typed(run_prefix(flow, run) + "/done.json", RunEnd.from_json)

    # tags: the run record's, changed by write-once events (records.TagEvent)

    def add_tag_event(self, flow: str, run: str, event: TagEvent) -> str:
        """Record a change to a run's user tags as an object of its own, named to sort in time order;
        returns its key."""
        key = run_prefix(flow, run) + "/tags/%020d-%s.json" % (time.time_ns(), uuid.uuid4().hex[:16])
        self.backend.put(key, [_encode(event.to_json())], if_absent=True)
        return key

    def tag_events(self, flow: str, run: str, upto: Optional[str] = None) -> List[TagEvent]:
        """Every change to the run's tags, oldest first (one listing of the run's tags folder); with
        ``upto``, only those up to and including that change."""
        keys = sorted(info.key for info in self.backend.list(run_prefix(flow, run) + "/tags/"))
        keys = [k for k in keys if upto is None or k <= upto]
        found = dict(self.backend.get_many(keys))
        return [TagEvent.from_json(json.loads(bytes(found[key]))) for key in keys if key in found]

    def user_tags(
        self, flow: str, run: str, record: Optional[RunRecord] = None, upto: Optional[str] = None
    ) -> Tuple[str, ...]:
        """The run's user tags now (or as of the change ``upto``): its record's, with the changes applied."""
        record = record or self.run_record(flow, run)
        tags = tuple(record.tags) if record else ()
        for event in self.tag_events(flow, run, upto):
            tags = event.apply(tags)
        return tags

    def flows(self) -> List[str]:
        names = {info.key.split("/")[1] for info in self.backend.list("flows/") if info.key.endswith("/run.json")}
        return sorted(names)

    def runs(self, flow: str) -> List[str]:
        return [run for run, _ in self._created(flow)]

    def _created(self, flow: str) -> List[Tuple[str, float]]:
        """(run, when its record was written) for every run with a record, from one listing."""
        prefix = "flows/%s/runs/" % check_name("flow", flow)
        runs = []
        for info in self.backend.list(prefix):
            parts = info.key[len(prefix) :].split("/")
            if len(parts) == 2 and parts[1] == "run.json":
                runs.append((parts[0], info.mtime))
        return runs

    def runs_in_order(self, flow: str, newest_first: bool = False) -> List[str]:
        """The flow's runs (those with a record), oldest first or newest first: by when their record was
        written, then by id. Ids alone do not order runs started elsewhere (``sfn-<execution>``)."""
        found = sorted(self._created(flow), key=lambda pair: (int(pair[1]), id_order(pair[0])), reverse=newest_first)
        return [run for run, _ in found]

    def latest_run(self, flow: str) -> Optional[str]:
        """The flow's newest run with a record, or None."""
        runs = self.runs_in_order(flow, newest_first=True)
        return runs[0] if runs else None

    def run_ids(self, flow: str) -> List[str]:
        """The run folders of a flow, from one shallow listing (cheap with thousands of runs). Unlike
        ``runs`` it does not check for ``run.json``: a run being created may not have one yet."""
        return self.backend.children("flows/%s/runs" % check_name("flow", flow))

    def flow_names(self) -> List[str]:
        return [name for name in self.backend.children("flows") if _safe(name)]

    # tasks

    def start_attempt(self, flow: str, run: str, step: str, task: str, start: AttemptStart) -> None:
        key = "%s/%d.start.json" % (task_prefix(flow, run, step, task), start.attempt)
        self.backend.put(key, [_encode(start.to_json())])

    def finish_attempt(self, flow: str, run: str, step: str, task: str, end: AttemptEnd) -> None:
        key = "%s/%d.done.json" % (task_prefix(flow, run, step, task), end.attempt)
        self.backend.put(key, [_encode(end.to_json())], if_absent=True)

    def attempt_end(self, flow: str, run: str, step: str, task: str, attempt: int) -> Optional[AttemptEnd]:
        return self._typed("%s/%d.done.json" % (task_prefix(flow, run, step, task), attempt), AttemptEnd.from_json)

    def attempt_start(self, flow: str, run: str, step: str, task: str, attempt: int) -> Optional[AttemptStart]:
        return self._typed("%s/%d.start.json" % (task_prefix(flow, run, step, task), attempt), AttemptStart.from_json)

    def task_files(self, flow: str, run: str, step: Optional[str] = None) -> Iterator[Tuple[str, str, int, str]]:
        """(step, task, attempt, 'start'|'done') for every attempt record of a run (or of one step of it),
        from one listing."""
        prefix = run_prefix(flow, run) + "/steps/"
        scope = prefix + check_name("step", step) + "/" if step else prefix
        for info in self.backend.list(scope):
            parts = info.key[len(prefix) :].split("/")
            if len(parts) != 3:
                continue
            match = _ATTEMPT_FILE.match(parts[2])
            if match:
                yield parts[0], parts[1], int(match.group(1)), match.group(2)

    def latest_attempts(self, flow: str, run: str, step: Optional[str] = None) -> Dict[Tuple[str, str], LatestAttempt]:
        """(step, task) → the newest attempt of each task of the run (or of one step), from one listing."""
        latest: Dict[Tuple[str, str], LatestAttempt] = {}
        for step_name, task, attempt, kind in self.task_files(flow, run, step):
            entry = latest.get((step_name, task))
            if entry is None or attempt > entry.attempt:
                entry = LatestAttempt(attempt)
            if attempt == entry.attempt:
                entry = replace(entry, started=entry.started or kind == "start", done=entry.done or kind == "done")
            latest[(step_name, task)] = entry
        return latest
