"""``step-functions create``: images shipped, job definitions registered, the record saved, the machine written.

Every step's image is built and pushed by the ``--with batch`` path (so a
deployed step runs the image, by digest, that ``orch run --with batch``
runs), its job definition is found or registered by the hash of what it
holds, and the deployment record is saved in the S3 store. The state
machine is then created, or updated in place, and its EventBridge rules
follow the flow's ``@schedule``, ``@trigger`` and ``@trigger_on_finish``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ...authoring.flowspec import FlowSpec
from ...authoring.loader import LoadedFlow
from ...authoring.parameters import flow_constants
from ...authoring.project_names import ProjectInfo
from ...authoring.project_names import resolve as resolve_project
from ...authoring.user_configs import bound_values, flow_configs, stored
from ...backends.batch.api import BatchApi, StepJob, ensure_definition
from ...backends.batch.executor import aws_client, require_s3_store, run_config
from ...backends.registry import get
from ...config import Config
from ...errors import UsageError
from ...graph.render import to_json
from ...plan import PlannedTask
from ...runtime.session import RunOptions, Values, prepare
from ...runtime.specs import RunContext, task_spec
from ...store.artifacts import save_artifact
from ...store.cas import ContentAddressedStore
from ...store.factory import open_backend
from ...store.location import StoreLocation
from . import asl
from .record import Deployment, rule_of
from .refuse import refuse

COMMAND = ("-m", "orchestrator.deployers.step_functions.entry")
CONTAINER_CREDENTIALS = "AWS_CONTAINER_CREDENTIALS_FULL_URI"


@dataclass(frozen=True)
class DeployOptions:
    max_workers: int = 100  # a foreach Map's MaxConcurrency
    workflow_timeout: Optional[int] = None  # seconds
    tags: Tuple[str, ...] = ()
    branch: Optional[str] = None
    production: bool = False
    max_num_splits: int = 10000
    package_suffixes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Compiled:
    """A flow ready to deploy: its state machine's name and definition, and its record's key."""

    name: str
    definition: Dict[str, Any]
    deployment: Deployment
    deployment_key: str


def _retries(node: Any) -> int:
    retry = node.decorator("retry")
    return retry.times if retry else 0


def deploy_config(config: Config) -> Config:
    """A deployment's store is the configured S3 root, unless one was given (as for --with batch)."""
    return run_config(config)


def project_of(loaded: LoadedFlow, options: DeployOptions, user: str) -> Optional[ProjectInfo]:
    spec = loaded.graph.flow_decorator("project")
    return resolve_project(loaded.name, spec, options.branch, options.production, user) if spec else None


def state_machine_name(loaded: LoadedFlow, project: Optional[ProjectInfo]) -> str:
    """The flow's name, or ``project.branch.Flow`` with ``@project``, as Metaflow names it."""
    return project.project_flow_name if project else loaded.name


def production_token(name: str) -> str:
    return "%s-%s" % (name.lower(), hashlib.sha256(name.encode()).hexdigest()[:8])


def compile_flow(loaded: LoadedFlow, config: Config, options: DeployOptions, notice: Callable[[str], None]) -> Compiled:
    """Everything but the state machine itself: images, job definitions, the deployment record."""
    graph = loaded.graph
    refuse(graph)
    require_s3_store(config)
    if not config.aws.sfn_role:
        raise UsageError(
            "Deploying to AWS Step Functions needs the IAM role the state machine runs as.",
            "Set it with: orch configure aws --sfn-role arn:aws:iam::ACCOUNT:role/NAME (or ORCH_SFN_ROLE).",
        )
    aws = config.aws
    if aws.forward_credentials and not (aws.job_role or aws.job_credentials_uri):
        raise UsageError(
            "Deployed jobs cannot be given this shell's AWS keys (--forward-credentials): they would be "
            "written into the state machine.",
            "Give the jobs a role (orch configure aws --job-role ARN) or, for an emulator, an endpoint "
            "that serves credentials (orch configure aws --job-credentials-uri URL).",
        )
    project = project_of(loaded, options, config.username)
    name = state_machine_name(loaded, project)
    backend = open_backend(config.store, config.aws.region, config.aws.endpoint_url)
    cas = ContentAddressedStore(backend)
    constants = {attr: save_artifact(cas, attr, v) for attr, v in flow_constants(loaded.cls, FlowSpec)}
    bound = bound_values(loaded.cls)
    configs = {attr: save_artifact(cas, attr, stored(bound.get(c.name))) for attr, c in flow_configs(loaded.cls)}
    values = Values({}, {}, constants, configs, project)
    batch = get("batch")
    run_options = RunOptions(package_suffixes=options.package_suffixes)
    prepared = prepare(loaded, config, run_options, cas, values, notice, {node.name: batch for node in graph})
    jobs: Mapping[str, StepJob] = prepared.setups[0].jobs  # type: ignore[attr-defined]
    api = BatchApi(aws_client("batch", config.aws), aws_client("logs", config.aws))
    definitions = {}
    for step, job in jobs.items():
        definitions[step] = ensure_definition(api, job, COMMAND)
    deployment = _record(loaded, config, options, name, project, prepared, constants, configs)
    key = cas.save_blob([deployment.to_json().encode()]).key
    machine = _machine(loaded, config, options, key, jobs, definitions)
    return Compiled(name, asl.definition(graph, machine), deployment, key)


def _record(
    loaded: LoadedFlow,
    config: Config,
    options: DeployOptions,
    name: str,
    project: Optional[ProjectInfo],
    prepared: Any,
    constants: Mapping[str, Any],
    configs: Mapping[str, Any],
) -> Deployment:
    graph = loaded.graph
    ctx = RunContext(
        flow=loaded.name,
        run_id="sfn-deployment",
        store_url=config.store_url,
        code_dir="",
        flow_file=prepared.flow_file,
        username=config.username,
        tags=tuple(dict.fromkeys(options.tags)),
        max_num_splits=options.max_num_splits,
        code_key=prepared.code_key,
        placement={node.name: get("batch").placement for node in graph},
    )
    numbers = asl.ordinals(graph)
    steps = {}
    for node in graph:
        spec = task_spec(graph, ctx, PlannedTask(node.name, (), ()), "0")
        spec = replace(spec, env=(), code_env=True, log_dir=None)  # @environment/@secrets: from the code
        steps[node.name] = rule_of(graph, node.name, numbers[node.name], spec.to_json())
    trigger = graph.flow_decorator("trigger")
    events = tuple(
        (str(e.name), tuple(e.parameters)) for e in (trigger.events if trigger else ()) if isinstance(e.name, str)
    )
    system_tags = ("user:%s" % config.username, "production:%s" % production_token(name))
    return Deployment(
        flow=loaded.name,
        state_machine=name,
        code_key=prepared.code_key,
        flow_file=prepared.flow_file,
        username=config.username,
        steps=steps,
        graph=json.loads(to_json(graph)),
        environments=prepared.env_records,
        tags=tuple(dict.fromkeys(options.tags)),
        system_tags=system_tags + (project.system_tags if project else ()),
        project=project.current_fields() if project else {},
        constants={k: v.to_json() for k, v in constants.items()},
        configs={k: v.to_json() for k, v in configs.items()},
        max_num_splits=options.max_num_splits,
        events=events,
        created_at=time.time(),
    )


def _machine(
    loaded: LoadedFlow,
    config: Config,
    options: DeployOptions,
    key: str,
    jobs: Mapping[str, StepJob],
    definitions: Mapping[str, str],
) -> asl.Machine:
    location = StoreLocation.parse(config.store_url)
    bucket, _, prefix = location.url[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    runs = "%sflows/%s/runs" % (prefix + "/" if prefix else "", loaded.name)
    environment = {"ORCH_STORE": config.store_url}
    if config.aws.region:
        environment["AWS_DEFAULT_REGION"] = config.aws.region
    if config.aws.endpoint_url:
        environment["AWS_ENDPOINT_URL"] = config.aws.endpoint_url
    if config.aws.job_credentials_uri:
        environment[CONTAINER_CREDENTIALS] = config.aws.job_credentials_uri
    steps = {}
    for node in loaded.graph:
        job = jobs[node.name]
        timeout = job.timeout * (1 + _retries(node)) if job.timeout else None  # every attempt, in one job
        steps[node.name] = asl.StepJob(definition=definitions[node.name], queue=job.queue, timeout=timeout)
    return asl.Machine(
        flow=loaded.name,
        deployment=key,
        bucket=bucket,
        runs_prefix=runs,
        environment=tuple(sorted(environment.items())),
        steps=steps,
        max_workers=options.max_workers,
        timeout=options.workflow_timeout,
    )


@dataclass(frozen=True)
class Created:
    name: str
    arn: str
    rules: Tuple[str, ...]
    deployment_key: str


def create(loaded: LoadedFlow, config: Config, options: DeployOptions, notice: Callable[[str], None]) -> Created:
    """Deploy: compile, write the state machine (created or updated), then its EventBridge rules."""
    from .events import rules_of
    from .machines import Machines

    compiled = compile_flow(loaded, config, options, notice)
    machines = Machines(config)
    tags = {"orch:flow": loaded.name, "orch:deployment": compiled.deployment_key[:64]}
    arn = machines.write(compiled.name, compiled.definition, str(config.aws.sfn_role), tags)
    project = project_of(loaded, options, config.username)
    rules = rules_of(loaded.graph, arn, project.branch_name if project else None)
    made = machines.set_rules(compiled.name, arn, rules, config.aws.events_role)
    return Created(compiled.name, arn, tuple(made), compiled.deployment_key)
