"""``current.trigger``: what started a deployed run, as Metaflow's ``Trigger`` shows it.

A deployment's start job records it in the run record (``trigger``); the
task runtime hands that record to ``current``, which wraps it here, and the
client's ``Run.trigger`` does the same. ``event`` is the one event (or the
upstream run's end), ``run`` the upstream client ``Run`` for
``@trigger_on_finish``.
"""

from __future__ import annotations

from typing import Any, List, Mapping, NamedTuple, Optional


class MetaflowEvent(NamedTuple):
    """One event: its name, id and time (seconds since the epoch), and ``type`` ``event`` or ``run``."""

    name: str
    id: str
    timestamp: float
    type: str


class Trigger:
    """The run's trigger. ``event``/``events``: what fired; ``run``/``runs``: the upstream run(s)."""

    def __init__(self, record: Mapping[str, Any], run_class: Any, store_url: Optional[str] = None) -> None:
        """``run_class``: the client's ``Run``, given by whoever builds this (no import cycle)."""
        self._record = dict(record)
        self._run_class = run_class
        self._store_url = store_url

    @property
    def event(self) -> MetaflowEvent:
        record = self._record
        return MetaflowEvent(
            str(record.get("name", "")),
            str(record.get("id", "")),
            float(record.get("timestamp") or 0),
            str(record.get("type", "event")),
        )

    @property
    def events(self) -> List[MetaflowEvent]:
        return [self.event]

    @property
    def run(self) -> Any:
        """The upstream run (``@trigger_on_finish``) as a client ``Run``; None for an event."""
        pathspec = self._record.get("run")
        if not pathspec:
            return None
        from .state import use_store

        if self._store_url:
            use_store(self._store_url)
        return self._run_class(str(pathspec), _check_namespace=False)

    @property
    def runs(self) -> List[Any]:
        return [self.run] if self.run is not None else []

    def __repr__(self) -> str:
        return "Trigger(%s %s)" % (self.event.type, self._record.get("run") or self.event.name)
