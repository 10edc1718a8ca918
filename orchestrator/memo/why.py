"""``orch why``: why a cached step's task was reused, or why it ran, in words a person reads.

For a hit it names the task reused. For a miss it takes the nearest earlier
candidate (an entry of the same flow and step, the same foreach place first,
newest first) and names every part of the key that differs: the code (a
unified diff of the step, or of the helper that changed), the environment
(package versions between the two locks), ``@environment`` variables, a
``version=`` bump, a parameter (``alpha: 0.1 -> 0.2``), an input artifact
(``sha256 ab12… -> 9f3e…``), an expiry, a ``--refresh``, or that there was no
earlier run of the step at all.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import time
from typing import Dict, List, Optional, Tuple

from ..ids import id_order, task_path
from ..store import cache_entries as entries
from ..store.artifacts import ArtifactRecord, load_artifact
from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.metadata import MetadataStore
from ..store.records import AttemptStart, RunRecord
from ..task.codepkg import extract_package
from .codehash import CodeIndex, StepCode
from .key import StaticKey, differences
from .lookup import parent_records, read_digest, read_views

_VERSION = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;\\]+)", re.M)
_YAML_PACKAGE = re.compile(r"^\s*-?\s*name:\s*(\S+)\s*\n(?:.*\n){0,6}?\s*version:\s*['\"]?([^'\"\s]+)", re.M)


def _short(digest: Optional[str]) -> str:
    return "(absent)" if digest is None else "sha256 %s…" % digest[:8]


class Explainer:
    """Explains the tasks of one run's step, reading the store (and code packages) as it needs."""

    def __init__(self, backend: Backend, flow: str, run_id: str) -> None:
        self.backend, self.flow, self.run_id = backend, flow, run_id
        self.meta, self.cas = MetadataStore(backend), ContentAddressedStore(backend)
        self._records: Dict[str, Optional[RunRecord]] = {}
        self._code: Dict[Tuple[str, str], Optional[StepCode]] = {}

    def record(self, run_id: str) -> Optional[RunRecord]:
        if run_id not in self._records:
            self._records[run_id] = self.meta.run_record(self.flow, run_id)
        return self._records[run_id]

    def task(self, step: str, task_id: str) -> List[str]:
        latest = self.meta.latest_attempts(self.flow, self.run_id, step).get((step, task_id))
        if latest is None:
            return ["%s: no such task." % task_path(self.flow, self.run_id, step, task_id)]
        end = self.meta.attempt_end(self.flow, self.run_id, step, task_id, latest.attempt)
        start = self.meta.attempt_start(self.flow, self.run_id, step, task_id, latest.attempt)
        head = str(task_path(self.flow, self.run_id, step, task_id))
        if end is None:
            return ["%s: still running (or its process died before it recorded its end)." % head]
        if end.memo is None:
            return ["%s: step %s is not cached. Add @cache to it, or run with --cache." % (head, step)]
        memo = end.memo
        if memo.cached_from is not None:
            return [
                "%s: cached: reuses %s/%s/%s/%s (attempt %d)."
                % (head, self.flow, memo.cached_from.run, memo.cached_from.step, memo.cached_from.task,
                   memo.cached_from.attempt),
                "  Its code, environment and the %d values it read are unchanged." % len(memo.reads or ()),
            ]  # fmt: skip
        lines = ["%s: ran (%s)." % (head, "forced by --refresh or --no-cache" if memo.outcome == "refresh" else "miss")]
        if memo.outcome == "refresh":
            return lines
        key = StaticKey.from_json(memo.key)
        candidate = self._nearest(key, end.finished_at)
        if candidate is None:
            return lines + ["  No earlier run of step %s has a cache entry: this was the first." % step]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(candidate.created_at))
        source = candidate.source
        lines.append("  Nearest earlier task: %s/%s/%s/%s (%s)." % (self.flow, source.run, step, source.task, when))
        found = self._key_changes(StaticKey.from_json(candidate.key), key, source.run, step)
        if not found and start is not None:
            found = self._read_changes(candidate, start, step)
        if not found:
            found = self._expiry(candidate, step)
        return lines + ["  " + line for line in found or ["Nothing differs that orch can name."]]

    def _nearest(self, key: StaticKey, before: float) -> Optional[entries.CacheEntry]:
        earlier = [
            e for e in entries.of_step(self.backend, self.flow, key.step)
            if e.source.run != self.run_id and e.created_at <= before
        ]  # fmt: skip
        same_place = [e for e in earlier if StaticKey.from_json(e.key).frames == key.frames]
        return (same_place or earlier or [None])[0]

    # the static key

    def _key_changes(self, old: StaticKey, new: StaticKey, old_run: str, step: str) -> List[str]:
        found: List[str] = []
        for part in differences(old, new):
            if part == "code":
                found.extend(self._code_changes(old_run, step))
            elif part == "env":
                found.extend(self._env_changes(old_run, step))
            elif part == "env_vars":
                names = sorted(set(old.env_vars) ^ set(new.env_vars))
                found.append("@environment changed: %s." % ", ".join(sorted({n for n, _ in names})))
            elif part == "version":
                found.append("version bump: %s -> %s." % (old.version, new.version))
            elif part == "runtime":
                found.append("orch's task runtime changed (format %d -> %d)." % (old.runtime, new.runtime))
            else:
                found.append("its place in the flow differs (%s)." % part)
        return found

    def _step_code(self, run_id: str, step: str) -> Optional[StepCode]:
        if (run_id, step) not in self._code:
            record = self.record(run_id)
            code = None
            if record is not None and record.code is not None:
                folder = os.path.join(tempfile.gettempdir(), "orch-why-%d" % os.getuid(), record.code.key)
                extract_package(bytes(self.cas.load_blob(record.code.key, "code package")), folder)
                steps = CodeIndex(folder).steps(os.path.join(folder, record.code.flow_file), self.flow)
                code = steps.get(step)
            self._code[(run_id, step)] = code
        return self._code[(run_id, step)]

    def _code_changes(self, old_run: str, step: str) -> List[str]:
        old, new = self._step_code(old_run, step), self._step_code(self.run_id, step)
        if old is None or new is None:
            return ["the code of step %s changed." % step]
        old_parts, new_parts = dict(old.parts), dict(new.parts)
        old_texts, new_texts = dict(old.texts), dict(new.texts)
        found = []
        for part in sorted(set(old_parts) | set(new_parts)):
            if old_parts.get(part) == new_parts.get(part):
                continue
            what = "step %s" % step if "." in part and ":" not in part else part.replace(":", ": ", 1)
            state = "added" if part not in old_parts else "removed" if part not in new_parts else "changed"
            found.append("code of %s %s:" % (what, state))
            diff = difflib.unified_diff(
                old_texts.get(part, "").splitlines(),
                new_texts.get(part, "").splitlines(),
                "%s (run %s)" % (part, old_run),
                "%s (run %s)" % (part, self.run_id),
                lineterm="",
            )
            found.extend("    " + line for line in diff)
        return found or ["the code of step %s changed." % step]

    def _env_changes(self, old_run: str, step: str) -> List[str]:
        old, new = self._packages(old_run, step), self._packages(self.run_id, step)
        if old is None or new is None:
            return ["the environment of step %s changed (its lock file)." % step]
        changes = []
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                changes.append("%s %s -> %s" % (name, old.get(name, "(none)"), new.get(name, "(none)")))
        return ["environment changed: %s." % "; ".join(changes or ["the lock file differs"])]

    def _packages(self, run_id: str, step: str) -> Optional[Dict[str, str]]:
        record = self.record(run_id)
        env = dict(record.environments.get(step, {})) if record is not None else {}
        if not env.get("lock_key"):
            return {} if record is not None and not env.get("lock_hash") else None
        text = bytes(self.cas.load_blob(env["lock_key"], "lock file")).decode("utf-8", "replace")
        found = {m.group(1).lower(): m.group(2) for m in _VERSION.finditer(text)}
        found.update({m.group(1).lower(): m.group(2) for m in _YAML_PACKAGE.finditer(text)})
        return found

    # what it read

    def _read_changes(self, candidate: entries.CacheEntry, start: AttemptStart, step: str) -> List[str]:
        record = self.record(self.run_id)
        node = _node(record, step)
        split = _node(record, (node.get("split_parents") or [""])[-1])
        is_join = node.get("type") == "join"
        runs = dict(record.constants, **record.configs, **record.parameters) if record else {}
        parents = parent_records(self.meta, self.flow, self.run_id, start.inputs)
        views = read_views(parents, start.inputs, is_join, split.get("type") == "split", runs)
        old_record = self.record(candidate.source.run)
        ignore = set(_cache_attributes(record, step).get("ignore") or ())
        found, elements = [], {}  # type: ignore[var-annotated]
        for scope, name, digest in candidate.reads:
            if name.split("#")[0] in ignore:
                continue
            now = read_digest(self.cas, scope, name, views, elements)
            if now != digest:
                found.append(self._describe(scope, name, digest, now, old_record, record, start))
        return found

    def _describe(
        self,
        scope: str,
        name: str,
        old: Optional[str],
        new: Optional[str],
        old_record: Optional[RunRecord],
        record: Optional[RunRecord],
        start: AttemptStart,
    ) -> str:
        for kind, field in (("parameter", "parameters"), ("config", "configs")):
            if scope == "self" and record is not None and name in getattr(record, field):
                before = self._value(getattr(old_record, field, {}).get(name) if old_record else None)
                return "%s %s: %s -> %s" % (kind, name, before, self._value(getattr(record, field).get(name)))
        if name == "*":
            return "the artifacts of input %s changed (merge_artifacts compares them all)." % scope[len("input:") :]
        if scope == "join":
            return "the join's inputs differ (a different number of branches or foreach tasks)."
        if scope.startswith("frame:"):
            var, _, index = name.rpartition("#")
            return "foreach input %s[%s] (self.input): %s -> %s" % (var, index, _short(old), _short(new))
        if scope == "self":
            origin = start.inputs[0].step if start.inputs else "the run"
        else:
            origin = scope[len("input:") :].replace("#", " [") + ("]" if "#" in scope else "")
        return "input artifact %s (from step %s): %s -> %s" % (name, origin, _short(old), _short(new))

    def _value(self, record: Optional[ArtifactRecord]) -> str:
        if record is None:
            return "(absent)"
        try:
            text = repr(load_artifact(self.cas, record, "a parameter"))
        except Exception:  # a value this interpreter cannot load: say which content it is
            return _short(record.digest)
        return text if len(text) <= 60 else text[:57] + "..."

    def _expiry(self, candidate: entries.CacheEntry, step: str) -> List[str]:
        expire = _cache_attributes(self.record(self.run_id), step).get("expire")
        if not expire:
            return []
        age = time.time() - candidate.created_at
        return ["the earlier result expired: expire=%ds and it was %ds old." % (expire, age)]


def _node(record: Optional[RunRecord], step: str) -> Dict:
    """A step of the run's recorded graph (``graph.render.to_json``), or {}."""
    steps = (record.graph.get("steps") or []) if record is not None else []
    return next((n for n in steps if n.get("name") == step), {})


def _cache_attributes(record: Optional[RunRecord], step: str) -> Dict:
    for decorator in _node(record, step).get("decorators") or []:
        if decorator.get("name") == "cache":
            return dict(decorator.get("attributes") or {})
    return {}


def explain(backend: Backend, flow: str, run_id: str, step: str, task_id: Optional[str] = None) -> List[str]:
    """The lines ``orch why FLOW/RUN/STEP[/TASK]`` prints: one block per task of the step."""
    explainer = Explainer(backend, flow, run_id)
    tasks = sorted({t for (s, t) in explainer.meta.latest_attempts(flow, run_id, step) if s == step}, key=id_order)
    if task_id is not None:
        tasks = [t for t in tasks if t == task_id] or [task_id]
    lines: List[str] = []
    for task in tasks:
        lines.extend(explainer.task(step, task))
    return lines
