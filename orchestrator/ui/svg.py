"""Pictures of a run as inline SVG, drawn in Python: the DAG coloured by status, and the task timeline.

No Graphviz and no JavaScript: the same functions draw the report (which
must open with no network) and the web UI. Layout is layered: a step's row
is its longest distance from ``start``.
"""

from __future__ import annotations

import html
from typing import Dict, List, Set, Tuple

from .model import CACHED, CLONED, FAILED, PENDING, RUNNING, SUCCEEDED, RunView

COLOURS = {  # (fill, stroke)
    SUCCEEDED: ("#e6f4ea", "#1e8e3e"),
    FAILED: ("#fce8e6", "#d93025"),
    RUNNING: ("#e8f0fe", "#1a73e8"),
    PENDING: ("#f1f3f4", "#9aa0a6"),
    CLONED: ("#f3e8fd", "#9334e6"),
    CACHED: ("#fef7e0", "#b06000"),
}
NODE_W, NODE_H, GAP_X, GAP_Y = 170, 46, 30, 50


def _loops_back(run: RunView) -> Set[Tuple[str, str]]:
    """Edges to a step at or before their source (steps come in topological order): a switch case
    that loops (recursion)."""
    position = {step.name: i for i, step in enumerate(run.steps)}
    return {(s.name, n) for s in run.steps for n in s.next if n in position and position[n] <= position[s.name]}


def _levels(run: RunView, back: Set[Tuple[str, str]]) -> Dict[str, int]:
    """Each step's row. An edge that loops back sets no row, so recursion cannot push a step below itself."""
    level = {step.name: 0 for step in run.steps}
    for step in run.steps:
        for successor in step.next:
            if successor in level and (step.name, successor) not in back:
                level[successor] = max(level[successor], level[step.name] + 1)
    return level


def dag_svg(run: RunView) -> str:
    back = _loops_back(run)
    level = _levels(run, back)
    rows: Dict[int, List[str]] = {}
    for step in run.steps:
        rows.setdefault(level[step.name], []).append(step.name)
    widest = max((len(names) for names in rows.values()), default=1)
    width = widest * (NODE_W + GAP_X) + GAP_X + (50 if back else 0)  # room for the loops' curves
    height = len(rows) * (NODE_H + GAP_Y) + GAP_Y
    where: Dict[str, Tuple[float, float]] = {}
    for row, names in rows.items():
        offset = (width - len(names) * (NODE_W + GAP_X) + GAP_X) / 2
        for column, name in enumerate(names):
            where[name] = (offset + column * (NODE_W + GAP_X), GAP_Y / 2 + row * (NODE_H + GAP_Y))
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="%d" height="%d" viewBox="0 0 %d %d">'
        % (width, height, width, height),
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5f6368"/></marker></defs>',
    ]
    for step in run.steps:
        x, y = where[step.name]
        for successor in step.next:
            if successor not in where:
                continue
            x2, y2 = where[successor]
            if (step.name, successor) in back:  # recursion: a loop back, drawn round the right side
                bulge = max(x, x2) + NODE_W + 40
                parts.append(
                    '<path class="loop" d="M %.0f %.0f C %.0f %.0f, %.0f %.0f, %.0f %.0f" fill="none" stroke="#5f6368" '
                    'stroke-width="1.5" stroke-dasharray="2,3" marker-end="url(#arrow)"/>'
                    % (x + NODE_W, y + NODE_H * 0.7, bulge, y + NODE_H, bulge, y2, x2 + NODE_W, y2 + NODE_H * 0.3)
                )
                continue
            dash = ' stroke-dasharray="5,4"' if step.type == "foreach" else ""
            parts.append(
                '<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#5f6368" stroke-width="1.5"%s '
                'marker-end="url(#arrow)"/>' % (x + NODE_W / 2, y + NODE_H, x2 + NODE_W / 2, y2, dash)
            )
    for step in run.steps:
        x, y = where[step.name]
        fill, stroke = COLOURS.get(step.status, COLOURS[PENDING])
        count = len(step.tasks)
        detail = "%d task%s" % (count, "" if count == 1 else "s") if count else step.type
        parts.append(
            '<g class="step status-%s" id="step-%s" data-status="%s"><title>%s: %s</title>'
            '<rect x="%.0f" y="%.0f" width="%d" height="%d" rx="8" fill="%s" stroke="%s" stroke-width="2"/>'
            '<text x="%.0f" y="%.0f" text-anchor="middle" font-size="13" font-weight="600">%s</text>'
            '<text x="%.0f" y="%.0f" text-anchor="middle" font-size="11" fill="#5f6368">%s · %s</text></g>'
            % (
                step.status,
                html.escape(step.name),
                step.status,
                html.escape(step.name),
                step.status,
                x,
                y,
                NODE_W,
                NODE_H,
                fill,
                stroke,
                x + NODE_W / 2,
                y + 19,
                html.escape(step.name),
                x + NODE_W / 2,
                y + 36,
                html.escape(detail),
                step.status,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


ROW_H, LABEL_W, CHART_W, MAX_ROWS = 18, 200, 760, 300
MIN_BAR = 4  # px: a task of a few milliseconds is still a bar to point at (its duration is in the tooltip)


def timeline_svg(run: RunView, now: float) -> str:
    """One row per task (its attempts side by side, retries visible), or, past MAX_ROWS tasks,
    one row per step showing the spread of its tasks."""
    tasks = [t for t in run.tasks if t.attempts and t.attempts[0].started_at]
    if not tasks:
        return '<p class="empty">No task has started yet.</p>'
    begin = min(a.started_at for t in tasks for a in t.attempts if a.started_at)
    end = max(max((a.finished_at or now) for a in t.attempts) for t in tasks)
    span = max(end - begin, 1e-3)

    def x(at: float) -> float:
        return LABEL_W + (at - begin) / span * CHART_W

    rows: List[str] = []
    if len(tasks) <= MAX_ROWS:
        for index, task in enumerate(tasks):
            y = index * ROW_H
            label = "%s/%s" % (task.step, task.label)
            rows.append('<text x="4" y="%d" font-size="11">%s</text>' % (y + 13, html.escape(label)))
            for attempt in task.attempts:
                if not attempt.started_at:
                    continue
                status = attempt.shown_status
                fill = COLOURS.get(status, COLOURS[PENDING])[1]
                stop = attempt.finished_at or now
                rows.append(
                    '<rect class="bar status-%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" rx="2">'
                    "<title>%s attempt %d: %s, %.2fs</title></rect>"
                    % (
                        status,
                        x(attempt.started_at),
                        y + 3,
                        max(MIN_BAR, x(stop) - x(attempt.started_at)),
                        ROW_H - 6,
                        fill,
                        html.escape(label),
                        attempt.number,
                        status,
                        stop - attempt.started_at,
                    )
                )
    else:
        by_step: Dict[str, list] = {}
        for task in tasks:
            by_step.setdefault(task.step, []).append(task)
        for index, (step, members) in enumerate(by_step.items()):
            y = index * ROW_H * 2
            starts = sorted(a.started_at for t in members for a in t.attempts if a.started_at)
            stops = sorted((a.finished_at or now) for t in members for a in t.attempts)
            durations = sorted(
                ((t.attempts[-1].finished_at or now) - (t.attempts[-1].started_at or now)) for t in members
            )
            summary = "%s: %d tasks, median %.2fs, max %.2fs" % (
                step,
                len(members),
                durations[len(durations) // 2],
                durations[-1],
            )
            rows.append('<text x="4" y="%d" font-size="11">%s</text>' % (y + 13, html.escape(summary)))
            rows.append(
                '<rect class="bar spread" x="%.1f" y="%d" width="%.1f" height="%d" fill="#1a73e8" opacity="0.35"/>'
                % (x(starts[0]), y + 20, max(1.5, x(stops[-1]) - x(starts[0])), ROW_H - 8)
            )
        tasks = list(by_step) * 2
    height = len(tasks) * ROW_H + 24
    axis = (
        '<text x="%d" y="%d" font-size="11" fill="#5f6368">0s</text><text x="%d" y="%d" font-size="11" '
        'fill="#5f6368" text-anchor="end">%.1fs</text>' % (LABEL_W, height - 6, LABEL_W + CHART_W, height - 6, span)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="%d" height="%d" viewBox="0 0 %d %d">%s%s</svg>'
        % (LABEL_W + CHART_W + 10, height, LABEL_W + CHART_W + 10, height, "".join(rows), axis)
    )
