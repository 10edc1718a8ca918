"""Reading cards back: ``get_cards(task)`` with Metaflow's interface (``CardContainer`` of ``Card``s,
each with ``type``, ``id``, ``hash``, ``get()``, ``get_data()``, ``view()``).

A finished attempt's cards are listed in its end record; a running
attempt's live cards are found through their live pointers, read afresh on
every ``get()``, so a viewer follows them as they change. A resumed task's
record carries its origin's cards, so ``follow_resumed`` changes nothing
here but ``origin_pathspec``.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import webbrowser
from typing import Any, Dict, Iterator, List, Optional, Union

from ..store.metadata import task_prefix
from ..store.records import CardRecord
from .errors import CardNotPresentException, IncorrectArgumentException, IncorrectPathspecException
from .live import attempt_cards, read_pointer


class Card:
    """One card of a task. Its HTML is fetched (and checked against its hash) on the first ``get()``."""

    def __init__(
        self,
        task: Any,
        record: CardRecord,
        index: int,
        live_key: Optional[str] = None,
        origin_pathspec: Optional[str] = None,
    ) -> None:
        self._task = task
        self._record = record
        self._live_key = live_key
        self._html: Optional[str] = None
        self.index = index
        self.type = record.type
        self.hash = record.html
        self.from_resumed = origin_pathspec is not None
        self.origin_pathspec = origin_pathspec
        self.error = record.error
        self._temp_file: Any = None

    @property
    def id(self) -> Optional[str]:
        return self._record.id

    @property
    def live(self) -> bool:
        """True while the task runs: the HTML is the latest live render, and changes."""
        return self._live_key is not None

    @property
    def path(self) -> str:
        pieces = [self.type] + ([self.id] if self.id else []) + [self.hash[:12]]
        return "%s/cards/%s.html" % (task_prefix(*self._task.pathspec.split("/")), "-".join(pieces))

    def _current(self) -> CardRecord:
        if self._live_key is None:
            return self._record
        from ..client.state import opened_store

        try:
            self._record = read_pointer(opened_store()[0], self._live_key)
        except Exception:  # the task ended and its final card replaced the pointer
            finals = [c for c in _cards(self._task, refresh=True) if not c.live]
            final = next((c for c in finals if (c.type, c.id) == (self.type, self.id)), None)
            if final is None:
                return self._record
            self._live_key, self._record = None, final._record
            self.hash = final.hash
            return self._record
        self.hash = self._record.html
        return self._record

    def get(self) -> str:
        """The card's HTML (a live card's latest)."""
        if self._html is not None and self._live_key is None:
            return self._html
        from ..client.state import opened_store

        record = self._current()
        self._html = bytes(opened_store()[2].load_blob(record.html, "card %s" % self.type)).decode("utf-8")
        return self._html

    def get_data(self) -> Optional[Dict[str, Any]]:
        """The card's latest data update (``{"data", "reload_token", "created_on"}``), for cards that have them."""
        from ..client.state import opened_store

        record = self._current()
        if record.data is None:
            return None
        return json.loads(bytes(opened_store()[2].load_blob(record.data, "card data %s" % self.type)))

    def view(self) -> None:
        """Open the card in a web browser, from a temporary file."""
        self._temp_file = tempfile.NamedTemporaryFile(suffix=".html")
        self._temp_file.write(self.get().encode("utf-8"))
        self._temp_file.flush()
        webbrowser.open("file://" + os.path.abspath(self._temp_file.name))

    def _repr_html_(self) -> str:
        return '<div class="embed" data-container="%s">%s</div>' % (uuid.uuid4(), self.get())

    def __str__(self) -> str:
        return "<Card at '%s'>" % self.path

    __repr__ = __str__


class CardContainer:
    """The cards of a task, list-like: ``len()``, indexing, iteration; shown inline in notebooks."""

    def __init__(self, cards: List[Card], origin_pathspec: Optional[str] = None) -> None:
        self._cards = cards
        self.from_resumed = origin_pathspec is not None
        self.origin_pathspec = origin_pathspec

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def __getitem__(self, index: int) -> Card:
        return self._cards[index]

    def _repr_html_(self) -> str:
        return "\n".join("<h1>Card of type %s</h1>%s" % (c.type, c._repr_html_()) for c in self._cards)


def _cards(task: Any, refresh: bool = False) -> List[Card]:
    """Every card of the task's latest attempt: the end record's, else the live pointers'."""
    from ..client.state import opened_store

    if refresh:
        task._end = None
    end = task._end_record()
    origin = task.origin_pathspec if end is not None else None
    found = attempt_cards(opened_store()[0], task.flow_name, task.run_id, task.step_name, task.id, task._latest(), end)
    return [Card(task, record, index, live_key=key, origin_pathspec=origin) for index, record, key in found]


def get_cards(
    task: Union[str, Any],
    id: Optional[str] = None,  # noqa: A002 - Metaflow's argument names
    type: Optional[str] = None,  # noqa: A002
    follow_resumed: bool = True,
) -> CardContainer:
    """The cards of a task (a ``Task`` or a ``Flow/run/step/task`` pathspec), optionally only those of
    one ``type`` or ``id``. Fast: no card's HTML is read until ``get()``. A task with no card at all
    raises ``CardNotPresentException`` (as in Metaflow)."""
    from ..authoring.current import current
    from ..client import Task
    from ..client.state import use_store

    if isinstance(task, str):
        if len(task.split("/")) != 4:
            raise IncorrectPathspecException(task)
        if current.pathspec is not None:  # inside a task: its own store
            use_store(current._values.get("store_url"))
        task = Task(task, _namespace_check=False)
    elif not isinstance(task, Task):
        raise IncorrectArgumentException(task.__class__.__name__)
    every = _cards(task)
    if not every:  # as Metaflow: a task with no card at all raises; a filter that matches none gives []
        raise CardNotPresentException(task.pathspec, card_type=type, card_id=id)
    cards = [c for c in every if (type is None or c.type == type) and (id is None or c.id == id)]
    origin = task.origin_pathspec if follow_resumed else None
    return CardContainer(cards, origin_pathspec=origin)
