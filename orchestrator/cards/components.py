"""The components a step puts on a card (``current.card.append(...)``), each rendered to an HTML
fragment in the step's own Python: Markdown, Table, Image, VegaChart, Artifact, Error, ProgressBar,
and Metaflow's smaller ones (ValueBox, PythonCode, JSONViewer, YAMLViewer, EventsTimeline).

The standard library does the rendering. Optional libraries are used only
when the value is one of theirs, so they are imported only where the step's
environment has them: a pandas DataFrame (``Table.from_dataframe``), a PIL
image or a matplotlib figure (``Image``), an Altair chart or a Vega-Lite
spec (``VegaChart``, drawn to SVG by ``vl-convert-python`` with no network).
"""

from __future__ import annotations

import base64
import inspect
import json
import reprlib
import traceback
from io import BytesIO
from typing import Any, Dict, List, Optional, Sequence

from .base import MetaflowCardComponent, render_safely
from .markdown import to_html as markdown_html
from .page import cell, escape, table

MAX_ROWS = 100  # Table.from_dataframe(truncate=True): the first rows shown


def rendered_html(rendered: Any) -> str:
    """A component's render() as HTML: orch's components give HTML text; a custom component's dict is
    shown as JSON."""
    if isinstance(rendered, str):
        return rendered
    return "<pre>%s</pre>" % escape(json.dumps(rendered, indent=2, default=str))


def fragment(value: Any) -> str:
    """Any value as HTML: a component renders itself; anything else is shown as text."""
    if isinstance(value, MetaflowCardComponent):
        return rendered_html(value.render())
    return escape(value)


class _Updatable(MetaflowCardComponent):
    REALTIME_UPDATABLE = True


class Markdown(_Updatable):
    """Markdown text; ``update(text)`` replaces it."""

    def __init__(self, text: str = "") -> None:
        self._text = text

    def update(self, text: Optional[str] = None) -> None:
        self._text = text or ""

    @render_safely
    def render(self) -> str:
        return '<div class="orch-md">%s</div>' % markdown_html(str(self._text))


class Table(_Updatable):
    """Rows of cells; a cell may be a value or a component (an Image in a table, say)."""

    def __init__(
        self,
        data: Optional[Sequence[Sequence[Any]]] = None,
        headers: Optional[Sequence[Any]] = None,
        disable_updates: bool = False,
    ) -> None:
        self._data = [list(row) for row in data or []]
        self._headers = list(headers or [])
        self.REALTIME_UPDATABLE = not disable_updates

    @classmethod
    def from_dataframe(cls, dataframe: Any = None, truncate: bool = True) -> Table:
        """A pandas DataFrame: its columns as headers (a named index as the first column),
        the first MAX_ROWS rows when ``truncate``, with a note of how many there are."""
        frame = dataframe.head(MAX_ROWS) if truncate else dataframe
        index_name = getattr(frame.index, "name", None)
        show_index = index_name is not None  # an unnamed index is row numbers, not data
        headers = ([index_name or ""] if show_index else []) + [str(c) for c in frame.columns]
        rows = []
        for index, row in zip(frame.index, frame.itertuples(index=False, name=None)):
            rows.append(([index] if show_index else []) + list(row))
        made = cls(rows, headers)
        if truncate and len(dataframe) > MAX_ROWS:
            made._note = "first %d of %d rows" % (MAX_ROWS, len(dataframe))
        return made

    _note = ""

    def update(self, data: Optional[Sequence[Sequence[Any]]] = None) -> None:
        self._data = [list(row) for row in data or []]

    @render_safely
    def render(self) -> str:
        note = '<div class="orch-note">%s</div>' % escape(self._note) if self._note else ""
        return table(self._headers, self._data, cell=_cell) + note


def _plain(value: Any) -> Any:
    """numpy and pandas scalars as Python ones, so numbers line up as numbers."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__.split(".")[0] in ("numpy", "pandas"):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def _cell(value: Any) -> str:
    """One ``<td>`` of a Table: a component's HTML, or a value (as ``page.cell``, floats to 6 digits)."""
    value = _plain(value)
    if isinstance(value, MetaflowCardComponent):
        return "<td>%s</td>" % fragment(value)
    if isinstance(value, float):
        return '<td class="num">%s</td>' % escape("%.6g" % value)
    return cell(value)


_IMAGE_KINDS = [
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
    (b"<svg", "image/svg+xml"),
    (b"<?xml", "image/svg+xml"),
]


def _image_bytes(src: Any) -> bytes:
    """Bytes of an image: given as bytes, or a PIL image, or a matplotlib figure (or axes)."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    figure = getattr(src, "figure", None) if not hasattr(src, "savefig") else src
    if figure is not None and hasattr(figure, "savefig"):
        buffer = BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=100)
        return buffer.getvalue()
    if hasattr(src, "save") and hasattr(src, "mode"):  # a PIL image
        buffer = BytesIO()
        src.save(buffer, format="PNG")
        return buffer.getvalue()
    raise TypeError("Image takes bytes, a PIL image or a matplotlib figure, not %s." % type(src).__name__)


class Image(_Updatable):
    """An image, embedded as a data: URI (the card stays one file)."""

    def __init__(self, src: Any = None, label: Optional[str] = None, disable_updates: bool = False) -> None:
        self._label = label
        self._bytes = _image_bytes(src) if src is not None else b""
        self.REALTIME_UPDATABLE = not disable_updates

    @classmethod
    def from_pil_image(cls, pilImage: Any, label: Optional[str] = None, disable_updates: bool = False) -> Image:
        return cls(pilImage, label, disable_updates)

    @classmethod
    def from_matplotlib(cls, plot: Any, label: Optional[str] = None, disable_updates: bool = False) -> Image:
        return cls(plot, label, disable_updates)

    def update(self, image: Any, label: Optional[str] = None) -> None:
        self._bytes = _image_bytes(image)
        if label is not None:
            self._label = label

    @render_safely
    def render(self) -> str:
        head = self._bytes[:8].lstrip()
        kind = next((k for magic, k in _IMAGE_KINDS if head.startswith(magic)), "application/octet-stream")
        uri = "data:%s;base64,%s" % (kind, base64.b64encode(self._bytes).decode("ascii"))
        label = "<figcaption>%s</figcaption>" % escape(self._label) if self._label else ""
        return '<figure class="orch-image"><img src="%s" alt="%s">%s</figure>' % (uri, escape(self._label or ""), label)


class VegaChart(_Updatable):
    """A Vega-Lite chart, drawn to inline SVG where the step runs, by ``vl-convert-python`` (no browser,
    no network). Without it, the card says what to install and shows the spec."""

    def __init__(self, spec: Any = None, show_controls: bool = False) -> None:
        self._spec = _vega_spec(spec)

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> VegaChart:
        return cls(altair_chart)

    def update(self, spec: Any = None) -> None:
        self._spec = _vega_spec(spec)

    @render_safely
    def render(self) -> str:
        try:
            import vl_convert
        except ImportError:
            return (
                '<div class="orch-error">This chart needs <code>vl-convert-python</code> in the step\'s '
                "environment to be drawn (add it to @pypi or @conda). Its Vega-Lite spec:<pre>%s</pre></div>"
                % escape(json.dumps(self._spec, indent=1)[:20000])
            )
        svg = vl_convert.vegalite_to_svg(self._spec)
        return '<div class="orch-chart">%s</div>' % svg


def _vega_spec(spec: Any) -> Dict[str, Any]:
    if spec is None:
        return {}
    if hasattr(spec, "to_dict") and not isinstance(spec, dict):  # an Altair chart
        return spec.to_dict()
    if isinstance(spec, str):
        return json.loads(spec)
    if not isinstance(spec, dict):
        raise TypeError("VegaChart takes a Vega-Lite spec (a dict) or an Altair chart, not %s." % type(spec).__name__)
    return spec


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 400, 400, 20, 20


class Artifact(MetaflowCardComponent):
    """A value, shown as its (shortened) repr, with its name and type."""

    def __init__(self, artifact: Any = None, name: Optional[str] = None, compressed: bool = True) -> None:
        self._value, self._name, self._compressed = artifact, name, compressed

    @render_safely
    def render(self) -> str:
        text = _REPR.repr(self._value) if self._compressed else repr(self._value)
        name = '<span class="name">%s</span> ' % escape(self._name) if self._name else ""
        kind = '<span class="orch-note">%s</span>' % escape(type(self._value).__name__)
        return '<div class="orch-artifact">%s%s<pre>%s</pre></div>' % (name, kind, escape(text))


class Error(MetaflowCardComponent):
    """An exception (with its traceback when it has one) or a message, in red."""

    def __init__(self, exception: Any = None, title: Optional[str] = None) -> None:
        self._exception, self._title = exception, title

    @render_safely
    def render(self) -> str:
        exc = self._exception
        if isinstance(exc, BaseException):
            text = (
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                if exc.__traceback__
                else "%s: %s" % (type(exc).__name__, exc)
            )
        else:
            text = str(exc)
        title = "<strong>%s</strong>" % escape(self._title) if self._title else ""
        return '<div class="orch-error">%s<pre>%s</pre></div>' % (title, escape(text.rstrip()))


class ProgressBar(_Updatable):
    """A bar from 0 to ``max``; ``update(value)`` moves it (shown live at the next refresh)."""

    def __init__(
        self,
        max: float = 100,  # noqa: A002 - Metaflow's argument name
        label: Optional[str] = None,
        value: float = 0,
        unit: Optional[str] = None,
        metadata: Optional[str] = None,
    ) -> None:
        self._max, self._label, self._value, self._unit, self._metadata = max, label, value, unit, metadata

    def update(self, new_value: float, metadata: Optional[str] = None) -> None:
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata

    @render_safely
    def render(self) -> str:
        share = 0.0 if not self._max else max(0.0, min(1.0, float(self._value) / float(self._max)))
        unit = " %s" % self._unit if self._unit else ""
        words = "%s%s / %s%s (%d%%)" % (_number(self._value), unit, _number(self._max), unit, round(share * 100))
        extra = " · %s" % self._metadata if self._metadata else ""
        label = "<div>%s</div>" % escape(self._label) if self._label else ""
        return (
            '<div class="orch-progress">%s<div class="bar" role="progressbar" aria-valuenow="%s" aria-valuemax="%s">'
            '<div class="fill" style="width:%.1f%%"></div></div><div class="label">%s</div></div>'
            % (label, escape(self._value), escape(self._max), share * 100, escape(words + extra))
        )


def _number(value: Any) -> str:
    return ("%d" % value) if isinstance(value, int) or float(value).is_integer() else "%.2f" % value


class ValueBox(_Updatable):
    """One headline number or word, with a title and a subtitle."""

    def __init__(
        self, title: Optional[str] = None, value: Any = "", subtitle: Optional[str] = None, **kwargs: Any
    ) -> None:
        self._title, self._value, self._subtitle = title, value, subtitle

    def update(self, value: Any = None, **kwargs: Any) -> None:
        if value is not None:
            self._value = value
        self._subtitle = kwargs.get("subtitle", self._subtitle)

    @render_safely
    def render(self) -> str:
        parts = ['<div class="orch-note">%s</div>' % escape(self._title)] if self._title else []
        parts.append('<div style="font-size:28px;font-weight:600">%s</div>' % escape(self._value))
        if self._subtitle:
            parts.append('<div class="orch-note">%s</div>' % escape(self._subtitle))
        return '<div class="orch-section">%s</div>' % "".join(parts)


class PythonCode(MetaflowCardComponent):
    """Source code: a string, or a function or class (its source)."""

    def __init__(self, code_string: Optional[str] = None, code: Any = None) -> None:
        self._code = code_string if code_string is not None else inspect.getsource(code) if code is not None else ""

    @render_safely
    def render(self) -> str:
        return "<pre><code>%s</code></pre>" % escape(self._code)


class JSONViewer(_Updatable):
    """A JSON-able value, indented."""

    def __init__(
        self,
        data: Any = None,
        collapsible: bool = True,
        max_height: Optional[str] = None,
        show_copy_button: bool = False,
        title: Optional[str] = None,
    ) -> None:
        self._data, self._title = data, title

    def update(self, data: Any = None) -> None:
        self._data = data

    @render_safely
    def render(self) -> str:
        title = "<h3>%s</h3>" % escape(self._title) if self._title else ""
        return "%s<pre>%s</pre>" % (title, escape(json.dumps(self._data, indent=2, default=str)))


class YAMLViewer(JSONViewer):
    """A value as YAML when PyYAML is in the step's environment, else as JSON."""

    @render_safely
    def render(self) -> str:
        try:
            import yaml

            text = yaml.safe_dump(self._data, sort_keys=False)
        except ImportError:
            text = json.dumps(self._data, indent=2, default=str)
        title = "<h3>%s</h3>" % escape(self._title) if self._title else ""
        return "%s<pre>%s</pre>" % (title, escape(text))


class EventsTimeline(_Updatable):
    """Events (dicts with a message and optional timestamp and level), newest first."""

    def __init__(
        self, title: Optional[str] = None, events: Optional[List[Dict[str, Any]]] = None, **kwargs: Any
    ) -> None:
        self._title, self._events = title, list(events or [])

    def add_event(self, event: Dict[str, Any]) -> None:
        self._events.append(dict(event))

    def update(self, events: Optional[List[Dict[str, Any]]] = None) -> None:
        self._events = list(events or [])

    @render_safely
    def render(self) -> str:
        rows = [[e.get("timestamp", ""), e.get("level", ""), e.get("message", e)] for e in reversed(self._events)]
        title = "<h3>%s</h3>" % escape(self._title) if self._title else ""
        return title + table(["time", "level", "event"], rows)
