"""Card types by name: orch's own, the test types of Metaflow's conformance suite, and custom ones.

A custom card type is a ``MetaflowCard`` subclass listed in the ``CARDS`` of
a package under ``<namespace>.<org>.plugins.cards``, for the namespaces
``orch_extensions`` and ``metaflow_extensions`` (so a Metaflow extension
package of cards keeps its layout and changes only its import lines). Those
are searched only when a type is not a built-in one; a package that fails to
import is skipped, as Metaflow does, and the card falls back to an error
card. Standard library only.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Dict, List, Optional

from .base import MetaflowCard
from .builtin import BlankCard, DefaultCard, ErrorCard

_NAMESPACES = ("orch_extensions", "metaflow_extensions")
_BUILTIN: Dict[str, type] = {c.type: c for c in (DefaultCard, BlankCard, ErrorCard)}
_external: Optional[Dict[str, type]] = None
skipped: List[str] = []  # extension card packages that failed to import: "module: error"


def _packages(package: object) -> List[str]:
    """The names of a package's subpackages, namespace packages (folders without __init__.py) included,
    which ``pkgutil.iter_modules`` leaves out."""
    found: List[str] = []
    for folder in getattr(package, "__path__", []):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.isidentifier() and os.path.isdir(os.path.join(folder, entry)) and entry not in found:
                found.append(entry)
    return found


def _external_cards() -> Dict[str, type]:
    global _external
    if _external is not None:
        return _external
    _external = {}
    for namespace in _NAMESPACES:
        try:
            root = importlib.import_module(namespace)
        except ImportError:
            continue
        for org in _packages(root):
            try:
                cards_pkg = importlib.import_module("%s.%s.plugins.cards" % (namespace, org))
            except Exception:
                continue
            modules = [cards_pkg] if getattr(cards_pkg, "__file__", None) else []
            for sub in _packages(cards_pkg):
                name = "%s.%s" % (cards_pkg.__name__, sub)
                try:
                    modules.append(importlib.import_module(name))
                except Exception as exc:  # a broken card package must not break the task
                    skipped.append("%s: %s" % (name, exc))
                    sys.modules.pop(name, None)
            for module in modules:
                cards = getattr(module, "CARDS", None)
                for card in cards if isinstance(cards, list) else ():
                    if isinstance(card, type) and issubclass(card, MetaflowCard) and getattr(card, "type", None):
                        _external.setdefault(card.type, card)
    return _external


def card_class(card_type: str) -> Optional[type]:
    """The class of a card type, or None when no built-in or extension card has that type."""
    found = _BUILTIN.get(card_type)
    if found is None:
        from ..plugins.cards.card_modules import test_cards  # Metaflow's conformance suite's types

        found = next((c for c in test_cards.CARDS if c.type == card_type), None)
    if found is None:
        found = _external_cards().get(card_type)
    return found
