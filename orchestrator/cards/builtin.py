"""orch's own card types: ``default`` (the task at a glance: parameters, artifacts, where it sits in
the flow, and the step's components), ``blank`` (the components alone) and ``error`` (what a card
that failed to render shows in its place)."""

from __future__ import annotations

import reprlib
import time
from typing import Any, Dict, List, Optional

from .base import MetaflowCard
from .page import dag_svg, document, escape, table

PREVIEW_BYTES = 1_000_000  # larger artifacts are listed, not loaded, for the default card
_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 160, 160, 12, 12, 3


def _status(task: Any) -> str:
    if not task.finished:
        return '<span class="orch-status running">running</span>'
    if task.successful:
        return '<span class="orch-status succeeded">succeeded</span>'
    return '<span class="orch-status failed">failed</span>'


def _preview(datum: Any) -> str:
    if datum.size is not None and datum.size > PREVIEW_BYTES:
        return "(%d bytes, not shown)" % datum.size
    try:
        return _REPR.repr(datum.data)
    except Exception as exc:  # a value that cannot be loaded or shown is named, not fatal
        return "(cannot show: %s)" % type(exc).__name__


class _ComponentCard(MetaflowCard):
    ALLOW_USER_COMPONENTS = True
    RUNTIME_UPDATABLE = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ALWAYS

    def __init__(
        self,
        options: Optional[Dict[str, Any]] = None,
        components: Optional[List[Any]] = None,
        graph: Optional[Dict[str, Any]] = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> None:
        self._options = dict(options or {})
        self._components = list(components or [])
        self._graph = graph or {}

    def _components_html(self) -> str:
        from .components import rendered_html  # only a card with components needs them

        return "\n".join('<div class="orch-section">%s</div>' % rendered_html(c) for c in self._components)

    def _body(self, task: Any) -> str:
        raise NotImplementedError()

    def render(self, task: Any) -> str:
        return document(task.pathspec, self._body(task))

    def _header(self, task: Any) -> str:
        title = self._options.get("title") or task.pathspec
        when = ""
        if task.started_at:
            when = " · started %s" % time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(task.started_at))
        where = "step %s · task %s" % (task.step_name, task.id)
        return '<h1>%s</h1><p class="orch-meta">%s %s%s</p>' % (
            escape(title),
            _status(task),
            escape(where),
            escape(when),
        )

    def _error(self, task: Any) -> str:
        if not task.exception:
            return ""
        return '<h2>Error</h2><div class="orch-error"><pre>%s</pre></div>' % escape(task.exception)

    def render_runtime(self, task: Any, data: Dict[str, Any]) -> str:
        """The page while the task runs: it reloads itself when a newer render replaces it."""
        return document(task.pathspec, self._body(task), live_token=self.RELOAD_POLICY_TOKEN)

    def refresh(self, task: Any, data: Dict[str, Any]) -> Any:
        return data.get("components")

    def reload_content_token(self, task: Any, data: Dict[str, Any]) -> str:
        return "final" if task.finished else "runtime-%s" % data.get("render_seq", 0)


class BlankCard(_ComponentCard):
    """Only what the step appended (``current.card.append``)."""

    type = "blank"

    def _body(self, task: Any) -> str:
        body = self._components_html() or '<p class="orch-note">No components yet.</p>'
        title = self._options.get("title")
        head = "<h1>%s</h1>" % escape(title) if title else ""
        return head + body + self._error(task)


class DefaultCard(_ComponentCard):
    """The task at a glance: its parameters, its artifacts with previews, the flow with this step
    highlighted, then the step's components. ``options={"only_repr": True}`` is accepted for Metaflow's
    sake; previews are always reprs here."""

    type = "default"

    def _body(self, task: Any) -> str:
        params = [n for n in task.parameter_names if n in task]
        artifacts = [d for d in task if d.id not in params and not d.id.startswith("_") and d.id != "name"]
        parts = [self._header(task), self._error(task)]
        if self._components:
            parts.append(self._components_html())
        if params:
            parts.append("<h2>Parameters</h2>" + table(["name", "value"], [[n, _preview(task[n])] for n in params]))
        rows = [
            [d.id, type(d.data).__name__ if d.size is None or d.size <= PREVIEW_BYTES else "", _preview(d)]
            for d in artifacts
        ]
        parts.append(
            "<h2>Artifacts</h2>"
            + (
                table(["name", "type", "value"], rows)
                if rows
                else '<p class="orch-note">This task stored no artifacts.</p>'
            )
        )
        graph = dag_svg(self._graph, task.step_name)
        if graph:
            parts.append("<h2>Flow</h2>" + graph)
        return "\n".join(parts)


class ErrorCard(MetaflowCard):
    """In place of a card that raised or timed out while rendering (``save_errors=True``)."""

    type = "error"

    def __init__(self, options: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._options = dict(options or {})

    def render(self, task: Any, stack_trace: str = "", card_type: str = "") -> str:
        body = (
            "<h1>Card could not be rendered</h1>"
            '<p class="orch-meta">@card(type=%s) of %s</p><div class="orch-error"><pre>%s</pre></div>'
            % (escape(repr(card_type)), escape(task.pathspec), escape(stack_trace))
        )
        return document("card error: %s" % task.pathspec, body)
