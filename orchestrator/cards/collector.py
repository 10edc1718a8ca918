"""``current.card``: where a step's code puts components on its cards, and asks live cards to refresh.

Which card ``current.card.append`` feeds follows Metaflow: the only card
that takes components, else the one of them with ``customize=True``, else
the only one without an ``id``. ``current.card["id"]`` reaches any card by
its id. A call that cannot be honoured (no such card, a value that is not a
component) warns on stderr and is ignored: cards never fail the step.
``METAFLOW_CARD_NO_WARNING`` (or ``ORCH_CARD_NO_WARNING``) silences them.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Iterable, List, Optional

from .base import MetaflowCardComponent, create_component_id


class CardSlot:
    """One ``@card`` of the running step: its spec, its class (None: unknown type) and its components."""

    def __init__(self, index: int, spec: Any, cls: Optional[type]) -> None:
        self.index = index
        self.spec = spec
        self.cls = cls
        self.id: Optional[str] = spec.id
        self.editable = bool(cls is not None and cls.ALLOW_USER_COMPONENTS)
        self.runtime = bool(cls is not None and cls.RUNTIME_UPDATABLE)
        self.components: List[MetaflowCardComponent] = []


def _warn(message: str) -> None:
    if not (os.environ.get("METAFLOW_CARD_NO_WARNING") or os.environ.get("ORCH_CARD_NO_WARNING")):
        print("@card WARNING: %s" % message, file=sys.stderr)


class CardComponents:
    """The components of one card, as ``current.card["id"]`` gives them."""

    def __init__(self, slot: Optional[CardSlot], name: str) -> None:
        self._slot, self._name = slot, name

    def append(self, component: Any, id: Optional[str] = None) -> None:  # noqa: A002 - Metaflow's argument name
        if self._slot is None:
            _warn("no @card has id=%r on this step; the component is dropped." % self._name)
            return
        _add(self._slot, component, id)

    def extend(self, components: Iterable[Any]) -> None:
        for component in components:
            self.append(component)

    def clear(self) -> None:
        if self._slot is not None:
            self._slot.components.clear()

    @property
    def components(self) -> Dict[str, MetaflowCardComponent]:
        return {c.component_id: c for c in self._slot.components} if self._slot else {}

    def __len__(self) -> int:
        return len(self._slot.components) if self._slot else 0


def _add(slot: CardSlot, component: Any, component_id: Optional[str]) -> None:
    if not isinstance(component, MetaflowCardComponent):
        _warn(
            "current.card takes card components (Markdown, Table, Image, ...), not %s: wrap text in Markdown(...). "
            "It is dropped." % type(component).__name__
        )
        return
    if component_id is not None:
        component.component_id = component_id
    elif component.component_id is None:
        component.component_id = create_component_id(component)
    slot.components.append(component)


class CardCollector:
    """``current.card`` of one task. ``session`` renders and stores (None: the step has no @card)."""

    def __init__(self, session: Any, slots: List[CardSlot]) -> None:
        self._session = session
        self._slots = slots
        self._warned = False
        self._default = self._default_slot(slots)
        self._by_id: Dict[str, CardSlot] = {}
        ids = [s.id for s in slots if s.id is not None]
        for slot in slots:
            if slot.id is not None and ids.count(slot.id) == 1:
                self._by_id[slot.id] = slot
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            _warn(
                "several @card decorators have id=%r: current.card[%r] reaches none of them." % (duplicate, duplicate)
            )

    @staticmethod
    def _default_slot(slots: List[CardSlot]) -> Optional[CardSlot]:
        editable = [s for s in slots if s.editable]
        if len(editable) == 1:
            return editable[0]
        customized = [s for s in editable if s.spec.customize]
        if len(customized) == 1:
            return customized[0]
        if len(customized) > 1:
            _warn("several @card decorators have customize=True; current.card.append reaches none of them.")
            return None
        unnamed = [s for s in editable if s.id is None]
        return unnamed[0] if len(unnamed) == 1 else None

    def _target(self) -> Optional[CardSlot]:
        if self._default is None and not self._warned:
            self._warned = True
            if not self._slots:
                _warn("this step has no @card decorator: current.card does nothing (add @card to the step).")
            else:
                _warn('no single @card takes components here; use current.card["id"] with the card\'s id.')
        return self._default

    def append(self, component: Any, id: Optional[str] = None) -> None:  # noqa: A002 - Metaflow's argument name
        slot = self._target()
        if slot is not None:
            _add(slot, component, id)

    def extend(self, components: Iterable[Any]) -> None:
        for component in components:
            self.append(component)

    def clear(self) -> None:
        slot = self._target()
        if slot is not None:
            slot.components.clear()

    def __getitem__(self, key: str) -> CardComponents:
        return CardComponents(self._by_id.get(key), key)

    def __setitem__(self, key: str, value: Iterable[Any]) -> None:
        slot = self._by_id.get(key)
        if slot is None:
            _warn("no @card has id=%r on this step; nothing is set." % key)
            return
        slot.components.clear()
        for component in value:
            _add(slot, component, None)

    @property
    def components(self) -> Dict[str, MetaflowCardComponent]:
        """The default card's components by id: ``current.card.components["progress"].update(7)``."""
        slot = self._default
        return {c.component_id: c for c in slot.components} if slot else {}

    def get(self, type: Optional[str] = None) -> List[CardComponents]:  # noqa: A002 - Metaflow's argument name
        """The component lists of the step's cards of one type (all cards when None)."""
        return [CardComponents(s, s.id or "") for s in self._slots if type is None or s.spec.type == type]

    def refresh(self, data: Optional[Dict[str, Any]] = None, force: bool = False) -> None:
        """Render the live cards again with what they have now (and ``data``, for cards that read it);
        at most once per ``refresh_interval`` seconds, the latest call winning."""
        if self._session is not None:
            self._session.refresh(data, force)
