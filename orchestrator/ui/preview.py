"""A short, safe-to-show preview of an artifact's value, as HTML: scalars, dicts and lists, DataFrame
heads, numpy shapes. Values are loaded only when a person asks for the preview."""

from __future__ import annotations

import html
import json
import reprlib
from typing import Any

_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 200, 200, 20, 20, 3


def preview_html(value: Any) -> str:
    kind = "%s.%s" % (type(value).__module__, type(value).__qualname__)
    if kind.startswith("pandas.") and hasattr(value, "head") and hasattr(value, "to_html"):
        shape = getattr(value, "shape", None)
        head = value.head(10)
        table = head.to_html(max_cols=20, border=0) if hasattr(head, "to_html") else html.escape(repr(head))
        return '<p class="muted">%s, shape %s</p><div class="scroll">%s</div>' % (html.escape(kind), shape, table)
    if kind.startswith("numpy.") and hasattr(value, "shape") and hasattr(value, "dtype"):
        sample = html.escape(_repr.repr(value.ravel()[:10].tolist())) if getattr(value, "size", 0) else "[]"
        return "<p><code>ndarray</code> shape <code>%s</code>, dtype <code>%s</code></p><pre>%s</pre>" % (
            html.escape(str(value.shape)),
            html.escape(str(value.dtype)),
            sample,
        )
    if isinstance(value, (dict, list, tuple)):
        try:
            text = json.dumps(value, indent=2, default=repr)
            text = text if len(text) < 4000 else text[:4000] + "\n..."
        except (TypeError, ValueError):
            text = _repr.repr(value)
        return "<pre>%s</pre>" % html.escape(text)
    if isinstance(value, (bytes, bytearray)):
        return "<p><code>%s</code>, %d bytes</p><pre>%s</pre>" % (
            type(value).__name__,
            len(value),
            html.escape(_repr.repr(bytes(value[:64]))),
        )
    return "<pre>%s</pre>" % html.escape(_repr.repr(value))
