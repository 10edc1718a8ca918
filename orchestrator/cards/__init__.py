"""Cards: visual reports of tasks (``@card``), importable as Metaflow's ``metaflow.cards``.

``from orchestrator.cards import Markdown, Table, Image, VegaChart`` gives
the components a step appends to ``current.card``; ``get_cards(task)``
reads cards back. The components and card types run inside the task in the
step's own Python, with the standard library; ``get_cards`` is the client's
and is loaded only when used.
"""

from typing import TYPE_CHECKING, Any

from .base import MetaflowCard, MetaflowCardComponent
from .builtin import BlankCard, DefaultCard, ErrorCard

if TYPE_CHECKING:
    from .client import Card, CardContainer, get_cards
    from .components import (
        Artifact,
        Error,
        EventsTimeline,
        Image,
        JSONViewer,
        Markdown,
        ProgressBar,
        PythonCode,
        Table,
        ValueBox,
        VegaChart,
        YAMLViewer,
    )

__all__ = [
    "Artifact",
    "BlankCard",
    "Card",
    "CardContainer",
    "DefaultCard",
    "Error",
    "ErrorCard",
    "EventsTimeline",
    "Image",
    "JSONViewer",
    "Markdown",
    "MetaflowCard",
    "MetaflowCardComponent",
    "ProgressBar",
    "PythonCode",
    "Table",
    "ValueBox",
    "VegaChart",
    "YAMLViewer",
    "get_cards",
]


def __getattr__(name: str) -> Any:
    """PEP 562: the components load when a flow imports one, the client (and its store code) when it
    is used; a task whose step has only a default card loads neither."""
    if name in ("get_cards", "Card", "CardContainer"):
        from . import client

        return getattr(client, name)
    if name in __all__:  # the names above are imported already, so the rest are the components
        from . import components

        return getattr(components, name)
    raise AttributeError("module 'orchestrator.cards' has no attribute %r" % name)
