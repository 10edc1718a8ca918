"""What a run shows while it runs: live progress on a terminal, plain lines otherwise.

``RichConsole`` draws a live table (steps done and total, running tasks,
per-step foreach counts, elapsed time) with task logs scrolling above it.
``PlainConsole`` prints one line per event, for CI logs and pipes. Both
implement the scheduler's ``Reporter`` and take log lines from ``LogFollower``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from typing import Dict, Optional, TextIO

from ..executors.base import TaskResult, TaskState
from ..graph.model import Graph
from ..task.spec import TaskSpec


class _Counts:
    def __init__(self) -> None:
        self.running = 0
        self.done = 0
        self.failed = 0
        self.cloned = 0
        self.cached = 0


class PlainConsole:
    """One line per event; safe for non-terminals. Writes to ``out`` (stdout) and ``err`` (stderr)."""

    PER_TASK_LINES = True  # "started"/"done" lines; the live table shows those instead

    def __init__(
        self,
        graph: Graph,
        run_label: str,
        out: Optional[TextIO] = None,
        err: Optional[TextIO] = None,
        show_logs: bool = True,
    ) -> None:
        self.graph, self.run_label = graph, run_label
        self.out, self.err = out or sys.stdout, err or sys.stderr  # looked up now: callers may redirect them
        self.show_logs = show_logs
        self.started = time.monotonic()
        self.counts: Dict[str, _Counts] = defaultdict(_Counts)
        self._lock = threading.Lock()

    def _line(self, text: str, stream: Optional[TextIO] = None) -> None:
        with self._lock:
            target = stream or self.out
            target.write(text + "\n")
            target.flush()

    def log(self, prefix: str, stream: str, line: str) -> None:
        if self.show_logs:
            self._line("[%s] %s" % (prefix, line), self.err if stream == "stderr" else self.out)

    def task_started(self, spec: TaskSpec) -> None:
        self.counts[spec.step].running += 1
        if self.PER_TASK_LINES:
            attempt = " (retry %d)" % spec.attempt if spec.attempt else ""
            self._line("[%s/%s/%s] started%s" % (spec.run_id, spec.step, spec.task_id, attempt))

    def task_finished(self, spec: TaskSpec, result: TaskResult, then: str) -> None:
        """``then``: what happens next ("retrying", "@catch records it"), empty when the failure stands."""
        counts = self.counts[spec.step]
        counts.running -= 1
        label = "[%s/%s/%s]" % (spec.run_id, spec.step, spec.task_id)
        if result.state is TaskState.SUCCEEDED:
            counts.done += 1
            if self.PER_TASK_LINES:
                self._line("%s done" % label)
            return
        if not then:
            counts.failed += 1
        self._line(
            "%s failed (%s): %s%s" % (label, result.state.value, result.message or "", "; " + then if then else ""),
            self.err,
        )

    def task_cloned(self, step: str, origin: str) -> None:
        self.counts[step].cloned += 1

    def task_cached(self, step: str, task_id: str, source: str) -> None:
        """A task reused from an earlier run (step memoization): it ran no code."""
        self.counts[step].cached += 1
        if self.PER_TASK_LINES:
            self._line("[%s/%s/%s] cached: reuses %s" % (self.run_label.split("/")[-1], step, task_id, source))

    def run_message(self, text: str, error: bool = False) -> None:
        self._line(text, self.err if error else self.out)

    def close(self) -> None:
        pass

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class RichConsole(PlainConsole):
    """A live progress table on a terminal; logs and failures print above it."""

    PER_TASK_LINES = False

    def __init__(self, graph: Graph, run_label: str, show_logs: bool = True) -> None:
        super().__init__(graph, run_label, show_logs=show_logs)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=False)
        self.live = Live(
            self._render(), console=self.console, refresh_per_second=4, transient=False, get_renderable=self._render
        )
        self.live.start()

    def _render(self):  # type: ignore[no-untyped-def]
        from rich.table import Table

        table = Table(
            title="run %s  ·  %.1fs" % (self.run_label, self.elapsed()),
            title_justify="left",
            expand=False,
            show_edge=False,
        )
        for column in ("step", "type", "done", "running", "failed", "cloned", "cached"):
            table.add_column(column, justify="right" if column not in ("step", "type") else "left")
        for node in self.graph:
            c = self.counts.get(node.name) or _Counts()
            style = "red" if c.failed else ("green" if (c.done or c.cached) and not c.running else "")
            table.add_row(
                node.name,
                node.type.value,
                str(c.done),
                str(c.running) if c.running else "",
                str(c.failed) if c.failed else "",
                str(c.cloned) if c.cloned else "",
                str(c.cached) if c.cached else "",
                style=style,
            )
        return table

    def _line(self, text: str, stream: Optional[TextIO] = None) -> None:
        with self._lock:
            self.console.print(text, markup=False, highlight=False, style="red" if stream is self.err else None)

    def close(self) -> None:
        self.live.stop()


def make_console(graph: Graph, run_label: str, interactive: Optional[bool] = None, show_logs: bool = True):
    if interactive is None:
        interactive = sys.stdout.isatty()
    if interactive:
        return RichConsole(graph, run_label, show_logs=show_logs)
    return PlainConsole(graph, run_label, show_logs=show_logs)
