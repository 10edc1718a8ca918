"""The pages and APIs of ``orch ui``, one method each, over one store (``server.create_app`` routes them).

Every handler is a GET and reads only: names in a URL are checked as store
names before any key is built from them, and a card's HTML is served with a
policy that keeps it off the network.
"""

from __future__ import annotations

import html
import json
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from flask import abort, jsonify, request

from ..ids import run_path, task_path
from ..store.artifacts import load_artifact
from ..store.backend import MissingKey
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore, attempt_log_key, run_prefix
from ..store.names import check_name
from ..store.records import AttemptEnd, AttemptStart
from .cards import CARD_CSP, CARDS_SCRIPT, cards_fragment, run_cards_links, task_cards
from .model import RUNNING, run_view
from .preview import preview_html
from .report import STYLE, badge, environment_html, size_text, table, value_html, when
from .svg import dag_svg, timeline_svg

PAGE_SIZE = 100


class CachingMetadata(MetadataStore):
    """A MetadataStore that remembers every record it has read, decoded: records are never rewritten,
    so a page view neither reads nor decodes one twice."""

    def __init__(self, backend: Any) -> None:
        super().__init__(backend)
        self._cache: Dict[str, Any] = {}
        self._lock = threading.Lock()

    def _typed(self, key: str, decode: Callable[[Dict[str, Any]], Any]) -> Optional[Any]:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        found = super()._typed(key, decode)
        if found is not None:
            with self._lock:
                self._cache[key] = found
        return found


def html_page(title: str, body: str, script: str = "") -> str:
    nav = '<p class="muted"><a href="/">All runs</a> · orch ui (read-only)</p>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s'
        "a{color:#1a73e8;text-decoration:none} pre{background:#f8f9fa;padding:8px;overflow-x:auto;max-height:480px}"
        "input{padding:4px 8px;font-size:14px;width:360px}</style></head><body>%s%s<script>%s</script></body></html>"
        % (html.escape(title), STYLE, nav, body, script)
    )


LIVE_RUN_SCRIPT = """
async function refresh() {
  const live = document.getElementById('live');
  if (!live || live.dataset.status !== 'running') return;
  try {
    const response = await fetch(live.dataset.src);
    if (response.ok) { live.outerHTML = await response.text(); }
  } finally {
    setTimeout(refresh, 2000);
  }
}
setTimeout(refresh, 2000);
"""

LOG_SCRIPT = """
document.querySelectorAll('pre.log').forEach(function (pre) {
  let offset = Number(pre.dataset.offset);
  async function tail() {
    const response = await fetch(pre.dataset.src + '?offset=' + offset);
    if (!response.ok) return;
    const data = await response.json();
    if (data.text) { pre.textContent += data.text; offset = data.offset; }
    if (!data.done) setTimeout(tail, 2000);
  }
  if (pre.dataset.done !== 'true') setTimeout(tail, 2000);
});
document.querySelectorAll('button.preview').forEach(function (button) {
  button.addEventListener('click', async function () {
    const target = document.getElementById(button.dataset.target);
    target.innerHTML = 'loading...';
    const response = await fetch(button.dataset.src);
    target.innerHTML = await response.text();
  });
});
"""


def reused(done: Optional[AttemptEnd]) -> str:
    """' · cloned from X' (resume) or ' · cached: reuses X' (step memoization) on a task page."""
    if done is not None and done.cloned_from:
        return " · cloned from %s" % html.escape(str(done.cloned_from))
    if done is not None and done.memo is not None and done.memo.cached_from:
        return " · cached: reuses %s (see orch why)" % html.escape(str(done.memo.cached_from))
    return ""


def artifact_rows(where: Tuple[str, str, str, str], attempt: int, done: Optional[AttemptEnd]) -> List[List[str]]:
    """A task page's artifact table: name, type, size and a button that loads a preview."""
    rows = []
    for index, (name, record) in enumerate(sorted((done.artifacts if done else {}).items())):
        button = (
            '<button class="preview" data-target="preview-%d" data-src="/api/artifact/%s/%s/%s/%s/%d/%s">'
            'preview</button><div id="preview-%d"></div>' % (index, *where, attempt, name, index)
        )
        rows.append(["<code>%s</code>" % html.escape(name), html.escape(record.type), size_text(record.size), button])
    return rows


# URL rule → the Site method that answers it
ROUTES = (
    ("/", "runs_page"),
    ("/runs/<flow>/<run_id>", "run_page"),
    ("/runs/<flow>/<run_id>/live", "run_live"),
    ("/runs/<flow>/<run_id>/<step>/<task>", "task_page"),
    ("/runs/<flow>/<run_id>/<step>/<task>/cards", "task_cards_fragment"),
    ("/cards/<flow>/<run_id>/<step>/<task>/<int:attempt>/<int:index>", "card_html"),
    ("/api/logs/<flow>/<run_id>/<step>/<task>/<int:attempt>/<stream>", "logs_api"),
    ("/api/artifact/<flow>/<run_id>/<step>/<task>/<int:attempt>/<name>", "artifact_api"),
    ("/compare", "compare_page"),
)


class Site:
    """One store, seen through the UI: records cached as they are read (they never change)."""

    def __init__(self, store_url: str) -> None:
        self.backend = open_backend(store_url)
        self.meta = CachingMetadata(self.backend)
        self.cas = ContentAddressedStore(self.backend)
        self.finished_views: Dict[Tuple[str, str], Any] = {}  # a finished run's view never changes

    def names(self, *pairs: Tuple[str, str]) -> None:
        for kind, value in pairs:
            try:
                check_name(kind, value)
            except Exception:
                abort(404)

    def all_runs(self) -> List[dict]:
        rows = []
        for flow in self.meta.flow_names():
            for run_id in self.meta.run_ids(flow):
                record = self.meta.run_record(flow, run_id)
                if record is None:
                    continue
                end = self.meta.run_end(flow, run_id)
                rows.append(
                    {
                        "flow": flow,
                        "run": run_id,
                        "status": end.status.value if end else RUNNING,
                        "created_at": record.created_at or 0,
                        "finished_at": end.finished_at if end else None,
                        "user": record.user,
                        "tags": list(record.tags),
                    }
                )
        rows.sort(key=lambda r: r["created_at"], reverse=True)
        return rows

    def runs_page(self) -> str:
        query = (request.args.get("q") or "").strip().lower()
        page = max(1, int(request.args.get("page", "1") or 1))
        rows = self.all_runs()
        if query:
            rows = [
                r
                for r in rows
                if all(
                    word in " ".join([r["flow"], r["run"], r["status"], r["user"], " ".join(r["tags"])]).lower()
                    for word in query.split()
                )
            ]
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        now = time.time()
        runs_table = table(
            [
                [
                    html.escape(r["flow"]),
                    '<a href="/runs/%s/%s">%s</a>' % (r["flow"], r["run"], r["run"]),
                    badge(r["status"]),
                    when(r["created_at"]),
                    "%.1fs" % ((r["finished_at"] or now) - r["created_at"]) if r["created_at"] else "-",
                    html.escape(r["user"]),
                    html.escape(", ".join(r["tags"])),
                ]
                for r in shown
            ],
            ["flow", "run", "status", "started", "duration", "user", "tags"],
        )
        more = ""
        if len(rows) > page * PAGE_SIZE:
            more = '<p><a href="/?q=%s&page=%d">next %d</a></p>' % (html.escape(query), page + 1, PAGE_SIZE)
        body = (
            '<h1>Runs</h1><form method="get"><input name="q" value="%s" placeholder="filter: flow, run, status, '
            'user or tag"></form><p class="muted" id="count">%d run%s</p>%s%s'
            % (html.escape(query), len(rows), "" if len(rows) == 1 else "s", runs_table, more)
        )
        return html_page("orch runs", body)

    def view_of(self, flow: str, run_id: str) -> Any:
        """A finished run never changes: its view is built once. A live one is rebuilt on each look
        (its records come from the cache, so only new ones are read)."""
        view = self.finished_views.get((flow, run_id))
        if view is None:
            view = run_view(self.meta, flow, run_id)
            if view is None:
                abort(404)
            if view.status != RUNNING:
                self.finished_views[(flow, run_id)] = view
        return view

    def live_fragment(self, flow: str, run_id: str, view: Any = None) -> str:
        view = view or self.view_of(flow, run_id)
        return (
            '<div id="live" data-status="%s" data-src="/runs/%s/%s/live"><p>Status: %s · %d tasks</p>'
            '<h2>DAG</h2><div class="scroll">%s</div><h2>Timeline</h2><div class="scroll">%s</div>%s</div>'
            % (
                view.status,
                flow,
                run_id,
                badge(view.status),
                len(view.tasks),
                dag_svg(view),
                timeline_svg(view, time.time()),
                self.tasks_table(view),
            )
        )

    def tasks_table(self, view: Any) -> str:
        rows = []
        for step in view.steps:
            tasks = step.tasks[:50]
            links = " ".join(
                '<a href="/runs/%s/%s/%s/%s" class="task status-%s">%s</a>'
                % (view.flow, view.run_id, step.name, t.task_id, t.status, html.escape(t.label))
                for t in tasks
            )
            if len(step.tasks) > len(tasks):
                links += ' <span class="muted">and %d more</span>' % (len(step.tasks) - len(tasks))
            rows.append(["<code>%s</code>" % html.escape(step.name), badge(step.status), links or "-"])
        return "<h2>Tasks</h2>" + table(rows, ["step", "status", "tasks"])

    def run_page(self, flow: str, run_id: str) -> str:
        self.names(("flow", flow), ("run", run_id))
        view = self.view_of(flow, run_id)
        params = table([[html.escape(k), value_html(v)] for k, v in view.parameters.items()], ["parameter", "value"])
        envs = []
        for step in view.steps:
            env = view.environments.get(step.name) or {}
            packages = self.lock_packages(env.get("lock_key"))
            envs.append([html.escape(step.name), environment_html(view, step), packages])
        body = (
            '<h1>%s/%s %s</h1><p class="muted">started %s · user %s · tags %s · executor %s · code package '
            '<code>%s</code> · <a href="/compare?a=%s/%s">compare with...</a></p>'
            % (
                html.escape(flow),
                html.escape(run_id),
                badge(view.status),
                when(view.created_at),
                html.escape(view.user),
                html.escape(", ".join(view.tags) or "-"),
                html.escape(view.executor),
                html.escape(view.code_key[:16]),
                flow,
                run_id,
            )
            + "<h2>Parameters</h2>"
            + params
            + self.live_fragment(flow, run_id, view)
            + run_cards_links(view)
            + "<h2>Environments</h2>"
            + table(envs, ["step", "environment", "locked packages"])
        )
        return html_page(str(run_path(flow, run_id)), body, LIVE_RUN_SCRIPT)

    def run_live(self, flow: str, run_id: str) -> str:
        self.names(("flow", flow), ("run", run_id))
        return self.live_fragment(flow, run_id)

    def lock_packages(self, key: Optional[str]) -> str:
        if not key:
            return '<span class="muted">-</span>'
        try:
            text = bytes(self.cas.load_blob(key, "a lock file")).decode("utf-8", "replace")
        except Exception:
            return '<span class="muted">lock not in the store</span>'
        packages = []
        for line in text.splitlines():
            line = line.strip()
            if "==" in line and not line.startswith("#"):  # a PyPI lock: name==version --hash ...
                packages.append(line.split()[0].rstrip("\\"))
            elif line.startswith("- name:") or line.startswith("name:"):  # a conda-lock file
                packages.append(line.split(":", 1)[1].strip())
        return "<br>".join(html.escape(p) for p in sorted(set(packages))) or '<span class="muted">-</span>'

    def attempt_of(
        self, flow: str, run_id: str, step: str, task: str
    ) -> Tuple[int, Optional[AttemptStart], Optional[AttemptEnd]]:
        files = self.backend.children("%s/steps/%s/%s" % (run_prefix(flow, run_id), step, task))
        latest = [int(name.split(".")[0]) for name in files if name.split(".")[0].isdigit()]
        if not latest:
            abort(404)
        attempt = int(request.args.get("attempt", max(latest)))
        return (
            attempt,
            self.meta.attempt_start(flow, run_id, step, task, attempt),
            self.meta.attempt_end(flow, run_id, step, task, attempt),
        )

    def read_log(self, key: str, offset: int) -> bytes:
        local = self.backend.local_path(key)
        try:
            if local:
                with open(local, "rb") as handle:
                    handle.seek(offset)
                    return handle.read(1_000_000)
            return bytes(self.backend.get(key))[offset : offset + 1_000_000]
        except (FileNotFoundError, MissingKey):
            return b""

    def task_page(self, flow: str, run_id: str, step: str, task: str) -> str:
        self.names(("flow", flow), ("run", run_id), ("step", step), ("task", task))
        attempt, start, done = self.attempt_of(flow, run_id, step, task)
        finished = done is not None
        where = (flow, run_id, step, task)
        logs = [self.log_section(where, attempt, done, stream) for stream in ("stdout", "stderr")]
        rows = artifact_rows(where, attempt, done)
        status = "running" if done is None else ("succeeded" if done.succeeded else "failed")
        exception = done.exception if done else None
        if exception is not None:
            error = "<h2>Error</h2><pre>%s</pre>" % html.escape(exception.traceback or exception.message)
        elif done is not None and done.died is not None:
            error = "<h2>Error</h2><pre>%s</pre>" % html.escape(done.died.message)
        else:
            error = ""
        cards = task_cards(self.backend, (flow, run_id, step, task), attempt, done)
        shown = cards_fragment(str(task_path(flow, run_id, step, task)), attempt, cards, finished)
        body = (
            '<h1><a href="/runs/%s/%s">%s/%s</a>/%s/%s %s</h1><p class="muted">attempt %d · host %s · started %s · '
            "finished %s%s</p>%s%s<h2>Artifacts</h2>%s%s"
            % (
                flow,
                run_id,
                html.escape(flow),
                html.escape(run_id),
                html.escape(step),
                html.escape(task),
                badge(status),
                attempt,
                html.escape(start.host if start and start.host else "-"),
                when(start.started_at if start else None),
                when(done.finished_at if done else None),
                reused(done),
                error,
                shown if cards or not finished else "",
                table(rows, ["name", "type", "size", ""]) if rows else '<p class="muted">none yet</p>',
                "".join(logs),
            )
        )
        return html_page(str(task_path(flow, run_id, step, task)), body, LOG_SCRIPT + CARDS_SCRIPT)

    def log_section(
        self, where: Tuple[str, str, str, str], attempt: int, done: Optional[AttemptEnd], stream: str
    ) -> str:
        """A task page's log, as much as there is, and where its script polls for more while it runs."""
        data = self.read_log(attempt_log_key(*where, attempt, done, stream), 0)
        return (
            '<h2>%s</h2><pre class="log" id="%s" data-src="/api/logs/%s/%s/%s/%s/%d/%s" data-offset="%d" '
            'data-done="%s">%s</pre>'
            % (stream, stream, *where, attempt, stream, len(data), str(done is not None).lower(),
               html.escape(data.decode("utf-8", "replace")))
        )  # fmt: skip

    def task_cards_fragment(self, flow: str, run_id: str, step: str, task: str) -> str:
        self.names(("flow", flow), ("run", run_id), ("step", step), ("task", task))
        attempt, _, done = self.attempt_of(flow, run_id, step, task)
        cards = task_cards(self.backend, (flow, run_id, step, task), attempt, done)
        return cards_fragment(str(task_path(flow, run_id, step, task)), attempt, cards, done is not None)

    def card_html(self, flow: str, run_id: str, step: str, task: str, attempt: int, index: int) -> Any:
        """One card's HTML, with a policy that keeps it off the network (it is the step's output)."""
        self.names(("flow", flow), ("run", run_id), ("step", step), ("task", task))
        done = self.meta.attempt_end(flow, run_id, step, task, attempt)
        found = dict(task_cards(self.backend, (flow, run_id, step, task), attempt, done)).get(index)
        if found is None:
            abort(404)
        text = bytes(self.cas.load_blob(found.html, "card %s" % found.type))
        return (
            text,
            200,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Security-Policy": CARD_CSP,
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def logs_api(self, flow: str, run_id: str, step: str, task: str, attempt: int, stream: str) -> Any:
        self.names(("flow", flow), ("run", run_id), ("step", step), ("task", task))
        if stream not in ("stdout", "stderr"):
            abort(404)
        offset = max(0, int(request.args.get("offset", "0") or 0))
        done = self.meta.attempt_end(flow, run_id, step, task, attempt)
        data = self.read_log(attempt_log_key(flow, run_id, step, task, attempt, done, stream), offset)
        return jsonify(text=data.decode("utf-8", "replace"), offset=offset + len(data), done=done is not None)

    def artifact_api(self, flow: str, run_id: str, step: str, task: str, attempt: int, name: str) -> str:
        self.names(("flow", flow), ("run", run_id), ("step", step), ("task", task))
        done = self.meta.attempt_end(flow, run_id, step, task, attempt)
        record = done.artifacts.get(name) if done else None
        if record is None:
            abort(404)
        try:
            value = load_artifact(self.cas, record, "artifact '%s'" % name)
        except ModuleNotFoundError as err:
            return (
                '<p class="muted">No preview: this artifact needs %s, which orch ui\'s Python lacks.</p>'
                % html.escape(str(err.name))
            )
        except Exception as err:
            return '<p class="muted">No preview: %s</p>' % html.escape(str(err))
        return preview_html(value)

    def compare_page(self) -> str:
        a, b = request.args.get("a", ""), request.args.get("b", "")
        if not b:
            runs = [
                r for r in self.all_runs() if r["flow"] == a.split("/")[0] and str(run_path(r["flow"], r["run"])) != a
            ]
            options = "".join(
                '<li><a href="/compare?a=%s&b=%s/%s">%s/%s</a> %s</li>'
                % (a, r["flow"], r["run"], r["flow"], r["run"], badge(r["status"]))
                for r in runs[:100]
            )
            return html_page("compare", "<h1>Compare %s with</h1><ul>%s</ul>" % (html.escape(a), options))
        views = []
        for spec in (a, b):
            flow, _, run_id = spec.partition("/")
            self.names(("flow", flow), ("run", run_id))
            views.append(self.view_of(flow, run_id))
        left, right = views
        params = sorted(set(left.parameters) | set(right.parameters))
        param_rows = [
            [
                html.escape(p),
                html.escape(json.dumps(left.parameters.get(p), default=str)),
                html.escape(json.dumps(right.parameters.get(p), default=str)),
                "same" if left.parameters.get(p) == right.parameters.get(p) else "<b>differs</b>",
            ]
            for p in params
        ]
        artifact_rows = []
        for key, (lhs, rhs) in sorted(self.artifact_keys(left, right).items()):
            if lhs != rhs:
                artifact_rows.append(
                    [
                        html.escape(key),
                        "present" if lhs else "-",
                        "present" if rhs else "-",
                        "<b>differs</b>" if lhs and rhs else "<b>only in one</b>",
                    ]
                )
        body = "<h1>%s vs %s</h1><h2>Parameters</h2>%s<h2>Artifacts that differ</h2>%s" % (
            html.escape(a),
            html.escape(b),
            table(param_rows, ["parameter", a, b, ""]),
            table(artifact_rows, ["step[index].artifact", a, b, ""])
            if artifact_rows
            else '<p class="muted">none: every artifact has the same content</p>',
        )
        return html_page("compare", body)

    def artifact_keys(self, left: Any, right: Any) -> Dict[str, Tuple[Optional[str], Optional[str]]]:
        out: Dict[str, List[Optional[str]]] = {}
        for side, view in enumerate((left, right)):
            for task in view.tasks:
                done = self.meta.attempt_end(view.flow, view.run_id, task.step, task.task_id, task.attempts[-1].number)
                for name, record in (done.artifacts if done else {}).items():
                    label = "%s%s.%s" % (
                        task.step,
                        "" if task.foreach_index is None else "[%d]" % task.foreach_index,
                        name,
                    )
                    out.setdefault(label, [None, None])[side] = record.key
        return {k: (v[0], v[1]) for k, v in out.items()}
