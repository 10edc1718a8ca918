"""Resume: reuse the successful tasks of an earlier run by reference, re-run the rest.

A task is matched across runs by (step, foreach indices). Tasks of steps
before the resume point that succeeded in the origin run are *cloned*: the
new run gets records pointing at the same artifact blobs, so no data is
copied and no code re-runs. The resume step and everything downstream of it
run again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Dict, Iterable, Optional, Set, Tuple

from ..errors import OrchError
from ..graph.model import Graph
from ..ids import AttemptRef, foreach_key, loop_key
from ..plan import Finished, PlannedTask, Planner
from ..store.metadata import MetadataStore
from ..store.records import AttemptEnd, AttemptStart

Key = Tuple[str, Tuple[int, ...], Tuple[int, ...]]


class ResumeError(OrchError):
    """Nothing to resume from, or an unknown resume step."""


@dataclass(frozen=True)
class OriginTask:
    """A task of the origin run that succeeded: its attempt and both of that attempt's records."""

    ref: AttemptRef  # run/step/task/attempt in the origin run
    start: AttemptStart
    end: AttemptEnd


class OriginRun:
    """The successful tasks of the origin run, indexed by (step, foreach indices)."""

    def __init__(self, meta: MetadataStore, flow: str, run_id: str) -> None:
        self.meta, self.flow, self.run_id = meta, flow, run_id
        self.ok: Dict[Key, OriginTask] = {}
        for (step, task), latest in meta.latest_attempts(flow, run_id).items():
            if not latest.done:
                continue
            end = meta.attempt_end(flow, run_id, step, task, latest.attempt)
            if end is None or not end.succeeded:
                continue
            start = meta.attempt_start(flow, run_id, step, task, latest.attempt)
            if start is None:
                start = AttemptStart(latest.attempt, end.started_at or end.finished_at)
            ref = AttemptRef(step, task, latest.attempt, run_id)
            self.ok[(step, foreach_key(start.foreach_stack), loop_key(start.loops))] = OriginTask(ref, start, end)


def _finished(graph: Graph, ref: AttemptRef, planned: PlannedTask, end: AttemptEnd) -> Finished:
    """A reused task as the planner sees it: for a switch, the case the origin's task took."""
    chosen = end.next[0] if graph[ref.step].is_switch and end.next else None
    return Finished(ref.step, ref, planned.foreach_stack, end.num_splits, planned.loops, chosen)


def first_failed_step(graph: Graph, origin: OriginRun) -> Optional[str]:
    """Replay the plan over the origin's successes; the earliest step with a task that did not succeed."""
    planner = Planner(graph)
    pending = list(planner.start())
    missing: Set[str] = set()
    while pending:
        planned = pending.pop()
        found = origin.ok.get(planned.key)
        if found is None:
            missing.add(planned.step)
            continue
        local = found.ref._replace(run=None)
        pending.extend(planner.on_success(_finished(graph, local, planned, found.end)))
    order = [n.name for n in graph]
    return min(missing, key=order.index) if missing else None


def downstream(graph: Graph, step: str) -> Set[str]:
    seen, todo = set(), [step]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name].out)
    return seen


class Clones:
    """The scheduler's CloneSource for a resumed run.

    A task is cloned when its step is not forced to re-run, the origin has
    it succeeded, and every input it reads was itself cloned: a task
    downstream of one that runs again must run again too.
    """

    def __init__(
        self, graph: Graph, meta: MetadataStore, flow: str, new_run: str, origin: OriginRun, rerun: Iterable[str]
    ) -> None:
        self.graph, self.meta, self.flow, self.new_run, self.origin = graph, meta, flow, new_run, origin
        self.rerun = set(rerun)
        self._cloned: Set[AttemptRef] = set()  # attempts in the new run

    def clone(self, planned: PlannedTask, task_id: str) -> Optional[Finished]:
        if planned.step in self.rerun or not all(ref in self._cloned for ref in planned.inputs):
            return None
        found = self.origin.ok.get(planned.key)
        if found is None:
            return None
        origin = found.ref
        start = replace(
            found.start,
            attempt=0,
            started_at=time.time(),
            inputs=planned.inputs,
            foreach_stack=planned.foreach_stack,
            cloned_from=origin,
            loops=loop_key(planned.loops),
        )
        self.meta.start_attempt(self.flow, self.new_run, origin.step, task_id, start)
        end = replace(found.end, attempt=0, cloned_from=origin, logs_from=found.end.logs_from or origin)
        self.meta.finish_attempt(self.flow, self.new_run, origin.step, task_id, end)
        ref = AttemptRef(origin.step, task_id, 0)
        self._cloned.add(ref)
        return _finished(self.graph, ref, planned, found.end)


def plan_resume(
    graph: Graph, meta: MetadataStore, flow: str, origin_run: str, new_run: str, step: Optional[str]
) -> Tuple[Clones, str]:
    """The clone source and the step the resume starts from.

    Without a step, every task that succeeded is reused and only what failed
    or never ran runs again (so no completed task is ever re-executed). With
    a step, that step and everything downstream of it run again.
    """
    origin = OriginRun(meta, flow, origin_run)
    if step is None:
        step = first_failed_step(graph, origin)
        if step is None:
            if meta.run_end(flow, origin_run) is None:
                # Every task finished but the orchestrator died before recording the end of the run:
                # the resume clones them all and records the run that was in fact complete.
                return Clones(graph, meta, flow, new_run, origin, ()), graph.steps[-1].name
            raise ResumeError(
                "Run %s/%s has no failed step to resume from: it succeeded." % (flow, origin_run),
                "Name a step to re-run from it: orch resume FLOW.py STEP.",
            )
        return Clones(graph, meta, flow, new_run, origin, ()), step
    if step not in graph:
        raise ResumeError(
            "Flow %s has no step '%s' to resume from." % (flow, step),
            "Steps are: %s." % ", ".join(n.name for n in graph),
        )
    return Clones(graph, meta, flow, new_run, origin, downstream(graph, step)), step
