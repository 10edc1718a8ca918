"""``orch report``: one self-contained HTML file for a run, to share or attach to a ticket.

Everything is inline (CSS and SVG, no scripts, no fonts, no links to fetch),
so it opens anywhere, offline. It shows the run's facts, its parameters,
the DAG coloured by status, the task timeline, every step's environment and
the artifacts each step produced (names, types, sizes; never their data).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import time
from typing import Any, Dict, List, Optional

from ..ids import run_path
from .model import RunView, StepView
from .svg import dag_svg, timeline_svg

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#202124;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dadce0;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #dadce0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f8f9fa} code{font-family:Menlo,Consolas,monospace;font-size:12px}
.status{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.status-succeeded{background:#e6f4ea;color:#1e8e3e}.status-failed{background:#fce8e6;color:#d93025}
.status-running{background:#e8f0fe;color:#1a73e8}.status-pending{background:#f1f3f4;color:#5f6368}
.status-cloned{background:#f3e8fd;color:#9334e6}.status-cached{background:#fef7e0;color:#b06000}.muted{color:#5f6368;font-size:13px}.scroll{overflow-x:auto}
"""


def when(at: Optional[float]) -> str:
    if not at:
        return "-"
    return _dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def size_text(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return ("%d %s" % (size, unit)) if unit == "B" else ("%.1f %s" % (size, unit))
        size /= 1024.0
    return str(size)


def _duration(run: RunView, now: float) -> str:
    if not run.created_at:
        return "-"
    return "%.1fs" % ((run.finished_at or now) - run.created_at)


def table(rows: List[List[str]], header: Optional[List[str]] = None) -> str:
    head = "<tr>%s</tr>" % "".join("<th>%s</th>" % html.escape(h) for h in header) if header else ""
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % cell for cell in row) for row in rows)
    return "<table>%s%s</table>" % (head, body)


def badge(status: str) -> str:
    return '<span class="status status-%s">%s</span>' % (html.escape(status), html.escape(status))


def value_html(value: Any, limit: int = 200) -> str:
    """A parameter's value as JSON; a long one (a whole IncludeFile) shortened, the rest one click away
    (a <details>: no script, so it works in the offline report too)."""
    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return "<code>%s</code>" % html.escape(text)
    return (
        '<details><summary><code>%s…</code> <span class="muted">(%d characters; show all)</span></summary>'
        "<pre>%s</pre></details>"
        % (
            html.escape(text[:limit]),
            len(text),
            html.escape(text),
        )
    )


def _pythons(step: StepView) -> str:
    found = sorted({t.python for t in step.tasks if t.python})
    return ", ".join(found)


def environment_html(run: RunView, step: StepView) -> str:
    env = run.environments.get(step.name) or {}
    spec = env.get("spec") or {}
    if not spec:  # no @conda/@pypi: the default environment
        parts = [
            "default image <code>%s</code>" % html.escape(env["image"]) if env.get("image") else "default environment"
        ]
        if _pythons(step):
            parts.append("python %s" % html.escape(_pythons(step)))
        return "<br>".join(parts)
    packages = spec.get("packages") or {}
    parts = ["%s" % html.escape(spec.get("kind", "?"))]
    if spec.get("python"):
        parts.append("python %s" % html.escape(str(spec["python"])))
    parts += ["%s %s" % (html.escape(k), html.escape(str(v))) for k, v in sorted(packages.items())]
    if env.get("image"):
        parts.append("<code>%s</code>" % html.escape(env["image"]))
    if env.get("lock"):
        parts.append('<span class="muted">lock %s</span>' % html.escape(env["lock"]))
    return "<br>".join(parts)


def _artifacts(step: StepView) -> str:
    """Names, types and sizes; for a step of many tasks, the total size of each name across them."""
    found: Dict[str, List[Any]] = {}
    for task in step.tasks:
        for artifact in task.artifacts:
            entry = found.setdefault(artifact.name, [artifact.type, 0, 0])
            entry[1] += artifact.size
            entry[2] += 1
    if not found:
        return '<span class="muted">-</span>'
    rows = []
    for name, (kind, size, count) in sorted(found.items()):
        where = "" if count == 1 else " over %d tasks" % count
        rows.append("<code>%s</code> %s, %s%s" % (html.escape(name), html.escape(kind), size_text(size), where))
    return "<br>".join(rows)


MAX_REPORT_CARDS = 50  # a report embeds the first cards; `orch card list` lists them all


def cards_section(cards: List[Any], total: int) -> str:
    """Cards embedded whole (``srcdoc``): a report opens offline, and each card stays in a sandbox."""
    parts = ["<h2>Cards</h2>"]
    for label, name, page in cards:
        parts.append(
            '<h3><code>%s</code> %s</h3><iframe class="card" title="card %s" sandbox="allow-scripts" srcdoc="%s" '
            'style="width:100%%;height:640px;border:1px solid #d0d7de;border-radius:6px;resize:vertical"></iframe>'
            % (html.escape(label), html.escape(name), html.escape(name), html.escape(page, quote=True))
        )
    if total > len(cards):
        parts.append('<p class="muted">and %d more cards: orch card list shows them all.</p>' % (total - len(cards)))
    return "\n".join(parts)


def render_report(
    run: RunView, now: Optional[float] = None, cards: Optional[List[Any]] = None, total_cards: int = 0
) -> str:
    """``cards``: (task label, card name, HTML) of the cards to embed, of ``total_cards`` in all."""
    now = time.time() if now is None else now
    facts = [
        ["flow", html.escape(run.flow)],
        ["run", html.escape(run.run_id)],
        ["status", badge(run.status)],
        ["started", when(run.created_at)],
        ["finished", when(run.finished_at)],
        ["duration", _duration(run, now)],
        ["user", html.escape(run.user)],
        ["tags", html.escape(", ".join(run.tags)) or "-"],
        ["executor", html.escape(run.executor)],
        ["code package", "<code>%s</code>" % html.escape(run.code_key[:16])],
        ["tasks", str(len(run.tasks))],
    ]
    parameters = [
        ["<code>%s</code>" % html.escape(name), value_html(value)] for name, value in sorted(run.parameters.items())
    ]
    steps = [
        [
            "<code>%s</code>" % html.escape(step.name),
            badge(step.status),
            html.escape(step.type),
            str(len(step.tasks)),
            html.escape(", ".join("@" + d for d in step.decorators)) or "-",
            environment_html(run, step),
            _artifacts(step),
        ]
        for step in run.steps
    ]
    failures = [
        [html.escape(f.get("task", "")), html.escape(f.get("state", "")), html.escape(f.get("message", ""))]
        for f in run.failures
    ]
    title = str(run_path(run.flow, run.run_id))
    body = [
        "<h1>%s %s</h1>" % (html.escape(title), badge(run.status)),
        '<p class="muted">orch run report, written %s</p>' % when(now),
        table(facts),
        "<h2>Parameters</h2>",
        table(parameters, ["name", "value"]) if parameters else '<p class="muted">none</p>',
        '<h2>DAG</h2><div class="scroll" id="dag">%s</div>' % dag_svg(run),
        '<h2>Timeline</h2><div class="scroll" id="timeline">%s</div>' % timeline_svg(run, now),
        "<h2>Steps</h2>",
        table(steps, ["step", "status", "type", "tasks", "decorators", "environment", "artifacts"]),
    ]
    if failures:
        body += ["<h2>Failures</h2>", table(failures, ["task", "state", "message"])]
    if cards:
        body.append(cards_section(cards, total_cards))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>%s</title><style>%s</style></head><body>%s</body></html>\n"
        % (html.escape(title), STYLE, "\n".join(body))
    )
