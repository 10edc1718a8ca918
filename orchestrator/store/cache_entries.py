"""Cache entries in the store: one write-once JSON object per task that may be reused.

Layout::

    cache/<flow>/<step>/<static key digest>/<created µs>-<run>-<task>.json

An entry is written by the host only after the task's ``done`` record (and
so every blob it names) is durable, with create-if-absent: a ``kill -9`` at
any moment leaves either no entry or a whole one, and two runs racing on one
key each write their own. A lookup lists one folder (the static key's) and
reads its newest entries: a constant number of store reads per task, never
a listing of past runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ..ids import AttemptRef
from .artifacts import ArtifactRecord
from .backend import Backend, MissingKey
from .names import check_name
from .records import Read

SCHEMA = 1
PREFIX = "cache"
RETIRED = "cache-retired"  # gc moves an entry here, out of every lookup, before its data may go
NEWEST = 16  # entries a lookup reads under one static key, newest first


@dataclass(frozen=True)
class CacheEntry:
    key: Mapping[str, Any]  # StaticKey.to_json()
    source: AttemptRef  # run/step/task/attempt that wrote it
    reads: Tuple[Read, ...]
    written: Mapping[str, ArtifactRecord]
    deleted: Tuple[str, ...] = ()
    next: Tuple[str, ...] = ()
    num_splits: Optional[int] = None
    created_at: float = field(default_factory=time.time)

    @property
    def digest(self) -> str:
        return str(self.key["digest"])

    def to_json(self) -> Dict[str, Any]:
        return {
            "schema": SCHEMA,
            "key": dict(self.key),
            "source": str(self.source),
            "reads": [list(r) for r in self.reads],
            "written": {name: record.to_json() for name, record in sorted(self.written.items())},
            "deleted": list(self.deleted),
            "next": list(self.next),
            "num_splits": self.num_splits,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CacheEntry:
        return cls(
            key=dict(data["key"]),
            source=AttemptRef.parse(data["source"]),
            reads=tuple((str(a), str(b), c) for a, b, c in data.get("reads") or ()),
            written={n: ArtifactRecord.from_json(r) for n, r in (data.get("written") or {}).items()},
            deleted=tuple(data.get("deleted") or ()),
            next=tuple(data.get("next") or ()),
            num_splits=data.get("num_splits"),
            created_at=float(data.get("created_at") or 0.0),
        )


def step_prefix(flow: str, step: str) -> str:
    return "%s/%s/%s" % (PREFIX, check_name("flow", flow), check_name("step", step))


def entry_key(entry: CacheEntry) -> str:
    flow, step = str(entry.key["flow"]), str(entry.key["step"])
    name = "%020d-%s-%s" % (int(entry.created_at * 1_000_000), entry.source.run, entry.source.task)
    return "%s/%s/%s.json" % (step_prefix(flow, step), entry.digest, name)


def write(backend: Backend, entry: CacheEntry) -> str:
    key = entry_key(entry)
    backend.put(key, [json.dumps(entry.to_json(), sort_keys=True).encode("utf-8")], if_absent=True)
    return key


def _read(backend: Backend, key: str) -> Optional[CacheEntry]:
    try:
        data = json.loads(bytes(backend.get(key)).decode("utf-8"))
        if int(data.get("schema", 1)) > SCHEMA:
            return None  # written by a newer orch: not ours to interpret
        return CacheEntry.from_json(data)
    except (MissingKey, ValueError, KeyError, TypeError):
        return None  # removed meanwhile (gc), or damaged: never a hit; fsck reports the damage


def candidates(backend: Backend, flow: str, step: str, digest: str, limit: int = NEWEST) -> List[CacheEntry]:
    """The newest entries with this static key, newest first."""
    prefix = "%s/%s/" % (step_prefix(flow, step), digest)
    keys = sorted((info.key for info in backend.list(prefix) if info.key.endswith(".json")), reverse=True)
    found = (_read(backend, key) for key in keys[:limit])
    return [entry for entry in found if entry is not None]


def all_entries(backend: Backend, flow: Optional[str] = None) -> Iterator[Tuple[str, Optional[CacheEntry]]]:
    """Every entry of the store (or of one flow), with its key; None for one that does not decode."""
    prefix = "%s/%s/" % (PREFIX, check_name("flow", flow)) if flow else PREFIX + "/"
    for info in backend.list(prefix):
        if info.key.endswith(".json"):
            yield info.key, _read(backend, info.key)


def retire(backend: Backend, key: str, entry: CacheEntry, now: float) -> None:
    """Take an entry out of lookups, keeping it (as ``cache-retired/...``) so gc keeps its data one
    grace period longer: a run that validated the entry just before gc moved it still finds the blobs
    it now names, and its own records keep them from then on."""
    retired = RETIRED + key[len(PREFIX) :]
    data = dict(entry.to_json(), retired_at=now)
    backend.put(retired, [json.dumps(data, sort_keys=True).encode("utf-8")])
    backend.delete([key])


def retired_entries(backend: Backend) -> Iterator[Tuple[str, float, Optional[CacheEntry]]]:
    """(key, when gc retired it, the entry) of every retired entry."""
    for info in backend.list(RETIRED + "/"):
        if info.key.endswith(".json"):
            try:
                retired_at = float(json.loads(bytes(backend.get(info.key))).get("retired_at") or info.mtime)
            except (MissingKey, ValueError, TypeError, AttributeError):
                retired_at = info.mtime
            yield info.key, retired_at, _read(backend, info.key)


def of_step(backend: Backend, flow: str, step: str) -> List[CacheEntry]:
    """Every entry of a step, whatever its static key, newest first: ``orch why``'s candidates."""
    found = []
    for info in backend.list(step_prefix(flow, step) + "/"):
        if info.key.endswith(".json"):
            entry = _read(backend, info.key)
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: e.created_at, reverse=True)
