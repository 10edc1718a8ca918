"""What a card type and a card component are: the two base classes custom cards derive from.

Metaflow's names and contract, so a custom card ports by its import line:
a card type is a ``MetaflowCard`` subclass with a ``type`` string, built with
the decorator's ``options`` (and the components the step appended, when it
allows them), whose ``render(task)`` returns HTML. A component is a
``MetaflowCardComponent`` whose ``render()`` returns an HTML fragment (orch's
own components) or a JSON-able dict (a custom component's data). Standard
library only: this runs inside the task.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any, Callable, Dict, List, Optional


class MetaflowCard:
    """A card type: ``@card(type=T)`` renders the subclass whose ``type`` is ``T`` once the task ends.

    ``ALLOW_USER_COMPONENTS``: ``current.card.append`` may add to it. ``RUNTIME_UPDATABLE``: it is
    rendered again while the task runs, on ``current.card.refresh()`` (``render_runtime``), and its
    ``refresh(task, data)`` gives the data update a live page reads. ``RELOAD_POLICY`` says when a
    viewer should reload the page rather than apply data updates.
    """

    RELOAD_POLICY_NEVER = "never"
    RELOAD_POLICY_ALWAYS = "always"
    RELOAD_POLICY_ONCHANGE = "onchange"
    RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"  # replaced in the HTML by the reload token

    type: Optional[str] = None
    ALLOW_USER_COMPONENTS = False
    RUNTIME_UPDATABLE = False
    RELOAD_POLICY = RELOAD_POLICY_NEVER
    scope = "task"
    runtime_data: Optional[Dict[str, Any]] = None

    def __init__(
        self,
        options: Optional[Dict[str, Any]] = None,
        components: Optional[List[Any]] = None,
        graph: Optional[Dict[str, Any]] = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> None:
        pass

    def render(self, task: Any) -> str:
        raise NotImplementedError("%s.render(task) must return the card's HTML" % type(self).__name__)

    def render_runtime(self, task: Any, data: Dict[str, Any]) -> str:
        raise NotImplementedError()

    def refresh(self, task: Any, data: Dict[str, Any]) -> Any:
        raise NotImplementedError()

    def reload_content_token(self, task: Any, data: Dict[str, Any]) -> str:
        return "content-token"


class MetaflowCardComponent:
    """A piece of a card. ``REALTIME_UPDATABLE`` components change on ``update(...)`` and a live card
    shows the change at the next ``current.card.refresh()``."""

    REALTIME_UPDATABLE = False
    _component_id: Optional[str] = None

    @property
    def component_id(self) -> Optional[str]:
        return self._component_id

    @component_id.setter
    def component_id(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("A component id must be a string, not %r." % (value,))
        self._component_id = value

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("%s cannot be updated" % type(self).__name__)

    def render(self) -> Any:
        raise NotImplementedError()


def create_component_id(component: Any) -> str:
    return "%s_%s" % (type(component).__name__.lower(), uuid.uuid4().hex[:6])


def render_safely(func: Callable[..., Any]) -> Callable[..., Any]:
    """A component's ``render`` that never breaks its card: an exception, or a dict that is not
    JSON-able, becomes an inline error in its place."""

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            rendered = func(self, *args, **kwargs)
            if isinstance(rendered, dict):
                json.dumps(rendered)
            return rendered
        except Exception as exc:  # a component's bug is shown, not raised
            from .page import escape

            return '<div class="orch-error">%s could not render: %s</div>' % (
                escape(type(self).__name__),
                escape("%s: %s" % (type(exc).__name__, exc)),
            )

    return wrapper
