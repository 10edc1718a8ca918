"""Run one attempt of one task: load, execute the step, commit artifacts and the attempt record.

The attempt's ``done`` record is written last and in one atomic put, with
the artifact index inside it: if the process dies before that, the attempt
has no record and the scheduler records the failure. A step that raises
records the exception (type, message, traceback); with ``@catch`` on its
last attempt the exception is stored in the catch variable and the flow
goes on.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ..authoring.current import current
from ..authoring.decorators import bind_configs, step_decorators
from ..authoring.flowmodule import import_flow_class
from ..authoring.flowspec import FAILURE_HANDLED_BY_CATCH, FlowSpec, ForeachFrame, Transition
from ..authoring.parameters import flow_parameters
from ..authoring.secret_sources import INLINE, fetch
from ..authoring.user_configs import flow_configs, stored
from ..errors import OrchError
from ..exception import MetaflowExceptionWrapper, TimeoutException, type_name
from ..ids import AttemptRef, task_path
from ..states import Status
from ..store.artifacts import ArtifactRecord, load_artifact, save_artifact
from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore, log_key
from ..store.records import AttemptEnd, AttemptStart, ExceptionInfo, MemoInfo, RunRecord
from .capture import redirect_output
from .inputs import ArtifactSource, Inputs, JoinInput, ReadLog, branch_scope, inputs_digest
from .spec import TaskSpec
from .supervise import EXIT_MARKER

_UNREAD = object()


class StepContractError(OrchError):
    """The step did not do what the static graph says it does (self.next, foreach)."""


class TaskRunner:
    def __init__(self, spec: TaskSpec, backend: Optional[Backend] = None) -> None:
        self.spec = spec
        self.backend = backend or open_backend(spec.store_url)
        self.cas = ContentAddressedStore(self.backend)
        self.meta = MetadataStore(self.backend)
        self._run: Any = _UNREAD
        self._reads = ReadLog() if spec.cache else None  # a cached step notes what it reads
        self._caught: Optional[ExceptionInfo] = None  # what @catch caught: never a cache entry
        self._salvaged: Dict[str, ArtifactRecord] = {}  # a failed step's artifacts, kept as Metaflow keeps them
        self._written: Tuple[str, ...] = ()
        self._deleted: Tuple[str, ...] = ()
        self._cards: Any = None  # a CardSession when the step has @card
        self._caught_trace: Optional[str] = None

    # inputs

    def _task_records(self, ref: AttemptRef) -> Dict[str, ArtifactRecord]:
        """The artifact index of an input attempt, from that attempt's end record."""
        end = self.meta.attempt_end(self.spec.flow, self.spec.run_id, ref.step, ref.task, ref.attempt)
        if end is None or not end.succeeded:
            raise OrchError(
                "Input task %s/%s/%s has no successful attempt %d."
                % (self.spec.run_id, ref.step, ref.task, ref.attempt)
            )
        return dict(end.artifacts)

    def _from_run_record(self) -> Dict[str, ArtifactRecord]:
        """What a task takes from its run's record: the parameters, configs and class-level constants
        every task carries as artifacts (returned), and the @project names (given to ``current``)."""
        run = self._run_record()
        if run is None:
            return {}
        if run.project:
            current._update(**dict(run.project))
        if run.trigger:
            current._update(trigger_record=dict(run.trigger))
        return dict(run.constants, **run.configs, **run.parameters)

    def _run_record(self) -> Optional[RunRecord]:
        if self._run is _UNREAD:
            self._run = self.meta.run_record(self.spec.flow, self.spec.run_id)
        return self._run

    def _bind_configs(self, flow_class: type) -> None:
        """Give the flow class the run's config values, so decorators that use them are built as the
        run built them on the host."""
        run = self._run_record()
        if run is None or not run.configs:
            return
        configs = dict(flow_configs(flow_class))
        values = {
            configs[attr].name: configs[attr].from_stored(
                load_artifact(self.cas, record, "config %s" % attr), "the run"
            )
            for attr, record in run.configs.items()
            if attr in configs
        }
        bind_configs(flow_class, values)

    def _where(self, ref: AttemptRef) -> str:
        """FLOW/RUN/STEP/TASK of an input task, for errors about its artifacts."""
        return str(task_path(self.spec.flow, self.spec.run_id, ref.step, ref.task))

    def prepare(self, flow: FlowSpec) -> Tuple[Optional[Inputs], Dict[str, ArtifactRecord]]:
        """Attach inherited artifacts (or join inputs) to ``flow``; return (inputs, inherited records)."""
        spec = self.spec
        params = self._from_run_record()
        inherited = dict(params)
        inputs = None
        frame_source = None
        if spec.is_join:
            branches, scopes = [], []
            for position, ref in enumerate(spec.inputs):
                scopes.append(branch_scope(ref.step, position, bool(spec.join_order)))
                records = self._task_records(ref)
                source = ArtifactSource(self.cas, records, self._where(ref), self._reads, scopes[-1])
                branches.append(JoinInput(ref.step, ref.task, source, None if spec.join_order else position))
            if spec.join_order:
                order = {s: i for i, s in enumerate(spec.join_order)}
                branches.sort(key=lambda b: order.get(b.name, len(order)))
            inputs = Inputs(branches)
            if self._reads is not None:  # which inputs there are is read by any join that iterates them
                self._reads.note("join", "inputs", inputs_digest(scopes))
            # The enclosing foreach's list is an artifact of every branch, not of the join itself.
            frame_source = branches[0].__dict__["_orch"][2] if branches else None
        elif spec.inputs:
            # The run's own values win over the parent's copies: a resumed run may give a config anew.
            inherited = dict(self._task_records(spec.inputs[0]), **params)
        source = ArtifactSource(self.cas, inherited, spec.pathspec, self._reads)
        flow.__dict__["_orch_source"] = source
        flow.__dict__["_orch_frame_source"] = frame_source or source
        flow._orch_foreach = tuple(
            ForeachFrame(f.step, f.var, num_splits=f.num_splits, index=f.index) for f in spec.foreach_stack
        )
        flow._current_step = spec.step  # Metaflow's name for it; flows in the wild read it
        flow.__dict__["_orch_is_join"] = spec.is_join
        return inputs, inherited

    # running

    def run(self, flow_class: Optional[type] = None) -> int:
        spec = self.spec
        stdout_path, stderr_path = spec.log_files(self.backend)
        redirect_output(stdout_path, stderr_path, getattr(self.backend, "ensure_folder", None))
        for name, value in spec.env:
            os.environ[name] = value
        started = time.time()
        self.meta.start_attempt(
            spec.flow,
            spec.run_id,
            spec.step,
            spec.task_id,
            AttemptStart(
                attempt=spec.attempt,
                started_at=started,
                inputs=spec.inputs,
                foreach_stack=spec.foreach_stack,
                host=socket.gethostname(),
                pid=os.getpid(),
                python="%d.%d.%d" % sys.version_info[:3],
                placement={key: os.environ[var] for key, var in spec.placement if os.environ.get(var)},
                loops=spec.loops,
            ),
        )
        current._set(
            flow_name=spec.flow,
            run_id=spec.run_id,
            step_name=spec.step,
            task_id=spec.task_id,
            retry_count=spec.attempt,
            origin_run_id=spec.origin_run_id,
            username=spec.username,
            tags=list(spec.tags),
            namespace="user:%s" % spec.username,
            store_url=spec.store_url,
        )
        if spec.parallel_control is not None:
            self._join_gang()
        self._cards = self._start_cards(started) if spec.cards else None
        failure: Optional[ExceptionInfo] = None
        self._chosen: Optional[str] = None
        try:
            artifacts, num_splits = self._execute(flow_class)
        except BaseException as exc:  # the step's failure, whatever it is, becomes the attempt's record
            traceback.print_exc()
            failure, artifacts, num_splits = describe_exception(exc, spec.code_dir), self._salvaged, None
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        cards = self._finish_cards(failure)
        end = AttemptEnd(
            attempt=spec.attempt,
            status=Status.FAILED if failure else Status.SUCCEEDED,
            started_at=started,
            finished_at=time.time(),
            artifacts=artifacts,
            next=() if failure else (self._chosen,) if self._chosen else spec.next_steps,
            num_splits=num_splits,
            exception=failure,
            memo=self._memo(failure is not None),
            cards=cards,
            caught=self._caught,
        )
        self._upload_logs(stdout_path, stderr_path)
        self.meta.finish_attempt(spec.flow, spec.run_id, spec.step, spec.task_id, end)
        return 1 if failure else 0

    # cards (@card)

    def _start_cards(self, started: float) -> Any:
        from ..cards.session import CardSession

        run = self._run_record()
        graph = dict(run.graph) if run is not None else {}
        spec = self.spec
        return CardSession(spec.cards, spec.pathspec, spec.attempt, self.backend, graph, started).install()

    def _bind_cards(self, flow: FlowSpec, inherited: Dict[str, ArtifactRecord]) -> None:
        """How cards read the task's artifacts: the step's own values from the flow object, inherited
        ones straight from the store (not through the flow, which would count them as the step's reads)."""

        def own() -> Dict[str, Any]:  # a copy first: a live render reads it while the step runs
            return {k: v for k, v in dict(flow.__dict__).items() if not k.startswith("_")}

        def names() -> List[str]:
            deleted = flow.__dict__.get("_orch_deleted", set())
            return sorted((set(inherited) - set(deleted)) | set(own()))

        source = flow.__dict__.get("_orch_source")
        kept = source.kept if source is not None else {}
        absent = object()

        def load(name: str) -> Any:
            value = flow.__dict__.get(name, absent)  # one key: no copy of the attributes needed
            if value is not absent:
                return value
            if name in kept and source.records[name] == inherited[name]:  # the foreach list self.input read
                return kept[name]
            return load_artifact(self.cas, inherited[name], "artifact %s" % name)

        def sizes() -> Dict[str, int]:
            values = own()
            return {name: record.size for name, record in inherited.items() if name not in values}

        self._cards.bind(flow, names, load, sizes, [attr for attr, _ in flow_parameters(type(flow))])

    def _finish_cards(self, failure: Optional[ExceptionInfo]) -> Tuple[Any, ...]:
        if self._cards is None:
            return ()
        try:
            error = self._caught_trace
            if failure is not None:
                error = "%s: %s\n\n%s" % (failure.type, failure.message, failure.traceback)
            return self._cards.finish(error)
        except Exception as exc:  # cards never fail the task
            print("@card WARNING: the cards of this task could not be stored: %s" % exc, file=sys.stderr)
            return ()

    def _memo(self, failed: bool) -> Optional[MemoInfo]:
        """A cached step's key and read set; no read set when it failed or @catch caught, so it is never
        reused."""
        if not self.spec.cache or self._reads is None:
            return None
        reads = None if failed or self._caught or self.spec.fallback_reason else self._reads.entries()
        outcome = "miss" if self.spec.cache.get("lookup", "on") == "on" else "refresh"
        return MemoInfo(self.spec.cache.get("key", {}), reads, self._written, self._deleted, outcome=outcome)

    def _execute(self, flow_class: Optional[type]) -> Tuple[Dict[str, ArtifactRecord], Optional[int]]:
        spec = self.spec
        if flow_class is None:
            flow_class = import_flow_class(spec.code_dir, spec.flow_file, spec.flow)
        self._bind_configs(flow_class)
        if spec.code_env:  # a stored spec (Batch) leaves @environment and @secrets out: take them from the code
            for decorator in step_decorators(getattr(flow_class, spec.step, None)):
                if decorator.NAME == "environment":
                    os.environ.update(dict(decorator.vars))
                elif decorator.NAME == "secrets":
                    os.environ.update(fetch([s for s in decorator.sources if s.type == INLINE]))
        current._update(parameter_names=[attr for attr, _ in flow_parameters(flow_class)])
        flow = flow_class(use_cli=False)
        inputs, inherited = self.prepare(flow)
        try:
            return self._run_step(flow, inputs, inherited)
        except BaseException:
            self._salvaged = self._persist(flow, inherited, salvage=True)
            raise

    def _run_step(
        self, flow: FlowSpec, inputs: Optional[Inputs], inherited: Dict[str, ArtifactRecord]
    ) -> Tuple[Dict[str, ArtifactRecord], Optional[int]]:
        spec = self.spec
        if self._cards is not None:
            self._bind_cards(flow, inherited)
        if spec.fallback_reason is not None:
            message = (
                "Task execution kept failing over %d attempts. Your code did not raise an exception. "
                "Something in the execution environment caused the failure: %s" % (spec.attempt, spec.fallback_reason)
            )
            self._catch(flow, MetaflowExceptionWrapper.from_parts(FAILURE_HANDLED_BY_CATCH, message))
        else:
            function = getattr(flow, spec.step)
            try:
                with step_alarm(spec.timeout, spec.step):
                    function(inputs) if spec.is_join else function()
            except Exception as exc:
                if not (spec.catch_var and spec.last_attempt):
                    raise
                caught = MetaflowExceptionWrapper.of(exc, traceback.format_exc())
                self._caught_trace = traceback.format_exc()  # a card of the step shows what @catch caught
                if spec.catch_print:  # on the task's stdout, as Metaflow's @catch prints it
                    print("@catch caught an exception from %s" % flow)
                    print("\n".join(">  " + line for line in self._caught_trace.splitlines()))
                print(
                    "@catch stored %s in self.%s; the flow continues." % (caught.type, spec.catch_var), file=sys.stderr
                )
                flow._orch_transition = None
                self._catch(flow, caught)
            else:
                if spec.catch_var:  # as Metaflow: after a step that succeeded, the catch variable is None
                    setattr(flow, spec.catch_var, None)
        num_splits = self._check_transition(flow)
        return self._persist(flow, inherited), num_splits

    def _catch(self, flow: FlowSpec, caught: MetaflowExceptionWrapper) -> None:
        self._caught = ExceptionInfo(caught.type, caught.exception, caught.stacktrace or "")
        if self.spec.catch_var:
            setattr(flow, self.spec.catch_var, caught)
        if self.spec.foreach_var is not None:
            raise StepContractError(
                "@catch cannot continue past foreach step '%s': the split's list is unknown." % self.spec.step,
                "Move the risky code out of the foreach split step.",
            )
        flow._orch_transition = Transition(self.spec.next_steps, None)

    def _join_gang(self) -> None:
        """A @parallel task: say who it is in the gang the way Metaflow does (``MF_PARALLEL_*``, which
        ``current.parallel`` and distributed frameworks read)."""
        frame = self.spec.foreach_stack[-1]
        os.environ.update(
            MF_PARALLEL_NUM_NODES=str(frame.num_splits),
            MF_PARALLEL_NODE_INDEX=str(frame.index),
            MF_PARALLEL_CONTROL_TASK_ID=str(self.spec.parallel_control),
        )
        os.environ.setdefault("MF_PARALLEL_MAIN_IP", "127.0.0.1")
        current._update(is_parallel=True)

    def _check_transition(self, flow: FlowSpec) -> Optional[int]:
        spec = self.spec
        transition = flow._orch_transition
        if not spec.next_steps:
            return None  # end step
        if transition is None and spec.parallel_control is not None and spec.foreach_stack[-1].index != 0:
            # As Metaflow's local runtime: a @parallel worker's transition is not checked (only the
            # control task's is), so a worker that returns early still joins.
            return None
        if transition is None:
            raise StepContractError(
                "Step '%s' finished without calling self.next()." % spec.step,
                "Make sure self.next(...) runs as its last statement (no early return).",
            )
        if spec.switch:
            chosen = transition.steps[0] if len(transition.steps) == 1 and transition.foreach is None else None
            if chosen not in spec.next_steps:
                raise StepContractError(
                    "Switch step '%s' chose %s, which is not one of its cases in the flow's graph (%s)."
                    % (
                        spec.step,
                        chosen or _describe(transition.steps, transition.foreach),
                        ", ".join(spec.next_steps),
                    ),
                    "Transitions must be static; the cases of self.next({...}, condition=...) are fixed.",
                )
            self._chosen = chosen
            return None
        if spec.parallel_split:
            if transition.num_parallel is None or tuple(transition.steps) != spec.next_steps:
                raise StepContractError(
                    "Step '%s' must call self.next(self.%s, num_parallel=N), as the flow's graph says."
                    % (spec.step, spec.next_steps[0])
                )
            return transition.num_parallel
        if tuple(transition.steps) != spec.next_steps or transition.foreach != spec.foreach_var:
            raise StepContractError(
                "Step '%s' called self.next(%s) but the flow's graph says self.next(%s)."
                % (
                    spec.step,
                    _describe(transition.steps, transition.foreach),
                    _describe(spec.next_steps, spec.foreach_var),
                ),
                "Transitions must be static; compute data, not the next step.",
            )
        if spec.foreach_var is None:
            return None
        return self._foreach_splits(flow, spec.foreach_var)

    def _foreach_splits(self, flow: FlowSpec, var: str) -> int:
        spec = self.spec
        try:
            items = getattr(flow, var)
        except AttributeError:
            raise StepContractError(
                "Step '%s' has foreach='%s' but sets no artifact self.%s." % (spec.step, var, var),
                "Assign the list to self.%s before self.next()." % var,
            ) from None
        if not (hasattr(items, "__len__") and hasattr(items, "__getitem__")):
            try:
                items = list(items)
            except TypeError:
                raise StepContractError(
                    "foreach='%s' in step '%s': self.%s is a %s, which is not iterable."
                    % (var, spec.step, var, type(items).__name__),
                    "Assign a list (or another iterable) to self.%s." % var,
                ) from None
            setattr(flow, var, items)
        count = len(items)
        if count == 0:
            raise StepContractError(
                "foreach='%s' in step '%s' has no elements." % (var, spec.step),
                "A foreach needs at least one element to run.",
            )
        return count  # more than --max-num-splits: the task succeeded, the run fails (the scheduler says so)

    def _persist(
        self, flow: FlowSpec, inherited: Dict[str, ArtifactRecord], salvage: bool = False
    ) -> Dict[str, ArtifactRecord]:
        """The attempt's artifacts: what it inherited, what the step set, and the flow's ``name``. With
        ``salvage`` (the step failed), a value that cannot be saved is left out with a warning instead
        of failing the record: the artifacts set before a failure are what people debug it with."""
        deleted = flow.__dict__.get("_orch_deleted", set())
        loaded = flow.__dict__.get("_orch_loaded", set())
        records = {n: r for n, r in inherited.items() if n not in deleted}
        written = []
        values = [(n, stored(v)) for n, v in list(flow.__dict__.items()) if not n.startswith("_")]
        if "name" not in records:  # Metaflow's artifact of every task; inherited unchanged after start
            values.insert(0, ("name", flow.name))
        for name, value in values:
            # Values read from the store are re-saved too (they may have been changed in
            # place); unchanged ones hash to the blobs they came from and write nothing.
            try:
                records[name] = save_artifact(self.cas, name, value, fresh=name not in loaded)
            except Exception as err:
                if not salvage:
                    raise
                print("orch: artifact %s of the failed step was not saved: %s" % (name, err), file=sys.stderr)
                continue
            before = inherited.get(name)
            if name not in loaded or before is None or before.digest != records[name].digest:
                written.append(name)
        self._written, self._deleted = tuple(sorted(written)), tuple(sorted(set(deleted) & set(inherited)))
        return records

    def _upload_logs(self, stdout_path: str, stderr_path: str) -> None:
        spec = self.spec
        for stream, path in (("stdout", stdout_path), ("stderr", stderr_path)):
            key = log_key(spec.flow, spec.run_id, spec.step, spec.task_id, spec.attempt, stream)
            if self.backend.local_path(key) == path:
                continue
            try:
                with open(path, "rb") as handle:
                    self.backend.put(key, [handle.read()])
            except FileNotFoundError:
                pass


@contextmanager
def step_alarm(timeout: Optional[Tuple[int, int, int]], step: str) -> Iterator[None]:
    """``@timeout``: raise ``TimeoutException`` inside the step when its time is up (SIGALRM), as
    Metaflow does, so ``@catch`` keeps what the step set before and ``@retry`` sees an exception. The
    scheduler still kills a task that outlives it (a step that blocks the signal)."""
    if not timeout or not hasattr(signal, "SIGALRM"):
        yield
        return
    hours, minutes, seconds = timeout

    def expire(signum: int, frame: Any) -> None:
        stack = "\n".join(">  " + line for text in traceback.format_stack(frame) for line in text.splitlines())
        message = "Step %s timed out after %d hours, %d minutes, %d seconds" % (step, hours, minutes, seconds)
        now = time.time()  # on the task's stdout with a timestamp, as Metaflow's logger writes it
        print("%s.%03d %s" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)), now % 1 * 1000, message))
        raise TimeoutException("%s\nStack when the timeout was raised:\n%s" % (message, stack))

    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except ValueError:  # not the main thread: the scheduler's kill is the only limit
        yield
        return
    signal.alarm(max(1, hours * 3600 + minutes * 60 + seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _describe(steps: Tuple[str, ...], foreach: Optional[str]) -> str:
    parts = ["self.%s" % s for s in steps] + (["foreach='%s'" % foreach] if foreach else [])
    return ", ".join(parts)


def describe_exception(exc: BaseException, code_dir: str = "") -> ExceptionInfo:
    """The attempt's failure, for its record: type, message, traceback, and ``where``: the innermost
    line of the flow's own code (``file.py:LINE in step``), so a failure can be shown in one line."""
    if isinstance(exc, OrchError):
        message = exc.format()
    else:
        message = str(exc)
    where = ""
    if code_dir:
        root = os.path.abspath(code_dir) + os.sep
        for frame in traceback.extract_tb(exc.__traceback__):
            if os.path.abspath(frame.filename).startswith(root):
                where = "%s:%d in %s" % (os.path.relpath(frame.filename, root), frame.lineno, frame.name)
    return ExceptionInfo(
        type=type_name(exc) if isinstance(exc, TimeoutException) else type(exc).__name__,
        message=message,
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        where=where,
        orch_error=isinstance(exc, OrchError),
    )


def run_task(spec: TaskSpec, flow_class: Optional[type] = None) -> int:
    return TaskRunner(spec).run(flow_class)


def main(argv: List[str]) -> int:
    """``python -m orchestrator.task SPEC.json``, ``-`` for stdin, ``--from-env`` for $ORCH_TASK_SPEC
    (``--entry NAME`` runs a backend's in-job entry instead: see ``__main__``).

    ``--warm``: a pre-started container. It imports the flow named by $ORCH_PRELOAD
    (code dir, flow file, flow name, one per line) first, then waits for its
    TaskSpec on stdin, so the task starts with interpreter and imports done. Its
    parent, PID 1 of the container, is ``supervise``, which explains an out-of-memory kill.
    """
    if argv[0] == "--warm":
        code_dir, flow_file, flow_name = os.environ.pop("ORCH_PRELOAD").split("\n")
        flow_class = import_flow_class(code_dir, flow_file, flow_name)
        text = sys.stdin.readline()
        if not text.strip():
            return 0  # released unused at the end of the run
        report = os.dup(1)  # the container's stdout, before the task sends fd 1 to its log file
        code = run_task(TaskSpec.from_json(text), flow_class)
        # Tell the executor the attempt is committed, before interpreter and container tear down.
        os.write(report, ("\n%s %d\n" % (EXIT_MARKER, code)).encode())
        return code
    if argv[0] == "--from-env":
        text = os.environ.pop("ORCH_TASK_SPEC")
    elif argv[0] == "-":
        text = sys.stdin.read()
    else:
        with open(argv[0]) as handle:
            text = handle.read()
    return run_task(TaskSpec.from_json(text))
