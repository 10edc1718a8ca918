"""``spin``: run one task of a past run again, with its exact inputs, in the flow's current code.

A person debugging a step edits it and spins the task that failed (or any
task): the same parent artifacts, foreach frames, parameters and configs,
the step's own environment, and the executor of a run (local processes or
Docker), in seconds. Metaflow 2.19 calls this ``spin``.

The task runs in a run of its own in a **scratch store** (``./.orch_spin``
unless ``--persist``, which makes it a run of the flow's store): its parents'
records are copied in (their blobs hard-linked when both stores are local
directories), so the spun task reads exactly what the original read, the
client reads its artifacts from the scratch store, and the flow's store
gains no run that is not a run. The task keeps the original's id, so
``RUN/STEP/TASK`` lines up with the task it repeats.

As in Metaflow, only the decorators that shape where and how the code runs
apply (``@conda``, ``@pypi``, ``@environment``, ``@timeout``, ``@secrets``,
``@sandbox``); ``@retry``, ``@catch``, ``@batch`` and the like do not, so a
failure shows at once and on this machine. ``@parallel`` steps cannot spin.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..authoring.loader import LoadedFlow
from ..backends.spec import Backend
from ..config import Config
from ..errors import OrchError, UsageError
from ..graph.model import Graph
from ..ids import in_order, task_path
from ..plan import Finished, PlannedTask, Planner
from ..store.artifacts import save_artifact
from ..store.cas import ContentAddressedStore
from ..store.copying import copy_keys
from ..store.factory import open_backend
from ..store.location import StoreLocation
from ..store.metadata import MetadataStore
from ..store.names import check_name
from ..store.records import AttemptStart, RunRecord
from .launch import stored_values
from .session import Prepared, RunOptions, RunResult, RunSession, Values

SCRATCH_DIR = ".orch_spin"
# What still applies to a spun step (Metaflow's SPIN_ALLOWED_DECORATORS, in orch's names)
KEPT_DECORATORS = ("conda", "pypi", "environment", "timeout", "secrets", "sandbox", "resources", "card")


@dataclass(frozen=True)
class SpinRequest:
    pathspec: str  # STEP, RUN/STEP, RUN/STEP/TASK, FLOW/RUN/STEP or FLOW/RUN/STEP/TASK
    persist: bool = False  # a run of the flow's own store, not of the scratch store
    skip_decorators: bool = False  # not even the environment decorators
    artifacts: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # replace the inputs' values
    scratch: Optional[str] = None  # the scratch store; default ./.orch_spin


@dataclass(frozen=True)
class Origin:
    """The task to spin, in the flow's store."""

    run_id: str
    step: str
    task_id: str
    start: AttemptStart
    record: RunRecord

    @property
    def pathspec(self) -> str:
        return task_path(self.record.flow, self.run_id, self.step, self.task_id).in_run


@dataclass(frozen=True)
class SpinResult:
    run: RunResult
    step: str
    task_id: str
    store_url: str
    origin: str  # RUN/STEP/TASK it repeated

    @property
    def pathspec(self) -> str:
        return str(task_path(self.run.flow, self.run.run_id, self.step, self.task_id))


def find_origin(meta: MetadataStore, flow: str, given: str) -> Origin:
    """Metaflow's spin pathspec forms; with no run, the flow's latest, and with no task, the step's first."""
    parts = given.strip("/").split("/")
    run_id: Optional[str] = None
    task_id: Optional[str] = None
    if len(parts) == 1:
        step = parts[0]
    elif len(parts) == 2:
        run_id, step = parts
    elif len(parts) == 3 and parts[0] == flow:
        _, run_id, step = parts
    elif len(parts) == 3:
        run_id, step, task_id = parts
    elif len(parts) == 4:
        if parts[0] != flow:
            raise UsageError("%s names flow %s, but the flow file defines %s." % (given, parts[0], flow))
        _, run_id, step, task_id = parts
    else:
        raise UsageError("Give the task to spin as STEP, RUN/STEP or RUN/STEP/TASK, not %r." % given)
    check_name("step", step)
    if run_id is None:
        run_id = meta.latest_run(flow)
        if run_id is None:
            raise OrchError("Flow %s has no runs in this store to spin a task of." % flow, "Run it first: orch run.")
    record = meta.run_record(flow, check_name("run", run_id))
    if record is None:
        raise OrchError("Run %s/%s does not exist in this store." % (flow, run_id), "List runs: orch runs %s." % flow)
    latest = meta.latest_attempts(flow, run_id, step)
    tasks = in_order(t for (_, t) in latest)
    if task_id is not None:
        tasks = [t for t in tasks if t == check_name("task", task_id)]
    if not tasks:
        raise OrchError("Run %s/%s has no task %s." % (flow, run_id, "/".join(parts[-2:] if task_id else [step])))
    start = meta.attempt_start(flow, run_id, step, tasks[0], latest[(step, tasks[0])].attempt)
    if start is None:
        raise OrchError(
            "Task %s/%s/%s/%s never started: there are no inputs to spin it with." % (flow, run_id, step, tasks[0])
        )
    return Origin(run_id, step, tasks[0], start, record)


class _OneTask(Planner):
    """Plans exactly the spun task, and nothing after it."""

    def __init__(self, graph: Graph, task: PlannedTask) -> None:
        super().__init__(graph)
        self.task = task

    def start(self) -> List[PlannedTask]:
        return [self.task]

    def on_success(self, done: Finished) -> List[PlannedTask]:
        return []


def spin_graph(graph: Graph, step: str, skip_decorators: bool) -> Graph:
    """The graph with the spun step's decorators cut to those that still apply."""
    node = graph[step]
    if node.decorator("parallel") is not None:
        raise UsageError("Step '%s' is a @parallel step, and a gang cannot be spun one task at a time." % step)
    kept = () if skip_decorators else tuple(d for d in node.decorators if d.NAME in KEPT_DECORATORS)
    steps = tuple(replace(n, decorators=kept) if n.name == step else n for n in graph.steps)
    return replace(graph, steps=steps, _index={})


def _bring_inputs(
    origin: Origin, flow: str, source: Any, target: Any, run_id: str, artifacts: Mapping[str, Any]
) -> None:
    """Copy the parents' records (and, into another store, their blobs) into the spin run. Values from
    --artifacts-module replace the parent's (a step with one parent only)."""
    source_meta, target_meta = MetadataStore(source), MetadataStore(target)
    source_cas, target_cas = ContentAddressedStore(source), ContentAddressedStore(target)
    if artifacts and len(origin.start.inputs) != 1:
        raise UsageError(
            "--artifacts-module needs a step with one parent; %s has %d." % (origin.step, len(origin.start.inputs))
        )
    keys = [r.blob_keys for r in list(origin.record.parameters.values()) + list(origin.record.configs.values())]
    for ref in origin.start.inputs:
        end = source_meta.attempt_end(flow, origin.run_id, ref.step, ref.task, ref.attempt)
        start = source_meta.attempt_start(flow, origin.run_id, ref.step, ref.task, ref.attempt)
        if end is None or not end.succeeded or start is None:
            raise OrchError("Input %s/%s of the task has no successful attempt to spin from." % (origin.run_id, ref))
        keys.extend(r.blob_keys for r in end.artifacts.values())
        copied_from = ref.in_run(origin.run_id)
        records = dict(end.artifacts)
        records.update({name: save_artifact(target_cas, name, value) for name, value in artifacts.items()})
        logs = (end.logs_from or copied_from) if source is target else None
        target_meta.start_attempt(flow, run_id, ref.step, ref.task, replace(start, cloned_from=copied_from))
        target_meta.finish_attempt(
            flow, run_id, ref.step, ref.task, replace(end, artifacts=records, cloned_from=copied_from, logs_from=logs)
        )
    if source is not target:
        copy_keys(source, target, (source_cas.key_path(k) for group in keys for k in group))


class SpinRun(RunSession):
    """The spin strategy: one task, its inputs copied in, in the scratch store (or the flow's)."""

    def __init__(self, loaded: LoadedFlow, config: Config, options: RunOptions, request: SpinRequest) -> None:
        self.source = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
        self.origin = find_origin(MetadataStore(self.source), loaded.name, request.pathspec)
        self.request = request
        loaded = dataclasses.replace(loaded, graph=spin_graph(loaded.graph, self.origin.step, request.skip_decorators))
        if not request.persist:
            scratch = StoreLocation.parse(request.scratch or os.path.join(os.getcwd(), SCRATCH_DIR))
            config = replace(config, store=scratch)
        super().__init__(loaded, config, options, self.source if request.persist else None)
        self.origin_run_id, self.origin_record = self.origin.run_id, self.origin.record

    def values(self) -> Values:
        origin = self.origin
        if origin.record.parameters and self.store is not self.source:  # the record takes them by reference
            keys = (k for r in origin.record.parameters.values() for k in r.blob_keys)
            copy_keys(self.source, self.store, (self.cas.key_path(k) for k in keys))
        return stored_values(self.loaded, self.config, self.options, self.cas, origin.record, None)

    def targets(self, here: Backend) -> Dict[str, Backend]:
        return {self.origin.step: here}

    def run_created(self, run_id: str, prepared: Prepared) -> Dict[str, Any]:
        origin = self.origin
        _bring_inputs(origin, self.loaded.name, self.source, self.store, run_id, self.request.artifacts)
        task = PlannedTask(origin.step, origin.start.inputs, origin.start.foreach_stack, _loops(origin.start))
        return {"planner": _OneTask(self.loaded.graph, task), "task_ids": iter([origin.task_id])}

    def attributes(self) -> Dict[str, Any]:
        return {"step_name": self.origin.step, "task_id": self.origin.task_id}

    def headline(self) -> str:
        return "Spinning %s/%s" % (self.loaded.name, self.origin.pathspec)

    def max_workers(self) -> int:
        return 1


def spin(loaded: LoadedFlow, config: Config, options: RunOptions, request: SpinRequest) -> SpinResult:
    """Run the task again in a spin run; its artifacts land in the scratch store (or the flow's with persist)."""
    session = SpinRun(loaded, config, options, request)
    result = session.execute()
    origin = session.origin
    return SpinResult(result, origin.step, origin.task_id, session.config.store_url, origin.pathspec)


def _loops(start: AttemptStart) -> Tuple[int, ...]:
    """The planner's loop counts (one per foreach level plus one) from a start record's recorded key."""
    depth = len(start.foreach_stack) + 1
    return tuple(start.loops) if start.loops else (0,) * depth
