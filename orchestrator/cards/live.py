"""Where live cards are found while their task runs: one small pointer per card,
``<task>/cards/<attempt>.<n>.json``, overwritten at each live render with the blobs of the latest
HTML and data update. The attempt's end record lists the final cards and the pointers are then
removed. The pointer's format is written and read here only. Standard library only (the task
writes them)."""

from __future__ import annotations

import json
import time
from typing import Any, List, Optional, Tuple

from ..store.metadata import task_prefix
from ..store.records import AttemptEnd, CardRecord


def live_key(flow: str, run: str, step: str, task: str, attempt: int, index: int) -> str:
    return "%s/cards/%d.%d.json" % (task_prefix(flow, run, step, task), attempt, index)


def write_pointer(backend: Any, key: str, record: CardRecord, token: str) -> None:
    """Point a live card at its latest render (overwrites the previous pointer)."""
    pointer = {"type": record.type, "id": record.id, "html": record.html, "data": record.data}
    pointer.update(token=token, at=time.time())
    backend.put(key, [json.dumps(pointer).encode("utf-8")])


def read_pointer(backend: Any, key: str) -> CardRecord:
    """The render a live pointer names; raises (MissingKey) once the task ended and removed it."""
    pointer = json.loads(bytes(backend.get(key)))
    return CardRecord(pointer["type"], pointer.get("id"), pointer["html"], pointer.get("data"))


def live_cards(
    backend: Any, flow: str, run: str, step: str, task: str, attempt: int
) -> List[Tuple[int, CardRecord, str]]:
    """(card index, its latest render, pointer key) of a running attempt's live cards, in order."""
    folder = "%s/cards/" % task_prefix(flow, run, step, task)
    head = "%d." % attempt
    found = []
    for info in backend.list(folder):
        name = info.key.rsplit("/", 1)[-1]
        if not (name.startswith(head) and name.endswith(".json")):
            continue
        try:
            index = int(name[len(head) : -len(".json")])
            record = read_pointer(backend, info.key)
        except Exception:  # removed between the listing and the read: the task just ended
            continue
        found.append((index, record, info.key))
    return sorted(found, key=lambda f: f[0])


def attempt_cards(
    backend: Any, flow: str, run: str, step: str, task: str, attempt: int, end: Optional[AttemptEnd]
) -> List[Tuple[int, CardRecord, Optional[str]]]:
    """(index, card, live pointer key or None) of an attempt: its end record's cards once it ended,
    else its live cards."""
    if end is not None:
        return [(index, record, None) for index, record in enumerate(end.cards)]
    return list(live_cards(backend, flow, run, step, task, attempt))
