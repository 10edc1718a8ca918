"""The scheduler's side of step memoization: a task's key before it runs, a hit instead of running it,
and an entry once it succeeded.

A hit reuses what the earlier task *wrote*, by reference (no data copied, no
container started, no code run); what it only passed through comes from this
run's parents, so no step downstream ever sees a stale value. The hit is
recorded as an attempt of this run whose ``memo.cached_from`` names the task
reused, and whose logs are that task's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from ..graph.model import Graph, StepType
from ..ids import AttemptRef
from ..plan import Finished, PlannedTask
from ..states import Status
from ..store import cache_entries as entries
from ..store.artifacts import ArtifactRecord, load_artifact
from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.metadata import MetadataStore
from ..store.records import AttemptEnd, AttemptStart, CardRecord, MemoInfo, Read
from ..task.inputs import branch_scope, digest_of_digests, element_digest, inputs_digest
from .codehash import StepCode
from .key import StaticKey, hashed_env


@dataclass(frozen=True)
class CachePolicy:
    """What the run asks of the cache: ``lookups`` off with --no-cache, ``refresh`` steps never hit."""

    lookups: bool = True
    refresh: FrozenSet[str] = frozenset()


@dataclass
class Keys:
    """Static keys of a run's tasks: the code and environment of each cached step, known at run start."""

    graph: Graph
    flow: str
    code: Mapping[str, StepCode]
    envs: Mapping[str, str]  # step → lock digest, or "default"
    made: Dict[Tuple, StaticKey] = field(default_factory=dict)  # planned task key → its static key

    def cached(self, step: str) -> bool:
        node = self.graph[step]
        return node.decorator("cache") is not None and node.decorator("parallel") is None and step in self.code

    def key(self, planned: PlannedTask) -> StaticKey:
        """The task's static key, made once: a miss asks for it twice (lookup, then its spec)."""
        if planned.key not in self.made:
            self.made[planned.key] = self._make(planned)
        return self.made[planned.key]

    def _make(self, planned: PlannedTask) -> StaticKey:
        node = self.graph[planned.step]
        cache = node.decorator("cache")
        environment = node.decorator("environment")
        return StaticKey(
            flow=self.flow,
            step=planned.step,
            code=self.code[planned.step].digest,
            env=self.envs.get(planned.step, "default"),
            env_vars=hashed_env(environment.vars if environment else ()),
            frames=tuple((f.step, f.index) for f in planned.foreach_stack),
            loops=tuple(planned.loops) if any(planned.loops) else (),
            version=cache.version if cache else None,
        )


def read_views(
    parents: List[Dict[str, ArtifactRecord]],
    inputs: Tuple[AttemptRef, ...],
    is_join: bool,
    static: bool,
    run_records: Mapping[str, ArtifactRecord],
) -> Dict[str, Dict[str, ArtifactRecord]]:
    """scope → name → record, as a task with these inputs (and their artifact indexes, ``parents``)
    sees them: ``self`` (the first parent's artifacts and the run's values; a join's own are the
    run's only) and each join input's, under the scopes the task runtime notes its reads with."""
    views: Dict[str, Dict[str, ArtifactRecord]] = {}
    if is_join:
        for position, (ref, records) in enumerate(zip(inputs, parents)):
            views[branch_scope(ref.step, position, static)] = records
        views["self"] = dict(run_records)
    else:
        views["self"] = dict(parents[0] if parents else {}, **run_records)
    return views


def read_digest(
    cas: ContentAddressedStore,
    scope: str,
    name: str,
    views: Mapping[str, Mapping[str, ArtifactRecord]],
    elements: Dict[Tuple[str, str], str],
) -> Optional[str]:
    """What a read (scope, name) digests in these views: an artifact's content digest, None for an
    absent name, the digest of a whole index (``*``), or of one foreach element (``frame:``; the
    list is loaded once per ``elements`` memo)."""
    if scope.startswith("frame:"):
        var, _, index = name.rpartition("#")
        record = views.get(scope[len("frame:") :], {}).get(var)
        if record is None:
            return None
        if (record.digest, index) not in elements:
            value = load_artifact(cas, record, "foreach list %s" % var)[int(index)]
            elements[(record.digest, index)] = element_digest(value)
        return elements[(record.digest, index)]
    if scope == "join":  # which inputs the join has
        return inputs_digest([input_scope for input_scope in views if input_scope.startswith("input:")])
    view = views.get(scope)
    if view is None:
        return "<no such input>"
    if name == "*":
        return digest_of_digests({n: r.digest for n, r in view.items()})
    return view[name].digest if name in view else None


def parent_records(meta: MetadataStore, flow: str, run_id: str, inputs: Tuple[AttemptRef, ...]) -> List[Dict]:
    """The artifact index of each input attempt, from its done record."""
    found = []
    for ref in inputs:
        end = meta.attempt_end(flow, run_id, ref.step, ref.task, ref.attempt)
        found.append(dict(end.artifacts) if end is not None else {})
    return found


class Cache:
    """Hits and entries for one run (the scheduler's ``cache``)."""

    def __init__(
        self,
        keys: Keys,
        backend: Backend,
        run_id: str,
        run_records: Mapping[str, ArtifactRecord],
        policy: Optional[CachePolicy] = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.backend, self.run_id = keys, backend, run_id
        self.meta, self.cas = MetadataStore(backend), ContentAddressedStore(backend)
        self.run_records = dict(run_records)  # parameters, configs and constants: what every task inherits
        self.policy, self.now = policy or CachePolicy(), now
        self._elements: Dict[Tuple[str, str], str] = {}  # (list digest, index) → element digest

    # before a task runs

    def spec_field(self, planned: PlannedTask) -> Optional[Dict]:
        """TaskSpec.cache for a cached step: its static key, so the task records its reads."""
        if not self.keys.cached(planned.step):
            return None
        lookup = "off" if not self.policy.lookups else "refresh" if planned.step in self.policy.refresh else "on"
        return {"key": self.keys.key(planned).to_json(), "lookup": lookup}

    def hit(self, planned: PlannedTask, task_id: str) -> Optional[Tuple[Finished, AttemptRef]]:
        """Reuse an earlier task for ``planned`` if one matches: records the attempt, returns what the
        planner needs and the attempt reused."""
        step = planned.step
        if not self.keys.cached(step) or not self.policy.lookups or step in self.policy.refresh:
            return None
        key = self.keys.key(planned)
        node = self.keys.graph[step]
        spec = node.decorator("cache")
        views = self._views(planned, node.type is StepType.JOIN)
        for entry in entries.candidates(self.backend, key.flow, step, key.digest):
            if spec.expire is not None and self.now() - entry.created_at > spec.expire:
                continue
            if self._matches(entry.reads, views, spec.ignore) and self._intact(entry):
                return self._reuse(planned, task_id, key, entry, views["self"]), entry.source
        return None

    def _views(self, planned: PlannedTask, is_join: bool) -> Dict[str, Dict[str, ArtifactRecord]]:
        node = self.keys.graph[planned.step]
        static = is_join and self.keys.graph[node.split_parents[-1]].type is StepType.SPLIT
        parents = self._parents(planned.inputs)
        return read_views(parents, planned.inputs, is_join, static, self.run_records)

    def _parents(self, inputs: Tuple[AttemptRef, ...]) -> List[Dict[str, ArtifactRecord]]:
        return parent_records(self.meta, self.keys.flow, self.run_id, inputs)

    def _matches(self, reads: Tuple[Read, ...], views: Mapping[str, Mapping[str, ArtifactRecord]], ignore) -> bool:
        return all(
            read_digest(self.cas, scope, name, views, self._elements) == digest
            for scope, name, digest in reads
            if name.split("#")[0] not in ignore
        )

    def _intact(self, entry: entries.CacheEntry) -> bool:
        """Every blob the reused task wrote is still in the store (gc drops entries with their runs, but
        a store may have been damaged): a hit never points at missing data."""
        return all(
            self.backend.exists(self.cas.key_path(k)) for record in entry.written.values() for k in record.blob_keys
        )

    @staticmethod
    def _artifacts(inherited: Dict[str, ArtifactRecord], entry: entries.CacheEntry) -> Dict[str, ArtifactRecord]:
        """A hit's artifacts: what this run's parents pass on, less what the reused task deleted, plus
        what it wrote."""
        artifacts = {n: r for n, r in inherited.items() if n not in entry.deleted}
        artifacts.update(entry.written)
        return artifacts

    def _cards(self, step: str, source: AttemptRef) -> Tuple[CardRecord, ...]:
        """A hit of a step with @card shows the reused task's cards (as a resumed task shows its origin's)."""
        if not any(d.NAME == "card" for d in self.keys.graph[step].decorators):
            return ()
        found = self.meta.attempt_end(
            self.keys.flow, source.run or self.run_id, source.step, source.task, source.attempt
        )
        return found.cards if found is not None else ()

    def _reuse(
        self, planned: PlannedTask, task_id: str, key: StaticKey, entry: entries.CacheEntry, inherited: Dict
    ) -> Finished:
        artifacts = self._artifacts(inherited, entry)
        memo = MemoInfo(key.to_json(), entry.reads, tuple(entry.written), entry.deleted, entry.source, "hit")
        now = self.now()
        start = AttemptStart(0, now, planned.inputs, planned.foreach_stack, loops=key.loops)
        end = AttemptEnd(
            0,
            Status.SUCCEEDED,
            now,
            started_at=now,
            artifacts=artifacts,
            next=entry.next,
            num_splits=entry.num_splits,
            logs_from=entry.source,
            memo=memo,
            cards=self._cards(planned.step, entry.source),
        )
        self.meta.start_attempt(key.flow, self.run_id, planned.step, task_id, start)
        self.meta.finish_attempt(key.flow, self.run_id, planned.step, task_id, end)
        return self._finished(planned, task_id, entry)

    def _finished(self, planned: PlannedTask, task_id: str, entry: entries.CacheEntry) -> Finished:
        """What the planner learns of a hit: the entry's transition and foreach width."""
        chosen = entry.next[0] if self.keys.graph[planned.step].type is StepType.SWITCH and entry.next else None
        ref = AttemptRef(planned.step, task_id, 0)
        return Finished(planned.step, ref, planned.foreach_stack, entry.num_splits, planned.loops, chosen)

    # after a task succeeded

    def record(self, step: str, task_id: str, end: AttemptEnd) -> Optional[str]:
        """Write the entry of a task that succeeded without @catch catching anything (its done record
        is durable already). Returns the entry's key, or None when the task may not be reused."""
        memo = end.memo
        if memo is None or memo.reads is None or memo.outcome == "hit" or not memo.key:
            return None
        written = {name: end.artifacts[name] for name in memo.written if name in end.artifacts}
        entry = entries.CacheEntry(
            key=memo.key,
            source=AttemptRef(step, task_id, end.attempt, self.run_id),
            reads=memo.reads,
            written=written,
            deleted=memo.deleted,
            next=end.next,
            num_splits=end.num_splits,
            created_at=self.now(),
        )
        return entries.write(self.backend, entry)


def run_cache(
    graph: Graph,
    flow: str,
    flow_path: str,
    env_records: Mapping[str, Mapping],
    run_records: Mapping[str, ArtifactRecord],
    backend: Backend,
    run_id: str,
    policy: CachePolicy,
) -> Optional[Cache]:
    """The run's Cache, or None when no step is cached (a run without @cache pays nothing)."""
    steps = [node.name for node in graph if node.decorator("cache") is not None]
    if not steps:
        return None
    import os

    from .codehash import CodeIndex

    code = CodeIndex(os.path.dirname(os.path.abspath(flow_path))).steps(flow_path, flow)
    envs = {step: str(env_records.get(step, {}).get("lock_hash") or "default") for step in steps}
    return Cache(Keys(graph, flow, code, envs), backend, run_id, run_records, policy)
