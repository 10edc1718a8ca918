"""Run a flow, or resume one: the plain strategies over ``session.RunSession``.

A run stores its parameters (from the command line, the environment or
their defaults), constants and configs, and plans from ``start``; a resume
takes its origin run's parameters and configs by reference and clones the
origin's successful tasks up to the step it resumes from. Both warm the
``start`` step's executor while the run record is written, look steps up in
the memo cache, and call the flow's exit hooks when the run ends.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from ..authoring.loader import LoadedFlow
from ..authoring.project_names import resolve as resolve_project
from ..authoring.run_values import parameter_values as typed_values
from ..authoring.run_values import save_values
from ..authoring.user_configs import ConfigInputs, flow_configs
from ..backends.registry import placed
from ..backends.spec import load
from ..config import Config
from ..errors import OrchError
from ..executors.base import Executor
from ..ids import run_path
from ..memo.lookup import CachePolicy, run_cache
from ..store.artifacts import load_artifact
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore
from ..store.records import RunRecord
from .exit_hooks import run_exit_hooks
from .resume import plan_resume
from .scheduler import RunOutcome
from .session import Prepared, RunOptions, RunResult, RunSession, Values

__all__ = ["FlowRun", "RunOptions", "RunResult", "execute", "origin_configs", "parameter_values", "stored_values"]


class FlowRun(RunSession):
    """A run of the flow; with ``resuming``, a resume of ``origin_run_id`` (the latest run by default)."""

    def __init__(
        self,
        loaded: LoadedFlow,
        config: Config,
        options: RunOptions,
        raw_params: Optional[Mapping[str, Any]] = None,
        origin_run_id: Optional[str] = None,
        resume_step: Optional[str] = None,
        resuming: bool = False,
    ) -> None:
        super().__init__(loaded, for_backends(config, loaded.graph), options)
        self.raw_params, self.resume_step, self.resuming = raw_params, resume_step, resuming
        self.origin_run_id = origin_run_id
        if resuming:
            self.origin_run_id, self.origin_record = _origin(self.meta, loaded.name, origin_run_id)

    def values(self) -> Values:
        return stored_values(self.loaded, self.config, self.options, self.cas, self.origin_record, self.raw_params)

    def executor_ready(self, executor: Executor) -> None:
        if self.loaded.graph["start"].decorator("cache") is None:  # a cached start may need no container at all
            executor.prepare(["start"], self.loaded.name)  # containers boot while the run record is written

    def run_created(self, run_id: str, prepared: Prepared) -> Dict[str, Any]:
        loaded, options = self.loaded, self.options
        extra: Dict[str, Any] = {}
        if self.resuming:
            assert self.origin_run_id is not None
            extra["clones"], self.resume_step = plan_resume(
                loaded.graph, self.meta, loaded.name, self.origin_run_id, run_id, self.resume_step
            )
        extra["cache"] = run_cache(
            loaded.graph,
            loaded.name,
            loaded.abspath,
            prepared.env_records,
            dict(prepared.values.constants, **prepared.values.configs, **prepared.values.param_records),
            self.store,
            run_id,
            CachePolicy(options.cache_lookups, frozenset(options.refresh)),
        )
        return extra

    def headline(self) -> str:
        if self.resuming:
            return "Resuming %s from step %s of run %s" % (self.loaded.name, self.resume_step, self.origin_run_id)
        return "Running %s" % self.loaded.name

    def ended(self, run_id: str, outcome: RunOutcome) -> None:
        pathspec = str(run_path(self.loaded.name, run_id))
        run_exit_hooks(self.loaded.cls, self.loaded.abspath, pathspec, self.config.store_url, outcome.succeeded, print)


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
    return FlowRun(loaded, config, options, raw_params, origin_run_id, resume_step, resuming).execute()


def for_backends(config: Config, graph: Any) -> Config:
    """The run's config as the backends its steps are placed on want it (Batch: the S3 store)."""
    for backend in dict.fromkeys(placed(graph).values()):
        if backend.run_config:
            config = load(backend.run_config)(config)
    return config


def stored_values(
    loaded: LoadedFlow,
    config: Config,
    options: RunOptions,
    cas: ContentAddressedStore,
    origin_record: Optional[RunRecord],
    raw_params: Optional[Mapping[str, Any]],
) -> Values:
    """Parameters (a resume's or spin's: its origin's, by reference), constants and configs, saved."""
    spec = loaded.graph.flow_decorator("project")
    project = resolve_project(loaded.name, spec, options.branch, options.production, config.username) if spec else None
    origin = (dict(origin_record.parameters), dict(origin_record.parameter_values)) if origin_record else None
    saved = save_values(
        loaded.cls, loaded.name, cas, raw_params or {}, dict(config.parameter_env), config.username, project, origin
    )
    return Values(saved.param_records, saved.param_display, saved.constants, saved.configs, project)


def parameter_values(
    loaded: LoadedFlow, raw: Mapping[str, Any], from_env: Mapping[str, str] = {}, user: str = ""
) -> Dict[str, Any]:
    """attr → typed value for every parameter (see ``authoring.run_values.parameter_values``)."""
    return typed_values(loaded.cls, loaded.name, raw, from_env, user)


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
