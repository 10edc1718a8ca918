"""One run's life, whatever started it: setup, run record, executor, scheduler, and the final record.

``RunSession.execute`` is the only place a run's lifecycle lives. Run,
resume and spin are thin strategies over it (``launch.FlowRun``,
``spin.SpinRun``): they say which store, which steps on which backends,
what happens once the run record exists (resume plans its clones, spin
brings its inputs) and how the scheduler plans. A run's record is created
before any task starts and its ``done`` record is written when it ends,
whether it succeeded, failed or was stopped by Ctrl-C/SIGTERM; a run whose
orchestrator was killed has no ``done`` record and can be resumed.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ..authoring.loader import LoadedFlow
from ..authoring.project_names import ProjectInfo
from ..authoring.secret_sources import SecretError, fetch
from ..backends.registry import run_label, step_targets
from ..backends.spec import Backend
from ..config import Config
from ..defaults import MAX_NUM_SPLITS, MAX_WORKERS
from ..envs.lock import LockRef
from ..envs.resolve import ensure_locks
from ..errors import UsageError
from ..executors.base import Executor, ExecutorSetup, RunPlace, SetupRequest
from ..executors.factory import create_executor, prepare_setups, resolve_here
from ..graph.render import to_json
from ..ids import run_path
from ..states import Status
from ..store.artifacts import ArtifactRecord
from ..store.backend import Backend as Storage
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore
from ..store.records import CodeRef, RunEnd, RunFailure, RunRecord
from ..task.codepkg import DEFAULT_SUFFIXES, build_package, extract_package
from .console import make_console
from .logs import LogFollower
from .scheduler import RunContext, RunOutcome, Scheduler


@dataclass(frozen=True)
class RunOptions:
    max_workers: int = MAX_WORKERS
    max_num_splits: int = MAX_NUM_SPLITS
    executor: str = "auto"
    tags: Tuple[str, ...] = ()
    run_id_file: Optional[str] = None
    interactive: Optional[bool] = None  # None: live display when stdout is a terminal
    show_logs: bool = True
    package_suffixes: Tuple[str, ...] = ()  # shipped in the code package besides .py files
    debug: bool = False  # failures print their full traceback
    branch: Optional[str] = None  # @project: --branch
    production: bool = False  # @project: --production
    runner_attribute_file: Optional[str] = None  # the Runner API learns the run's id here (JSON)
    cache_lookups: bool = True  # --no-cache: cached steps run (and record entries) without looking up
    refresh: Tuple[str, ...] = ()  # --refresh STEP: these steps run whatever the cache holds


@dataclass(frozen=True)
class RunResult:
    flow: str
    run_id: str
    outcome: RunOutcome

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome.succeeded else 1


@dataclass(frozen=True)
class Values:
    """A run's parameters, constants and configs, stored; the project names its @project gives."""

    param_records: Dict[str, ArtifactRecord]
    param_display: Dict[str, Any]
    constants: Dict[str, ArtifactRecord]  # class-level values, passed down to every task
    configs: Dict[str, ArtifactRecord]  # Config values, passed down to every task
    project: Optional[ProjectInfo] = None  # the run's @project names; None without @project


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs before its first task: its values, code, environments, executors."""

    values: Values
    code_key: str
    code_dir: str
    flow_file: str
    targets: Dict[str, Backend]
    setups: Tuple[ExecutorSetup, ...]
    env_records: Dict[str, dict]


class RunSession:
    """The lifecycle; subclasses fill in the hooks below (each has the plain run's behaviour)."""

    def __init__(
        self, loaded: LoadedFlow, config: Config, options: RunOptions, store: Optional[Storage] = None
    ) -> None:
        """``store``: the run's store when the strategy has it open already; else the config's."""
        if options.max_workers < 1:
            raise UsageError("--max-workers must be at least 1.")
        if options.max_num_splits < 1:
            raise UsageError("--max-num-splits must be at least 1.")
        self.loaded, self.config, self.options = loaded, config, options
        self.origin_run_id: Optional[str] = None
        self.origin_record: Optional[RunRecord] = None
        self.store: Storage = store or open_backend(config.store, config.aws.region, config.aws.endpoint_url)
        self.meta = MetadataStore(self.store)
        self.cas = ContentAddressedStore(self.store)

    # --- hooks

    def values(self) -> Values:
        """The run's parameters, constants and configs, saved to the store."""
        raise NotImplementedError

    def targets(self, here: Backend) -> Dict[str, Backend]:
        """Which steps get executors, and on which backend."""
        return step_targets(self.loaded.graph, here)

    def executor_ready(self, executor: Executor) -> None:
        """The executor exists and the run record is about to be written."""

    def run_created(self, run_id: str, prepared: Prepared) -> Dict[str, Any]:
        """The run record exists: the scheduler's extra arguments (planner, clones, cache...)."""
        return {}

    def attributes(self) -> Dict[str, Any]:
        """What the Runner API reads besides the flow, run and store (spin: its task)."""
        return {}

    def headline(self) -> str:
        return "Running %s" % self.loaded.name

    def max_workers(self) -> int:
        return self.options.max_workers

    def ended(self, run_id: str, outcome: RunOutcome) -> None:
        """The done record is written (a run then calls its exit hooks)."""

    # --- the lifecycle

    def execute(self) -> RunResult:
        loaded, config, options = self.loaded, self.config, self.options
        console = make_console(loaded.graph, loaded.name, options.interactive, options.show_logs)
        executor = None
        try:
            here = resolve_here(options.executor, config.store, console.run_message)
            targets = self.targets(here)
            prepared = prepare(loaded, config, options, self.cas, self.values(), console.run_message, targets)
            secrets = step_secrets(loaded.graph, targets, config)
            place = RunPlace(
                loaded.name, prepared.code_dir, prepared.flow_file, self.store, config, loaded.graph, self.max_workers()
            )
            executor = create_executor(prepared.setups, place)
            self.executor_ready(executor)
            run_id = create_run(self.meta, loaded, config, options, prepared, self.origin_run_id, self.attributes())
            extra = self.run_created(run_id, prepared)
        except BaseException:
            if executor is not None:
                executor.close()  # it may have started containers already
            console.close()
            raise
        ctx = run_context(loaded.name, run_id, config, options, prepared, self.origin_run_id, secrets)
        console.run_label = str(run_path(loaded.name, run_id))
        console.run_message("%s as run %s (store: %s)" % (self.headline(), run_id, config.store_url))
        follower = LogFollower(console.log)
        reporter = FollowingReporter(console, follower, self.store)
        scheduler = Scheduler(loaded.graph, ctx, executor, self.meta, reporter, self.max_workers(), **extra)
        previous = _install_stop_handlers(scheduler)
        began = time.monotonic()
        try:
            outcome = scheduler.run()
        finally:
            _restore_handlers(previous)
            executor.close()
            follower.close()
            console.close()
        stats = dict(executor.stats(), seconds=round(time.monotonic() - began, 3))
        finish_run(self.meta, loaded.name, run_id, outcome, console, stats, options.debug)
        self.ended(run_id, outcome)
        return RunResult(loaded.name, run_id, outcome)


def prepare(
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    cas: ContentAddressedStore,
    values: Values,
    notice: Callable[[str], None],
    targets: Mapping[str, Backend],
) -> Prepared:
    """The code package, the steps' locked environments, and an executor setup per backend in use."""
    root = os.path.dirname(loaded.abspath)
    package = build_package(root, loaded.abspath, DEFAULT_SUFFIXES + options.package_suffixes)
    code_key = cas.save_blob([package]).key
    code_dir = _code_dir(code_key)
    extract_package(package, code_dir)
    locks = ensure_locks(loaded.graph, root, sources=config.sources)
    request = SetupRequest(loaded.graph, loaded.name, root, (), locks, config, notice)
    setups = tuple(prepare_setups(request, targets))
    env_records = _env_records(locks, root, setups)
    for record in env_records.values():  # the locks travel with the run, for the UI and audits
        lock = os.path.join(root, record["lock"]) if record.get("lock") else None
        if lock and os.path.isfile(lock):
            with open(lock, "rb") as handle:
                record["lock_key"] = cas.save_blob([handle.read()]).key
    return Prepared(
        values,
        code_key,
        code_dir,
        os.path.relpath(loaded.abspath, root),
        dict(targets),
        setups,
        env_records,
    )


def _code_dir(key: str) -> str:
    root = os.path.join(tempfile.gettempdir(), "orch-code-%d" % os.getuid())
    return os.path.join(root, key)


def _env_records(
    locks: Dict[str, Optional[LockRef]], flow_dir: str, setups: Tuple[ExecutorSetup, ...]
) -> Dict[str, dict]:
    """step → what the run record says of its environment: the lock, and what its executor prepared."""
    records = {
        step: {"spec": lock.spec.to_json(), "lock": os.path.relpath(lock.path, flow_dir), "lock_hash": lock.digest}
        for step, lock in locks.items()
        if lock is not None
    }
    for setup in setups:
        for step, extra in setup.env_records().items():
            records.setdefault(step, {}).update(extra)
    return records


def new_run_id() -> str:
    return str(int(time.time() * 1_000_000))


def create_run(
    meta: MetadataStore,
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    prepared: Prepared,
    origin_run_id: Optional[str],
    attributes: Mapping[str, Any],
) -> str:
    """Write the run record under a fresh run id (retrying on the rare clash), then the --run-id-file
    and the Runner's attribute file."""
    values, project = prepared.values, prepared.values.project
    record = RunRecord(
        flow=loaded.name,
        run_id=new_run_id(),
        created_at=time.time(),
        user=config.username,
        tags=tuple(dict.fromkeys(options.tags)),
        system_tags=("user:%s" % config.username,) + (project.system_tags if project else ()),
        project=project.current_fields() if project else {},
        parameters=values.param_records,
        parameter_values=values.param_display,
        constants=values.constants,
        configs=values.configs,
        code=CodeRef(prepared.code_key, prepared.flow_file),
        origin_run_id=origin_run_id,
        executor=run_label(prepared.targets),
        graph=json.loads(to_json(loaded.graph)),
        environments=prepared.env_records,
    )
    while not meta.create_run(record):
        record = record.with_run_id(new_run_id())
    if options.run_id_file:
        with open(options.run_id_file, "w") as handle:
            handle.write(record.run_id)
    if options.runner_attribute_file:  # written whole, then renamed: the waiting Runner never reads half
        found = dict(attributes, flow_name=loaded.name, run_id=record.run_id, metadata=config.store_url)
        temp = "%s.tmp-%d" % (options.runner_attribute_file, os.getpid())
        with open(temp, "w") as handle:
            json.dump(found, handle)
        os.replace(temp, options.runner_attribute_file)
    return record.run_id


def run_context(
    flow: str,
    run_id: str,
    config: Config,
    options: RunOptions,
    prepared: Prepared,
    origin_run_id: Optional[str],
    secrets: Mapping[str, Tuple[Tuple[str, str], ...]],
) -> RunContext:
    """What every task spec of the run shares; where each step's backend runs it."""
    return RunContext(
        flow=flow,
        run_id=run_id,
        store_url=config.store_url,
        code_dir=prepared.code_dir,
        flow_file=prepared.flow_file,
        username=config.username,
        tags=tuple(dict.fromkeys(options.tags)),
        origin_run_id=origin_run_id,
        max_num_splits=options.max_num_splits,
        log_dir=os.path.join(prepared.code_dir + ".logs", run_id),
        code_key=prepared.code_key,
        secrets=secrets,
        elsewhere=frozenset(step for step, b in prepared.targets.items() if not b.on_this_machine),
        placement={step: b.placement for step, b in prepared.targets.items() if b.placement},
    )


def step_secrets(graph: Any, targets: Mapping[str, Backend], config: Config) -> Dict[str, Tuple[Tuple[str, str], ...]]:
    """The @secrets values of the steps that run on this machine, fetched once as the run starts and
    kept in memory (a job elsewhere fetches its own). A secret may not replace an @environment variable
    of its step unless ``allow_override=True``."""
    found: Dict[str, Tuple[Tuple[str, str], ...]] = {}
    for node in graph:
        spec = node.decorator("secrets")
        target = targets.get(node.name)
        if spec is None or not spec.sources or target is None or not target.on_this_machine:
            continue
        values = fetch(spec.sources, config.aws.region, config.aws.endpoint_url)
        environment = node.decorator("environment")
        clash = sorted(set(values) & set(dict(environment.vars) if environment else {}))
        if clash and not spec.allow_override:
            raise SecretError(
                "@secrets on step '%s' sets %s, which its @environment sets too." % (node.name, clash[0]),
                "Rename one, or pass allow_override=True to let the secret win.",
                file=graph.file,
                line=node.line,
            )
        found[node.name] = tuple(sorted(values.items()))
    return found


class FollowingReporter:
    """Forwards scheduler events to the console and starts/stops following each task's logs."""

    def __init__(self, console: Any, follower: LogFollower, backend: Any) -> None:
        self.console, self.follower, self.backend = console, follower, backend

    def task_started(self, spec: Any) -> None:
        self.console.task_started(spec)
        out, err = spec.log_files(self.backend)
        self.follower.follow(spec.path.in_run, out, err)  # RUN/STEP/TASK before each line

    def task_finished(self, spec: Any, result: Any, then: str) -> None:
        self.follower.unfollow(spec.path.in_run)
        self.console.task_finished(spec, result, then)

    def task_cloned(self, step: str, origin: str) -> None:
        self.console.task_cloned(step, origin)

    def task_cached(self, step: str, task_id: str, source: str) -> None:
        self.console.task_cached(step, task_id, source)


def _install_stop_handlers(scheduler: Scheduler) -> dict:
    previous = {}

    def stop(signum: int, _frame: Any) -> None:
        scheduler.stop_requested = signal.Signals(signum).name

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, stop)
        except ValueError:  # not the main thread (e.g. inside a test runner thread)
            pass
    return previous


def _restore_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def describe_failure(failure: Any, debug: bool = False) -> str:
    """One or two lines: where in the flow's code, the exception and its message. The full traceback
    is in the task's stderr (``orch logs``), and here with --debug."""
    exception = failure.exception
    if exception is None:
        return "    " + failure.message  # the process died: the executor's account of it
    if debug and exception.traceback:
        return exception.traceback.rstrip()
    text = exception.message if exception.orch_error else "%s: %s" % (exception.type, exception.message)
    return "    %s%s" % ("%s: " % exception.where if exception.where else "", text)


def finish_run(
    meta: MetadataStore,
    flow: str,
    run_id: str,
    outcome: RunOutcome,
    console: Any,
    stats: Dict[str, Any],
    debug: bool = False,
) -> None:
    """Write the done record, then say how the run ended."""
    meta.finish_run(
        flow,
        run_id,
        RunEnd(
            status=Status.SUCCEEDED if outcome.succeeded else Status.FAILED,
            finished_at=time.time(),
            failures=tuple(RunFailure(f.pathspec, f.state, f.message) for f in outcome.failures),
            interrupted=outcome.interrupted,
            tasks_run=outcome.tasks_run,
            tasks_cloned=outcome.tasks_cloned,
            executor_stats=stats,
            tasks_cached=outcome.tasks_cached,
        ),
    )
    for failure in outcome.failures:
        console.run_message("Step failed: %s (%s)" % (failure.pathspec, failure.state.value), error=True)
        console.run_message(describe_failure(failure, debug), error=True)
    if outcome.interrupted:
        console.run_message(
            "Run %s/%s stopped by %s; resume it with: orch resume" % (flow, run_id, outcome.interrupted), error=True
        )
    elif outcome.succeeded:
        counts = ((outcome.tasks_cloned, "cloned"), (outcome.tasks_cached, "cached"))
        reused = ["%d %s" % (count, what) for count, what in counts if count]
        total = outcome.tasks_run + outcome.tasks_cloned + outcome.tasks_cached
        console.run_message(
            "Run %s/%s succeeded: %d tasks%s in %.2fs."
            % (flow, run_id, total, " (%s)" % ", ".join(reused) if reused else "", console.elapsed())
        )
    else:
        console.run_message("Run %s/%s failed. Fix the step, then: orch resume" % (flow, run_id), error=True)
