"""The client API, Metaflow-compatible: read runs and artifacts from a notebook or a script.

    from orchestrator import Flow
    Flow('GenreStatsFlow').latest_successful_run.data.genre_stats

Objects are read-only views over the store (local directory or S3); nothing
is cached between calls except the records an object already read, and
artifacts load only when asked for. The store is ``metadata(url)`` if set,
else ``ORCH_STORE``, else ``./.orch``, resolved when first needed.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Tuple

from ..exception import MetaflowExceptionWrapper
from ..ids import PARALLEL_VAR, Pathspec, in_order, run_path, task_path
from ..store.artifacts import ArtifactRecord, load_artifact
from ..store.backend import MissingKey
from ..store.metadata import attempt_log_key
from ..store.records import AttemptEnd, AttemptStart, RunEnd, RunRecord
from .parts import Code, DataArtifact, Metadata, MetaflowData, Same, task_metadata
from .state import (
    ClientError,
    MissingChild,
    NamespaceMismatch,
    get_metadata,
    get_namespace,
    opened_store,
    timestamp_of,
)
from .triggered import Trigger


class _InRun(Same):
    """What a step or a task shares with its run: Metaflow gives them the run's tags."""

    flow_name: str
    run_id: str
    pathspec: str

    def _run(self) -> Run:
        cached = self.__dict__.get("_run_object")
        if cached is None:
            cached = self.__dict__["_run_object"] = Run(
                str(run_path(self.flow_name, self.run_id)), _check_namespace=False
            )
        return cached

    @property
    def tags(self) -> FrozenSet[str]:
        return self._run().tags

    @property
    def user_tags(self) -> FrozenSet[str]:
        return self._run().user_tags

    @property
    def system_tags(self) -> FrozenSet[str]:
        return self._run().system_tags

    @property
    def path_components(self) -> List[str]:
        return list(self._path.parts)


def _parse(pathspec: str, depth: int, form: str) -> Pathspec:
    try:
        return Pathspec.parse(pathspec, depth)
    except ValueError:
        raise ClientError("%s, not %r." % (form, pathspec)) from None


class Task(_InRun):
    def __init__(self, pathspec: str, _attempt: Optional[int] = None, _namespace_check: bool = True) -> None:
        self._path = _parse(pathspec, 4, "Task pathspecs look like Flow/run/step/task")
        self.flow_name, self.run_id, self.step_name, self.id = self._path.parts
        self.pathspec = str(self._path)
        self._attempt = _attempt  # the latest attempt, when the Step that made this Task already knows it
        self._end: Optional[AttemptEnd] = None
        self._start: Optional[AttemptStart] = None

    def _latest(self) -> int:
        if self._attempt is None:
            _, meta, _ = opened_store()
            latest = meta.latest_attempts(self.flow_name, self.run_id, self.step_name).get((self.step_name, self.id))
            if latest is None:
                raise ClientError("Task %s does not exist." % self.pathspec)
            self._attempt = latest.attempt
        return self._attempt

    def _end_record(self) -> Optional[AttemptEnd]:
        """The latest attempt's end, or None while it runs."""
        if self._end is None:
            _, meta, _ = opened_store()
            self._end = meta.attempt_end(self.flow_name, self.run_id, self.step_name, self.id, self._latest())
        return self._end

    def _start_record(self) -> Optional[AttemptStart]:
        if self._start is None:
            _, meta, _ = opened_store()
            self._start = meta.attempt_start(self.flow_name, self.run_id, self.step_name, self.id, self._latest())
        return self._start

    def _records(self) -> Dict[str, ArtifactRecord]:
        end = self._end_record()
        return dict(end.artifacts) if end is not None else {}

    @property
    def data(self) -> MetaflowData:
        return MetaflowData(self)

    @property
    def artifacts(self) -> List[DataArtifact]:
        return [DataArtifact(self, n, r) for n, r in sorted(self._records().items())]

    def __getitem__(self, name: str) -> DataArtifact:
        records = self._records()
        if name not in records:
            raise MissingChild(
                "Task %s has no artifact '%s'." % (self.pathspec, name),
                "Its artifacts are: %s." % (", ".join(sorted(records)) or "none"),
            )
        return DataArtifact(self, name, records[name])

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self.artifacts)

    def __contains__(self, name: str) -> bool:
        return name in self._records()

    @property
    def metadata(self) -> List[Metadata]:
        """What the task's attempts recorded, as Metaflow's entries (see ``parts.task_metadata``)."""
        return task_metadata(self, opened_store()[1])

    @property
    def metadata_dict(self) -> Dict[str, str]:
        """name → value of ``metadata`` (the latest entry of each name), as Metaflow's."""
        return {entry.name: entry.value for entry in self.metadata}

    def _origin(self) -> Optional[Any]:
        end = self._end_record()
        return end.cloned_from if end else None

    @property
    def parent(self) -> Step:
        return Step(str(Pathspec(self.flow_name, self.run_id, self.step_name)))

    @property
    def parent_task_pathspecs(self) -> Iterator[str]:
        """The tasks this one read its inputs from (for a join, one per branch)."""
        start = self._start_record()
        for ref in start.inputs if start else ():
            yield str(task_path(self.flow_name, self.run_id, ref.step, ref.task))

    @property
    def parent_tasks(self) -> Iterator[Task]:
        for pathspec in self.parent_task_pathspecs:
            yield Task(pathspec, _namespace_check=False)

    @property
    def child_task_pathspecs(self) -> Iterator[str]:
        """The tasks that read this one's outputs: found by reading the start records of the steps
        this step leads to (only those steps, not the whole run)."""
        _, meta, _ = opened_store()
        record = self._run()._record
        node = next((n for n in record.graph.get("steps", []) if n.get("name") == self.step_name), {})
        for step in node.get("next", []):
            for (_, task), latest in sorted(meta.latest_attempts(self.flow_name, self.run_id, step).items()):
                start = meta.attempt_start(self.flow_name, self.run_id, step, task, latest.attempt)
                if start and any(ref.step == self.step_name and ref.task == self.id for ref in start.inputs):
                    yield str(task_path(self.flow_name, self.run_id, step, task))

    @property
    def child_tasks(self) -> Iterator[Task]:
        for pathspec in self.child_task_pathspecs:
            yield Task(pathspec, _namespace_check=False)

    @property
    def successful(self) -> bool:
        """Metaflow's rule: the step returned. A failure ``@catch`` caught is finished, not successful."""
        end = self._end_record()
        return end is not None and end.successful

    @property
    def finished(self) -> bool:
        """Metaflow's rule: the flow goes on from the task (``@catch`` included); a failed one is not."""
        end = self._end_record()
        return end is not None and end.succeeded

    @property
    def current_attempt(self) -> int:
        return self._latest()

    @property
    def exception(self) -> Optional[MetaflowExceptionWrapper]:
        """The failure of the latest attempt as Metaflow's ``MetaflowExceptionWrapper``, or None. A process
        that died (timeout, kill, OOM) has its state as the type: orch records why, Metaflow nothing."""
        end = self._end_record()
        if end is None or (end.died is None and end.exception is None):
            return None
        if end.died is not None:
            return MetaflowExceptionWrapper.from_parts(end.died.state.value, end.died.message)
        return MetaflowExceptionWrapper.from_parts(end.exception.type, end.exception.message, end.exception.traceback)

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        start = self._start_record()
        return timestamp_of(start.started_at if start else None)

    @property
    def finished_at(self) -> Optional[_dt.datetime]:
        """When the latest attempt ended, failed or not; None while it runs or when its process died."""
        end = self._end_record()
        return timestamp_of(end.finished_at if end is not None and end.died is None else None)

    @property
    def index(self) -> Optional[int]:
        start = self._start_record()
        return start.foreach_index if start else None

    @property
    def foreach_stack(self) -> List[Tuple[str, int, int]]:
        """(split step, index, number of splits), outermost first."""
        start = self._start_record()
        return [(f.step, f.index, f.num_splits) for f in (start.foreach_stack if start else ())]

    @property
    def cached_from(self) -> Optional[str]:
        """For a task step memoization reused: FLOW/RUN/STEP/TASK of the task whose results it took."""
        end = self._end_record()
        source = end.memo.cached_from if end is not None and end.memo is not None else None
        return str(task_path(self.flow_name, source.run, source.step, source.task)) if source else None

    @property
    def origin_pathspec(self) -> Optional[str]:
        """For a task cloned by resume: the task it was cloned from."""
        end = self._end_record()
        origin = end.cloned_from if end else None
        return str(task_path(self.flow_name, origin.run, origin.step, origin.task)) if origin else None

    def _log(self, stream: str) -> str:
        backend, _, _ = opened_store()
        end = self._end_record()
        key = attempt_log_key(self.flow_name, self.run_id, self.step_name, self.id, self._latest(), end, stream)
        try:
            return bytes(backend.get(key)).decode("utf-8", "replace")
        except MissingKey:
            return ""

    def loglines(self, stream: str = "stdout") -> Iterator[Tuple[Optional[_dt.datetime], str]]:
        """(time, line) for each line of a log, as Metaflow's. orch's logs carry no time per line:
        every line has the attempt's start time."""
        if stream not in ("stdout", "stderr"):
            raise ClientError("loglines() reads 'stdout' or 'stderr', not %r." % (stream,))
        when = self.created_at
        for line in self._log(stream).splitlines():
            yield when, line

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    def __repr__(self) -> str:
        return "Task('%s')" % self.pathspec


class Step(_InRun):
    def __init__(self, pathspec: str) -> None:
        self._path = _parse(pathspec, 3, "Step pathspecs look like Flow/run/step")
        self.flow_name, self.run_id, self.id = self._path.parts
        self.pathspec = str(self._path)

    def _latest_attempts(self) -> Dict[str, int]:
        """task id → latest attempt, from one listing of this step (not one per task)."""
        _, meta, _ = opened_store()
        found = meta.latest_attempts(self.flow_name, self.run_id, self.id)
        return {task: latest.attempt for (_, task), latest in found.items()}

    def _task_ids(self) -> List[str]:
        return in_order(self._latest_attempts())

    def tasks(self, *tags: str) -> List[Task]:
        if tags and not all(t in self.tags for t in tags):
            return []
        latest = self._latest_attempts()
        ids = in_order(latest)
        return [Task(str(self._path.child(t)), _attempt=latest[t]) for t in ids]

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks())

    def __getitem__(self, task_id: str) -> Task:
        if str(task_id) not in self._task_ids():
            raise MissingChild("Step %s has no task %s." % (self.pathspec, task_id))
        return Task(str(self._path.child(task_id)))

    @property
    def parent(self) -> Run:
        return self._run()

    def _node(self) -> Dict[str, Any]:
        steps = self._run()._record.graph.get("steps", [])
        return next((n for n in steps if n.get("name") == self.id), {})

    @property
    def child_steps(self) -> Iterator[Step]:
        """The steps this one leads to, from the run's graph (those that ran)."""
        ran = {s.id for s in self._run().steps()}
        for name in self._node().get("next", []):
            if name in ran:
                yield Step(str(Pathspec(self.flow_name, self.run_id, name)))

    @property
    def parent_steps(self) -> Iterator[Step]:
        for name in self._node().get("in", []):
            yield Step(str(Pathspec(self.flow_name, self.run_id, name)))

    @property
    def origin_pathspec(self) -> Optional[str]:
        """For a step of a resumed run: the same step in the run it was resumed from."""
        origin = self._run().origin_run_id
        return str(Pathspec(self.flow_name, origin, self.id)) if origin else None

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        task = self.task
        return task.created_at if task else None

    @property
    def finished_at(self) -> Optional[_dt.datetime]:
        ends = [t.finished_at for t in self.tasks()]
        return max(ends) if ends and all(ends) else None

    def control_tasks(self) -> Iterator[Task]:
        """A ``@parallel`` step's control tasks (node 0 of each gang), as Metaflow's."""
        for task in self.tasks():
            start = task._start_record()
            frames = start.foreach_stack if start else ()
            if frames and frames[-1].var == PARALLEL_VAR and frames[-1].index == 0:
                yield task

    @property
    def task(self) -> Optional[Task]:
        """One task of the step (the only one, unless it is a foreach)."""
        ids = self._task_ids()
        return Task(str(self._path.child(ids[0]))) if ids else None

    def __repr__(self) -> str:
        return "Step('%s')" % self.pathspec


class Run(Same):
    def __init__(self, pathspec: str, _check_namespace: bool = True) -> None:
        self._path = _parse(pathspec, 2, "Run pathspecs look like Flow/run_id")
        self.flow_name, self.id = self._path.parts
        self.pathspec = str(self._path)
        _, meta, _ = opened_store()
        record = meta.run_record(self.flow_name, self.id)
        if record is None:
            raise ClientError("Run %s does not exist in %s." % (pathspec, get_metadata()))
        self._record: RunRecord = record
        self._end: Optional[RunEnd] = None
        self._ended = False
        self._user_tags: Optional[List[str]] = None  # read on first use: one listing of the run's tag changes
        ns = get_namespace()
        if _check_namespace and ns is not None and not self._has_tag(ns):
            raise NamespaceMismatch(
                "Run %s is not in namespace %s." % (pathspec, ns), "Call namespace(None) to see every run."
            )

    def _has_tag(self, tag: str) -> bool:
        """System tags first: they are in the record, and most namespaces are one (``user:...``)."""
        return tag in self._record.system_tags or tag in self.user_tags

    def _end_record(self) -> Optional[RunEnd]:
        if not self._ended:
            self._end = opened_store()[1].run_end(self.flow_name, self.id)
            self._ended = self._end is not None
        return self._end

    @property
    def user_tags(self) -> FrozenSet[str]:
        """The user tags now: those the run started with, changed by ``add_tag``... or ``orch tag``."""
        if self._user_tags is None:
            self._user_tags = list(opened_store()[1].user_tags(self.flow_name, self.id, self._record))
        return frozenset(self._user_tags)

    @property
    def system_tags(self) -> FrozenSet[str]:
        return frozenset(self._record.system_tags)

    @property
    def tags(self) -> FrozenSet[str]:
        """User and system tags, as Metaflow's ``Run.tags``."""
        return self.user_tags | self.system_tags

    def replace_tags(self, tags_to_remove: Any, tags_to_add: Any) -> FrozenSet[str]:
        """Remove then add user tags in one change (Metaflow's rules: see ``tagging``)."""
        from ..config import Config
        from .tagging import mutate

        user = Config.from_env().username
        meta = opened_store()[1]
        self._user_tags = list(mutate(meta, self.flow_name, self.id, tags_to_add, tags_to_remove, user, self._record))
        return self.tags

    def add_tag(self, tag: str) -> FrozenSet[str]:
        return self.replace_tags([], [tag] if isinstance(tag, (str, bytes)) else tag)

    def add_tags(self, tags: Any) -> FrozenSet[str]:
        return self.replace_tags([], tags)

    def remove_tag(self, tag: str) -> FrozenSet[str]:
        return self.replace_tags([tag] if isinstance(tag, (str, bytes)) else tag, [])

    def remove_tags(self, tags: Any) -> FrozenSet[str]:
        return self.replace_tags(tags, [])

    def replace_tag(self, tag_to_remove: Any, tag_to_add: Any) -> FrozenSet[str]:
        one = lambda t: [t] if isinstance(t, (str, bytes)) else t  # noqa: E731 - Metaflow takes a tag or tags
        return self.replace_tags(one(tag_to_remove), one(tag_to_add))

    @property
    def user(self) -> str:
        return self._record.user

    @property
    def parent(self) -> Flow:
        return Flow(self.flow_name)

    @property
    def origin_pathspec(self) -> Optional[str]:
        """For a resumed run: the run it was resumed from."""
        return str(run_path(self.flow_name, self.origin_run_id)) if self.origin_run_id else None

    @property
    def path_components(self) -> List[str]:
        return [self.flow_name, self.id]

    @property
    def successful(self) -> bool:
        """Metaflow's rule: the run's end task is successful."""
        end = self.end_task
        return end is not None and end.successful

    @property
    def finished(self) -> bool:
        """Metaflow's rule: the run's end task finished."""
        end = self.end_task
        return end is not None and end.finished

    @property
    def status(self) -> str:
        """'succeeded', 'failed', or 'running' (also a run whose orchestrator was killed)."""
        end = self._end_record()
        return end.status.value if end is not None else "running"

    @property
    def created_at(self) -> Optional[_dt.datetime]:
        return timestamp_of(self._record.created_at)

    @property
    def finished_at(self) -> Optional[_dt.datetime]:
        """When the end task finished (Metaflow's rule), or None when the run never reached it."""
        end = self.end_task
        return end.finished_at if end is not None else None

    @property
    def origin_run_id(self) -> Optional[str]:
        return self._record.origin_run_id

    @property
    def parameters(self) -> Dict[str, Any]:
        cas = opened_store()[2]
        return {
            name: load_artifact(cas, record, "parameter '%s' of %s" % (name, self.pathspec))
            for name, record in sorted(self._record.parameters.items())
        }

    @property
    def code(self) -> Optional[Code]:
        code = self._record.code
        return Code(code.key, code.flow_file) if code else None

    def steps(self, *tags: str) -> List[Step]:
        """The steps that ran, in graph order; with tags, only if the run has every one (a step's
        tags are its run's, as in Metaflow)."""
        if not all(self._has_tag(t) for t in tags):
            return []
        order = [s["name"] for s in self._record.graph.get("steps", [])]
        _, meta, _ = opened_store()
        present = {s for s, _, _, _ in meta.task_files(self.flow_name, self.id)}
        return [Step(str(self._path.child(s))) for s in order if s in present]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __getitem__(self, step: str) -> Step:
        if step not in {s.id for s in self.steps()}:
            raise MissingChild("Run %s has no step '%s'." % (self.pathspec, step))
        return Step(str(self._path.child(step)))

    def __contains__(self, step: str) -> bool:
        return step in {s.id for s in self.steps()}

    @property
    def end_task(self) -> Optional[Task]:
        return Step(str(self._path.child("end"))).task if "end" in self else None

    @property
    def trigger(self) -> Optional[Trigger]:
        """What started this run when a deployment's rule did (an event, a finished run); else None."""
        return Trigger(self._record.trigger, Run) if self._record.trigger else None

    @property
    def data(self) -> Optional[MetaflowData]:
        """The artifacts of the end task (failed or not, as Metaflow), or None when the run did not reach it."""
        task = self.end_task
        return task.data if task is not None else None

    def __repr__(self) -> str:
        return "Run('%s')" % self.pathspec


class Flow(Same):
    def __init__(self, name: str) -> None:
        self.id = self.pathspec = name
        if not opened_store()[1].runs(name):
            raise ClientError(
                "Flow %s has no runs in %s." % (name, get_metadata()),
                "Check the name, or point the client at the right store with metadata(url).",
            )

    # Metaflow's flows carry no tags of their own (runs do)
    tags = user_tags = system_tags = property(lambda self: frozenset())

    @property
    def path_components(self) -> List[str]:
        return [self.id]

    def _run_ids(self) -> List[str]:
        return opened_store()[1].runs_in_order(self.id, newest_first=True)

    def runs(self, *tags: str) -> List[Run]:
        """Runs newest first, in the current namespace, having every tag given."""
        found = []
        for run_id in self._run_ids():
            run = Run(str(run_path(self.id, run_id)), _check_namespace=False)
            ns = get_namespace()
            if (ns is None or run._has_tag(ns)) and all(run._has_tag(t) for t in tags):
                found.append(run)
        return found

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs())

    def __getitem__(self, run_id: str) -> Run:
        return Run(str(run_path(self.id, run_id)))

    @property
    def latest_run(self) -> Optional[Run]:
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self) -> Optional[Run]:
        return next((r for r in self.runs() if r.successful), None)

    def __repr__(self) -> str:
        return "Flow('%s')" % self.id
