"""Start a run or resume one: parameters, code package, run record, executor, scheduler, final record.

This is the one place a run's lifecycle lives; the CLI only parses flags.
A run's record is created before any task starts and its ``done`` record
is written when it ends, whether it succeeded, failed or was stopped by
Ctrl-C/SIGTERM. A run whose orchestrator was killed has no ``done`` record
and can be resumed.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from ..codepkg import DEFAULT_SUFFIXES, build_package, extract_package
from ..config import Config
from ..current import current
from ..defaults import MAX_NUM_SPLITS, MAX_WORKERS
from ..envs.lock import LockRef
from ..envs.resolve import ensure_locks
from ..errors import OrchError, ParameterError, UsageError
from ..executors.base import ExecutorSetup, RunPlace, SetupRequest
from ..executors.factory import create_executor, prepare_setups, resolve_here
from ..flowspec import FlowSpec
from ..graph.render import to_json
from ..loader import LoadedFlow
from ..memo.lookup import CachePolicy, run_cache
from ..parameters import flow_constants, flow_parameters
from ..plan import Target, run_label, step_targets
from ..project_names import ProjectInfo
from ..project_names import resolve as resolve_project
from ..secret_sources import SecretError, fetch
from ..states import Status
from ..store.artifacts import ArtifactRecord, load_artifact, save_artifact
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore
from ..store.records import CodeRef, RunEnd, RunFailure, RunRecord
from ..user_configs import ConfigInputs, bound_values, flow_configs, stored
from .console import make_console
from .exit_hooks import run_exit_hooks
from .logs import LogFollower
from .resume import plan_resume
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


def parameter_values(
    loaded: LoadedFlow, raw: Mapping[str, Any], from_env: Mapping[str, str] = {}, user: str = ""
) -> Dict[str, Any]:
    """attr → typed value for every parameter: from the command line, else the environment
    (``ORCH_RUN_<NAME>``, ``METAFLOW_RUN_<NAME>``), else its default; files read."""
    values: Dict[str, Any] = {}
    base_dir = os.getcwd()
    from_env = from_env or {}
    for attr, param in flow_parameters(loaded.cls):
        env_name = param.name.upper().replace("-", "_")
        if param.name in raw:
            value = param.convert(raw[param.name]) if not param.IS_FILE else raw[param.name]
        elif env_name in from_env:
            value = param.convert(from_env[env_name]) if not param.IS_FILE else from_env[env_name]
        elif param.required:
            raise ParameterError(
                "Missing required parameter %s." % param.option,
                "Give it on the command line: %s VALUE (or set ORCH_RUN_%s)." % (param.option, env_name),
            )
        else:
            value = param.resolve_default(loaded.name, user, bound_values(loaded.cls))
        if param.IS_FILE and value is not None:
            value = param.read(str(value), base_dir)
        values[attr] = value
    unknown = sorted(set(raw) - {p.name for _, p in flow_parameters(loaded.cls)})
    if unknown:
        raise ParameterError("Unknown parameter --%s." % unknown[0])
    return values


@contextmanager
def current_fields(fields: Mapping[str, Any]) -> Iterator[None]:
    """``current`` shows these fields while the block runs, and is empty again after it."""
    current._update(**fields)
    try:
        yield
    finally:
        current._clear()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "<%d bytes>" % len(value)
    return repr(value)


def new_run_id() -> str:
    return str(int(time.time() * 1_000_000))


def _code_dir(key: str) -> str:
    root = os.path.join(tempfile.gettempdir(), "orch-code-%d" % os.getuid())
    return os.path.join(root, key)


@dataclass(frozen=True)
class _Prepared:
    """Everything a run needs before its first task: parameters, code, environments."""

    param_records: Dict[str, ArtifactRecord]
    param_display: Dict[str, Any]
    constants: Dict[str, ArtifactRecord]  # class-level values, passed down to every task
    configs: Dict[str, ArtifactRecord]  # Config values, passed down to every task
    code_key: str
    code_dir: str
    flow_file: str
    targets: Dict[str, Target]
    setups: Tuple[ExecutorSetup, ...]
    env_records: Dict[str, dict]
    project: Optional[ProjectInfo] = None  # the run's @project names; None without @project


def _prepare(
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    cas: ContentAddressedStore,
    origin_record: Optional[RunRecord],
    raw_params: Optional[Mapping[str, Any]],
    console: Any,
    here: Target,
    only: Optional[Mapping[str, Target]] = None,
) -> _Prepared:
    """``only``: the steps to prepare executors for, and where (spin runs one step); default every step."""
    spec = loaded.graph.flow_decorator("project")
    project = resolve_project(loaded.name, spec, options.branch, options.production, config.username) if spec else None
    if origin_record is not None:  # resume: the origin's parameters, by reference
        param_records = dict(origin_record.parameters)
        param_display = dict(origin_record.parameter_values)
    else:
        # As in Metaflow, a callable default sees the run's @project names in ``current``.
        with current_fields(project.current_fields() if project else {}):
            values = parameter_values(loaded, raw_params or {}, dict(config.parameter_env), config.username)
        param_records = {attr: save_artifact(cas, attr, value) for attr, value in values.items()}
        param_display = {attr: _jsonable(value) for attr, value in values.items()}
    constants = {attr: save_artifact(cas, attr, value) for attr, value in flow_constants(loaded.cls, FlowSpec)}
    bound = bound_values(loaded.cls)
    configs = {attr: save_artifact(cas, attr, stored(bound.get(c.name))) for attr, c in flow_configs(loaded.cls)}
    root = os.path.dirname(loaded.abspath)
    package = build_package(root, loaded.abspath, DEFAULT_SUFFIXES + options.package_suffixes)
    code_key = cas.save_blob([package]).key
    code_dir = _code_dir(code_key)
    extract_package(package, code_dir)
    targets = dict(only) if only is not None else step_targets(loaded.graph, here)
    locks = ensure_locks(loaded.graph, root, sources=config.sources)
    request = SetupRequest(loaded.graph, loaded.name, root, (), locks, config, console.run_message)
    setups = tuple(prepare_setups(request, targets))
    env_records = _env_records(locks, root, setups)
    for record in env_records.values():  # the locks travel with the run, for the UI and audits
        lock = os.path.join(root, record["lock"]) if record.get("lock") else None
        if lock and os.path.isfile(lock):
            with open(lock, "rb") as handle:
                record["lock_key"] = cas.save_blob([handle.read()]).key
    return _Prepared(
        param_records,
        param_display,
        constants,
        configs,
        code_key,
        code_dir,
        os.path.relpath(loaded.abspath, root),
        targets,
        setups,
        env_records,
        project,
    )


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


def _create_run(
    meta: MetadataStore,
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    prepared: _Prepared,
    origin_run_id: Optional[str],
) -> str:
    """Write the run record under a fresh run id (retrying on the rare clash) and the --run-id-file."""
    project = prepared.project
    record = RunRecord(
        flow=loaded.name,
        run_id=new_run_id(),
        created_at=time.time(),
        user=config.username,
        tags=tuple(dict.fromkeys(options.tags)),
        system_tags=("user:%s" % config.username,) + (project.system_tags if project else ()),
        project=project.current_fields() if project else {},
        parameters=prepared.param_records,
        parameter_values=prepared.param_display,
        constants=prepared.constants,
        configs=prepared.configs,
        code=CodeRef(prepared.code_key, prepared.flow_file),
        origin_run_id=origin_run_id,
        executor=run_label(prepared.targets),
        graph=json.loads(to_json(loaded.graph)),
        environments=prepared.env_records,
    )
    while not meta.create_run(record):
        record = record.with_run_id(new_run_id())
    run_id = record.run_id
    if options.run_id_file:
        with open(options.run_id_file, "w") as handle:
            handle.write(run_id)
    if options.runner_attribute_file:  # written whole, then renamed: the waiting Runner never reads half
        attributes = {"flow_name": loaded.name, "run_id": run_id, "metadata": config.store_url}
        temp = "%s.tmp-%d" % (options.runner_attribute_file, os.getpid())
        with open(temp, "w") as handle:
            json.dump(attributes, handle)
        os.replace(temp, options.runner_attribute_file)
    return run_id


def execute(
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    raw_params: Optional[Mapping[str, Any]] = None,
    origin_run_id: Optional[str] = None,
    resume_step: Optional[str] = None,
    resuming: bool = False,
) -> RunResult:
    """Run (or, with ``resuming``, resume) a loaded flow to completion."""
    if options.max_workers < 1:
        raise UsageError("--max-workers must be at least 1.")
    if options.max_num_splits < 1:
        raise UsageError("--max-num-splits must be at least 1.")
    if any(node.decorator("batch") is not None for node in loaded.graph):
        config = config.for_batch()
    backend = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
    meta = MetadataStore(backend)
    flow = loaded.name
    origin_record = None
    if resuming:
        origin_run_id, origin_record = _origin(meta, flow, origin_run_id)
    executor = None
    console = make_console(loaded.graph, flow, options.interactive, options.show_logs)
    try:
        here = resolve_here(options.executor, config.store, console.run_message)
        cas = ContentAddressedStore(backend)
        prepared = _prepare(loaded, config, options, cas, origin_record, raw_params, console, here)
        secrets = step_secrets(loaded.graph, prepared.targets, config)
        place = RunPlace(flow, prepared.code_dir, prepared.flow_file, backend, config, loaded.graph)
        executor = create_executor(prepared.setups, place)
        if loaded.graph["start"].decorator("cache") is None:  # a cached start may need no container at all
            executor.prepare(["start"], flow)  # containers boot while the run record is written
        run_id = _create_run(meta, loaded, config, options, prepared, origin_run_id)
        clones = None
        if resuming:
            clones, resume_step = plan_resume(loaded.graph, meta, flow, origin_run_id, run_id, resume_step)
    except BaseException:
        if executor is not None:
            executor.close()  # it may have started containers already
        console.close()
        raise
    ctx = run_context(flow, run_id, config, options, prepared, origin_run_id, secrets)
    console.run_label = "%s/%s" % (flow, run_id)
    what = (
        "Resuming %s from step %s of run %s" % (flow, resume_step, origin_run_id) if resuming else "Running %s" % flow
    )
    console.run_message("%s as run %s (store: %s)" % (what, run_id, config.store_url))
    follower = LogFollower(console.log)
    cache = run_cache(
        loaded.graph,
        flow,
        loaded.abspath,
        prepared.env_records,
        dict(prepared.constants, **prepared.configs, **prepared.param_records),
        backend,
        run_id,
        CachePolicy(options.cache_lookups, frozenset(options.refresh)),
    )
    scheduler = Scheduler(
        loaded.graph,
        ctx,
        executor,
        meta,
        _FollowingReporter(console, follower, backend),
        options.max_workers,
        clones,
        cache=cache,
    )
    previous = _install_stop_handlers(scheduler)
    try:
        outcome = scheduler.run()
    finally:
        _restore_handlers(previous)
        executor.close()
        follower.close()
        console.close()
    _finish(meta, flow, run_id, outcome, console, executor.stats(), options.debug)
    run_exit_hooks(loaded.cls, loaded.abspath, "%s/%s" % (flow, run_id), config.store_url, outcome.succeeded, print)
    return RunResult(flow, run_id, outcome)


def run_context(
    flow: str,
    run_id: str,
    config: Config,
    options: RunOptions,
    prepared: _Prepared,
    origin_run_id: Optional[str],
    secrets: Mapping[str, Tuple[Tuple[str, str], ...]],
) -> RunContext:
    """What every task spec of the run shares (a run's, a resume's, or a spin's)."""
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
    )


def step_secrets(graph: Any, targets: Mapping[str, Target], config: Config) -> Dict[str, Tuple[Tuple[str, str], ...]]:
    """The @secrets values of the steps that run on this machine, fetched once as the run starts and
    kept in memory (a Batch job fetches its own). A secret may not replace an @environment variable of
    its step unless ``allow_override=True``."""
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


def _origin(meta: MetadataStore, flow: str, run_id: Optional[str]) -> Tuple[str, RunRecord]:
    if run_id is None:
        run_id = meta.latest_run(flow)
        if run_id is None:
            raise OrchError("Flow %s has no runs in this store to resume." % flow, "Start one with orch run.")
    record = meta.run_record(flow, run_id)
    if record is None:
        raise OrchError(
            "Run %s/%s does not exist in this store." % (flow, run_id), "List runs with: orch runs %s." % flow
        )
    return run_id, record


def origin_configs(loaded: LoadedFlow, config: Config, origin_run_id: Optional[str]) -> ConfigInputs:
    """The config values of the run a resume starts from (the latest run when none is named), so a
    resumed run sees the configs its origin saw. Empty when the flow has no configs."""
    names = {attr: c.name for attr, c in flow_configs(loaded.cls)}
    if not names:
        return ConfigInputs()
    backend = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
    _, record = _origin(MetadataStore(backend), loaded.name, origin_run_id)
    cas = ContentAddressedStore(backend)
    return ConfigInputs(
        parsed=tuple(
            (names[attr], load_artifact(cas, rec, "config %s" % attr))
            for attr, rec in sorted(record.configs.items())
            if attr in names
        )
    )


class _FollowingReporter:
    """Forwards scheduler events to the console and starts/stops following each task's logs."""

    def __init__(self, console: Any, follower: LogFollower, backend: Any) -> None:
        self.console, self.follower, self.backend = console, follower, backend

    def task_started(self, spec: Any) -> None:
        self.console.task_started(spec)
        out, err = spec.log_files(self.backend)
        self.follower.follow("%s/%s/%s" % (spec.run_id, spec.step, spec.task_id), out, err)

    def task_finished(self, spec: Any, result: Any, then: str) -> None:
        self.follower.unfollow("%s/%s/%s" % (spec.run_id, spec.step, spec.task_id))
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


def _finish(
    meta: MetadataStore,
    flow: str,
    run_id: str,
    outcome: RunOutcome,
    console: Any,
    stats: Dict[str, Any],
    debug: bool = False,
) -> None:
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
        console.run_message(
            "Run %s/%s succeeded: %d tasks%s in %.2fs."
            % (
                flow,
                run_id,
                outcome.tasks_run + outcome.tasks_cloned + outcome.tasks_cached,
                " (%s)" % ", ".join(reused) if reused else "",
                console.elapsed(),
            )
        )
    else:
        console.run_message("Run %s/%s failed. Fix the step, then: orch resume" % (flow, run_id), error=True)
