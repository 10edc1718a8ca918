"""Where live cards are found while their task runs: one small pointer per card,
``<task>/cards/<attempt>.<n>.json``, overwritten at each live render with the blobs of the latest
HTML and data update. The attempt's end record lists the final cards and the pointers are then
removed. Standard library only (the task writes them)."""

from __future__ import annotations

import json
from typing import Any, List, Tuple

from ..store.metadata import task_prefix
from ..store.records import CardRecord


def live_key(flow: str, run: str, step: str, task: str, attempt: int, index: int) -> str:
    return "%s/cards/%d.%d.json" % (task_prefix(flow, run, step, task), attempt, index)


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
            pointer = json.loads(bytes(backend.get(info.key)))
            record = CardRecord(pointer["type"], pointer.get("id"), pointer["html"], pointer.get("data"))
        except Exception:  # removed between the listing and the read: the task just ended
            continue
        found.append((index, record, info.key))
    return sorted(found, key=lambda f: f[0])
