"""Store maintenance: ``fsck`` verifies every blob and record; ``gc`` removes old runs and unreachable blobs.

gc is safe to run beside live runs by design: a run with no end record
that wrote anything within the grace period counts as live and is kept,
and no blob younger than the grace period is removed, so a task's fresh
blobs survive until the record that references them lands.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set, Tuple

from ..errors import OrchError
from ..ids import run_path, task_path
from . import cache_entries
from .backend import Backend
from .cas import ContentAddressedStore, CorruptBlobError, UnknownBlobVersionError
from .metadata import MetadataStore, run_prefix
from .records import RecordSchemaError

GRACE_SECONDS = 3600
# what reading a damaged record can raise: bad JSON, missing or mistyped fields, an unknown schema
INVALID = (ValueError, KeyError, TypeError, RecordSchemaError)


def _why(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return "not JSON"
    return err.headline if isinstance(err, RecordSchemaError) else "%s: %s" % (type(err).__name__, err)


@dataclass
class FsckReport:
    blobs: int = 0
    records: int = 0
    cache_entries: int = 0
    problems: List[str] = field(default_factory=list)


def _run_references(
    meta: MetadataStore,
    flow: str,
    run: str,
    problems: Optional[List[str]] = None,
) -> Iterator[Tuple[str, str]]:
    """(blob key, what references it) for everything one run points at."""
    try:
        record = meta.run_record(flow, run)
    except INVALID:
        record = None  # fsck reports it
    if record is not None and record.code is not None:
        yield record.code.key, "code package of %s/%s" % (flow, run)
    values = dict(record.constants, **record.configs, **record.parameters) if record else {}
    for name, artifact in values.items():
        for key in artifact.blob_keys:
            yield key, "parameter '%s' of %s/%s" % (name, flow, run)
    for step, task, attempt, kind in meta.task_files(flow, run):
        if kind != "done":
            continue
        where = "%s attempt %d" % (task_path(flow, run, step, task), attempt)
        try:
            end = meta.attempt_end(flow, run, step, task, attempt)
        except INVALID as err:
            if problems is not None:
                problems.append("record %s is not valid: %s" % (where, _why(err)))
            continue
        for name, artifact in (end.artifacts if end else {}).items():
            for key in artifact.blob_keys:
                yield key, "artifact '%s' of %s" % (name, where)
        for card in end.cards if end else ():
            for key in card.blob_keys():
                yield key, "card '%s' of %s" % (card.type, where)


def fsck(backend: Backend) -> FsckReport:
    report = FsckReport()
    cas = ContentAddressedStore(backend)
    meta = MetadataStore(backend)
    present: Set[str] = set()
    for info in backend.list("blobs/"):
        key = info.key.rsplit("/", 1)[-1]
        present.add(key)
        report.blobs += 1
        if info.key != cas.key_path(key):
            report.problems.append("blob %s is stored at the wrong place (%s)" % (key, info.key))
            continue
        try:
            cas.verify(key)
        except (CorruptBlobError, UnknownBlobVersionError) as err:
            report.problems.append(err.headline)
    for flow in meta.flows():
        for run in meta.runs(flow):
            report.records += 1
            for name, read in (("run.json", meta.run_record), ("done.json", meta.run_end)):
                try:
                    read(flow, run)
                except INVALID as err:
                    report.problems.append("record %s/%s/%s is not valid: %s" % (flow, run, name, _why(err)))
            for key, what in _run_references(meta, flow, run, report.problems):
                if key not in present:
                    report.problems.append("blob %s is missing (referenced by %s)" % (key, what))
    for entry_key, entry in cache_entries.all_entries(backend):
        report.cache_entries += 1
        if entry is None:
            report.problems.append("cache entry %s is not valid" % entry_key)
            continue
        for name, artifact in entry.written.items():
            for key in artifact.blob_keys:
                if key not in present:
                    report.problems.append(
                        "blob %s is missing (artifact '%s' of cache entry %s)" % (key, name, entry_key)
                    )
    return report


@dataclass
class GcReport:
    runs_kept: int = 0
    runs_removed: List[str] = field(default_factory=list)
    blobs_removed: int = 0
    bytes_freed: int = 0
    temp_files_removed: int = 0
    cache_entries_removed: int = 0


def _cache_references(
    backend: Backend,
    kept: Set[Tuple[str, str]],
    report: GcReport,
    now: float,
    grace_seconds: float,
    keep_cache_days: Optional[float],
    dry_run: bool,
) -> Set[str]:
    """The blobs cache entries keep. An entry of a run that goes is retired, not deleted: out of
    lookups at once, its data kept one grace period more (a run may have validated it a moment
    ago), and deleted by a later gc."""
    reachable: Set[str] = set()
    for key, entry in list(cache_entries.all_entries(backend)):
        if entry is None:
            continue  # fsck reports it; it names nothing gc could keep
        reachable.update(k for artifact in entry.written.values() for k in artifact.blob_keys)
        young = keep_cache_days is not None and entry.created_at >= now - keep_cache_days * 86400
        if not young and (str(entry.key.get("flow")), str(entry.source.run)) not in kept:
            report.cache_entries_removed += 1
            if not dry_run:
                cache_entries.retire(backend, key, entry, now)
    for key, retired_at, entry in list(cache_entries.retired_entries(backend)):
        if retired_at >= now - grace_seconds and entry is not None:
            reachable.update(k for artifact in entry.written.values() for k in artifact.blob_keys)
        elif not dry_run:
            backend.delete([key])
    return reachable


def _run_activity(backend: Backend, flow: str, run: str) -> Tuple[float, int]:
    """(newest write time, total bytes) of a run's records."""
    newest, size = 0.0, 0
    for info in backend.list(run_prefix(flow, run) + "/"):
        newest = max(newest, info.mtime)
        size += info.size
    return newest, size


def gc(
    backend: Backend,
    keep_last: Optional[int] = None,
    keep_days: Optional[float] = None,
    dry_run: bool = False,
    grace_seconds: float = GRACE_SECONDS,
    now: Optional[float] = None,
    keep_cache_days: Optional[float] = None,
) -> GcReport:
    """Remove the runs no --keep option keeps, the cache entries of removed runs (unless
    ``keep_cache_days`` keeps entries that young, and so the data they reuse), and unreachable blobs."""
    if keep_last is not None and keep_last < 0 or keep_days is not None and keep_days < 0:
        raise OrchError("--keep-last and --keep-days must not be negative.")
    now = time.time() if now is None else now
    meta = MetadataStore(backend)
    report = GcReport()
    kept: List[Tuple[str, str]] = []
    for flow in meta.flows():
        runs = meta.runs_in_order(flow, newest_first=True)
        for position, run in enumerate(runs):
            record = meta.run_record(flow, run)
            created = record.created_at if record is not None else now
            newest, size = _run_activity(backend, flow, run)
            live = meta.run_end(flow, run) is None and newest > now - grace_seconds
            policy = keep_last is not None or keep_days is not None
            keep = live or not policy
            keep = keep or (keep_last is not None and position < keep_last)
            keep = keep or (keep_days is not None and created >= now - keep_days * 86400)
            if keep:
                kept.append((flow, run))
                continue
            report.runs_removed.append(str(run_path(flow, run)))
            report.bytes_freed += size
            if not dry_run:
                backend.delete(info.key for info in list(backend.list(run_prefix(flow, run) + "/")))
    report.runs_kept = len(kept)
    reachable: Set[str] = set()
    for flow, run in kept:
        reachable.update(key for key, _ in _run_references(meta, flow, run))
    reachable.update(_cache_references(backend, set(kept), report, now, grace_seconds, keep_cache_days, dry_run))
    doomed: Dict[str, int] = {}
    for info in backend.list("blobs/"):
        key = info.key.rsplit("/", 1)[-1]
        if key not in reachable and info.mtime < now - grace_seconds:
            doomed[info.key] = info.size
    report.blobs_removed = len(doomed)
    report.bytes_freed += sum(doomed.values())
    temps = [t for t in getattr(backend, "list_temporary", lambda: iter(()))() if t.mtime < now - grace_seconds]
    report.temp_files_removed = len(temps)
    report.bytes_freed += sum(t.size for t in temps)
    if not dry_run:
        backend.delete(doomed)
        backend.delete(t.key for t in temps)
    return report
