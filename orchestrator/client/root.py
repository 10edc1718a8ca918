"""``Metaflow()``: the root of the client, as Metaflow's: the flows of the store in the current namespace."""

from __future__ import annotations

from typing import Iterator, List, Optional

from .core import Flow
from .state import get_metadata, metadata, opened_store


class Metaflow:
    """Every flow with at least one run in the current namespace (all flows under ``namespace(None)``)."""

    def __init__(self, _current_metadata: Optional[str] = None) -> None:
        if _current_metadata:
            metadata(_current_metadata)

    @property
    def flows(self) -> List[Flow]:
        return list(self)

    def __iter__(self) -> Iterator[Flow]:
        for name in opened_store()[1].flows():
            flow = Flow(name)
            if flow.runs():  # the namespace filter: a flow shows when any run of it is visible
                yield flow

    def __getitem__(self, name: str) -> Flow:
        return Flow(name)

    def __str__(self) -> str:
        return "Metaflow(%s)" % get_metadata()

    __repr__ = __str__
