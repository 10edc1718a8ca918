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
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .backend import Backend, MissingKey
from .names import check_name

SCHEMA = 1
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


def _encode(record: Dict[str, Any]) -> bytes:
    return json.dumps(dict(record, schema=SCHEMA), sort_keys=True, separators=(",", ":")).encode()


class MetadataStore:
    """Reads and writes run records; all bytes go through the backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _read(self, key: str) -> Optional[Dict[str, Any]]:
        try:
            return json.loads(bytes(self.backend.get(key)))
        except MissingKey:
            return None

    # runs

    def create_run(self, flow: str, run: str, record: Dict[str, Any]) -> bool:
        """False when the run id is taken (the caller picks another)."""
        return self.backend.put(run_prefix(flow, run) + "/run.json", [_encode(record)], if_absent=True)

    def finish_run(self, flow: str, run: str, record: Dict[str, Any]) -> None:
        self.backend.put(run_prefix(flow, run) + "/done.json", [_encode(record)], if_absent=True)

    def run_record(self, flow: str, run: str) -> Optional[Dict[str, Any]]:
        return self._read(run_prefix(flow, run) + "/run.json")

    def run_done(self, flow: str, run: str) -> Optional[Dict[str, Any]]:
        return self._read(run_prefix(flow, run) + "/done.json")

    def flows(self) -> List[str]:
        names = {info.key.split("/")[1] for info in self.backend.list("flows/") if info.key.endswith("/run.json")}
        return sorted(names)

    def runs(self, flow: str) -> List[str]:
        prefix = "flows/%s/runs/" % check_name("flow", flow)
        runs = []
        for info in self.backend.list(prefix):
            parts = info.key[len(prefix) :].split("/")
            if len(parts) == 2 and parts[1] == "run.json":
                runs.append(parts[0])
        return runs

    def run_ids(self, flow: str) -> List[str]:
        """The run folders of a flow, from one shallow listing (cheap with thousands of runs). Unlike
        ``runs`` it does not check for ``run.json``: a run being created may not have one yet."""
        return self.backend.children("flows/%s/runs" % check_name("flow", flow))

    def flow_names(self) -> List[str]:
        return [name for name in self.backend.children("flows") if _safe(name)]

    # tasks

    def start_attempt(self, flow: str, run: str, step: str, task: str, attempt: int, record: Dict[str, Any]) -> None:
        key = "%s/%d.start.json" % (task_prefix(flow, run, step, task), attempt)
        self.backend.put(key, [_encode(record)])

    def finish_attempt(self, flow: str, run: str, step: str, task: str, attempt: int, record: Dict[str, Any]) -> None:
        key = "%s/%d.done.json" % (task_prefix(flow, run, step, task), attempt)
        self.backend.put(key, [_encode(record)], if_absent=True)

    def attempt_done(self, flow: str, run: str, step: str, task: str, attempt: int) -> Optional[Dict[str, Any]]:
        return self._read("%s/%d.done.json" % (task_prefix(flow, run, step, task), attempt))

    def attempt_start(self, flow: str, run: str, step: str, task: str, attempt: int) -> Optional[Dict[str, Any]]:
        return self._read("%s/%d.start.json" % (task_prefix(flow, run, step, task), attempt))

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

    def latest_attempts(self, flow: str, run: str) -> Dict[Tuple[str, str], Dict[str, Any]]:
        """(step, task) → {'attempt': n, 'start': bool, 'done': bool} for the newest attempt of each task."""
        latest: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for step, task, attempt, kind in self.task_files(flow, run):
            entry = latest.get((step, task))
            if entry is None or attempt > entry["attempt"]:
                entry = latest[(step, task)] = {"attempt": attempt, "start": False, "done": False}
            if attempt == entry["attempt"]:
                entry[kind] = True
        return latest
