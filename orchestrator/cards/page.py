"""The HTML around a card: one self-contained page (inline CSS, inline SVG, data: URIs), which opens
offline, in an iframe of ``orch ui``, in a report, or straight from ``orch card get``.

No scripts are needed to read a card; one inline line tells a framing
viewer the card's height. Standard library only.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--accent:#0969da;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.orch-meta{color:var(--muted);margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 12px;max-width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre,code{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);padding:8px 10px;border-radius:6px;overflow:auto;max-height:360px;margin:6px 0}
img,svg.orch-chart{max-width:100%;height:auto}
.orch-section{margin:8px 0 16px}
.orch-error{border:1px solid var(--bad);border-left-width:4px;background:#ffebe9;padding:8px 12px;
border-radius:6px;margin:8px 0}
.orch-error pre{background:transparent;padding:0;margin:4px 0 0}
.orch-progress{margin:8px 0}.orch-progress .bar{background:var(--soft);border:1px solid var(--line);
border-radius:6px;height:14px;overflow:hidden;max-width:480px}
.orch-progress .fill{background:var(--accent);height:100%}
.orch-progress .label{color:var(--muted);font-size:12px}
.orch-artifact{margin:6px 0}.orch-artifact .name{font-weight:600}
.orch-note{color:var(--muted);font-size:12px}
.orch-status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.orch-status.succeeded{background:#dafbe1;color:#116329}.orch-status.failed{background:#ffebe9;color:var(--bad)}
.orch-status.running{background:#ddf4ff;color:var(--accent)}
"""

# Tells a viewer that frames the card (orch ui) how tall it is; nothing else, and nothing fetched.
HEIGHT_SCRIPT = (
    "<script>(function(){function h(){try{parent.postMessage({orchCardHeight:"
    "Math.ceil(document.body.getBoundingClientRect().height)},'*')}catch(e){}}addEventListener('load',h);"
    "if(window.ResizeObserver){new ResizeObserver(h).observe(document.body)}})();</script>"
)


def escape(value: Any) -> str:
    """``html.escape(str(value), quote=True)``, without importing ``html``: its package loads the
    2,000 entities ``unescape`` needs, and every task with a card would pay for that."""
    text = str(value)
    if not any(c in text for c in "&<>\"'"):
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;")


def document(title: str, body: str, live_token: Optional[str] = None) -> str:
    """A whole card page. ``live_token``: a live render, marked with its reload token, which a viewer
    compares to know when a newer render replaced it."""
    if live_token is not None:
        body = "<!-- orch-live %s -->\n%s" % (escape(live_token), body)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>%s</title><style>%s</style></head>\n<body>\n%s\n%s</body></html>\n"
        % (escape(title), CSS, body, HEIGHT_SCRIPT)
    )


def cell(value: Any) -> str:
    """One ``<td>``: the value escaped, a number right-aligned."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return "<td%s>%s</td>" % (' class="num"' if number else "", escape(value))


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], cell: Callable[[Any], str] = cell) -> str:
    """An HTML table: escaped headers, and each value made a ``<td>`` by ``cell``."""
    head = "<tr>%s</tr>" % "".join("<th>%s</th>" % escape(h) for h in headers) if headers else ""
    body = "".join("<tr>%s</tr>" % "".join(cell(c) for c in row) for row in rows)
    return "<table>%s%s</table>" % (head, body)


def dag_svg(graph: Dict[str, Any], highlight: str) -> str:
    """The flow's steps as a small layered picture, ``highlight`` filled in: where this task sits."""
    steps: List[Dict[str, Any]] = list(graph.get("steps") or ())
    if not steps:
        return ""
    names = [s["name"] for s in steps]
    order = {name: i for i, name in enumerate(names)}
    level = {name: 0 for name in names}
    for step in steps:  # steps come in topological order; an edge back (recursion) sets no level
        for successor in step.get("next") or ():
            if successor in level and order[successor] > order[step["name"]]:
                level[successor] = max(level[successor], level[step["name"]] + 1)
    rows: Dict[int, List[str]] = {}
    for name in names:
        rows.setdefault(level[name], []).append(name)
    width, height, gap_x, gap_y = 130, 30, 16, 26
    widest = max(len(r) for r in rows.values())
    total_w = widest * (width + gap_x)
    where = {}
    for row, members in rows.items():
        offset = (total_w - len(members) * (width + gap_x)) / 2
        for i, name in enumerate(members):
            where[name] = (offset + i * (width + gap_x) + gap_x / 2, row * (height + gap_y) + 4)
    parts = []
    for step in steps:
        x, y = where[step["name"]]
        for successor in step.get("next") or ():
            if successor in where:
                x2, y2 = where[successor]
                parts.append(
                    '<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#8c959f" stroke-width="1.2"/>'
                    % (x + width / 2, y + height, x2 + width / 2, y2)
                )
    for name in names:
        x, y = where[name]
        here = name == highlight
        parts.append(
            '<g><rect x="%.0f" y="%.0f" width="%d" height="%d" rx="6" fill="%s" stroke="%s"/>'
            '<text x="%.0f" y="%.0f" text-anchor="middle" font-size="12" fill="%s">%s</text></g>'
            % (
                x,
                y,
                width,
                height,
                "#0969da" if here else "#f6f8fa",
                "#0969da" if here else "#d1d9e0",
                x + width / 2,
                y + height / 2 + 4,
                "#fff" if here else "#1f2328",
                escape(name[:18]),
            )
        )
    total_h = (max(rows) + 1) * (height + gap_y)
    return (
        '<svg class="orch-dag" xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" '
        'aria-label="flow graph">%s</svg>' % (total_w, total_h, "".join(parts))
    )
