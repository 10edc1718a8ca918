"""``step-functions create|trigger|list-runs|delete``: a flow in production on AWS Step Functions.

``python flow.py step-functions create`` (Metaflow's form) and ``orch
step-functions create flow.py`` do the same. Deploying needs the S3 store,
the Batch queue and registry of ``orch configure aws``, and the role the
state machine runs as (``--sfn-role``); a flow with ``@schedule`` or a
trigger also needs the role EventBridge starts it as (``--events-role``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import click

from ..config import Config
from ..defaults import MAX_NUM_SPLITS
from ..errors import UsageError
from .common import FLOW_ARGUMENT, load, store_config
from .run import parse_flow_options
from .top_options import project_from_env

_PARAMS = {"ignore_unknown_options": True, "allow_extra_args": True}
STATUSES = {"running": "RUNNING", "succeeded": "SUCCEEDED", "failed": "FAILED", "timed_out": "TIMED_OUT"}
STATUSES["aborted"] = "ABORTED"


def _config(ctx: click.Context, store: Optional[str]) -> Config:
    from ..deployers.step_functions.deploy import deploy_config

    return deploy_config(store_config(ctx, store))


def _project(ctx: click.Context) -> tuple:
    top = ctx.find_root().obj.top
    return project_from_env(top.branch, top.production)


def _name(ctx: click.Context, flow_file: str) -> tuple:
    """(loaded flow, its state machine's name, config) for commands on a deployed flow."""
    from ..deployers.step_functions.deploy import DeployOptions, project_of, state_machine_name

    loaded = load(ctx, flow_file)
    branch, production = _project(ctx)
    config = Config.from_env()
    project = project_of(loaded, DeployOptions(branch=branch, production=production), config.username)
    return loaded, state_machine_name(loaded, project)


def _attributes(path: Optional[str], values: dict) -> None:
    """The Deployer API's attribute file: written whole, then renamed."""
    if not path:
        return
    temp = "%s.tmp-%d" % (path, os.getpid())
    with open(temp, "w") as handle:
        json.dump(values, handle)
    os.replace(temp, path)


@click.group("step-functions")
def step_functions() -> None:
    """Deploy FLOW.py to AWS Step Functions, and start, list and delete its runs there."""


@step_functions.command()
@FLOW_ARGUMENT
@click.option("--store", default=None, help="The S3 store [default: orch configure aws --s3-root].")
@click.option("--max-workers", default=100, show_default=True, help="How many tasks of a foreach run at once.")
@click.option("--workflow-timeout", type=click.IntRange(1), default=None, help="Seconds a run may take in all.")
@click.option("--tag", "tags", multiple=True, help="A tag for every production run (repeatable).")
@click.option("--max-num-splits", default=MAX_NUM_SPLITS, show_default=True, help="The widest foreach allowed.")
@click.option("--only-json", is_flag=True, help="Print the state machine's definition; deploy nothing.")
@click.option("--package-suffixes", default="", help="Comma-separated file suffixes shipped with the code.")
@click.option("--authorize", default=None, hidden=True)
@click.option("--generate-new-token", is_flag=True, hidden=True)
@click.option("--given-token", default=None, hidden=True)
@click.option("--log-execution-history", is_flag=True, hidden=True)
@click.option("--use-distributed-map/--no-use-distributed-map", default=True, hidden=True)
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_context
def create(ctx, flow_file, store, max_workers, workflow_timeout, tags, max_num_splits, only_json, **extra: Any):
    """Deploy FLOW.py: push its images, write its state machine and its schedule and trigger rules."""
    from ..deployers.step_functions.deploy import DeployOptions, compile_flow
    from ..deployers.step_functions.deploy import create as deploy

    if max_workers < 1:
        raise UsageError("--max-workers must be at least 1.")
    loaded = load(ctx, flow_file)
    branch, production = _project(ctx)
    suffixes = tuple(s.strip() for s in extra["package_suffixes"].split(",") if s.strip())
    options = DeployOptions(max_workers, workflow_timeout, tuple(tags), branch, production, max_num_splits, suffixes)
    config = _config(ctx, store)

    def notice(text: str) -> None:
        click.echo(text, err=True)

    if only_json:
        compiled = compile_flow(loaded, config, options, notice)
        click.echo(json.dumps(compiled.definition, indent=2))
        return
    made = deploy(loaded, config, options, notice)
    click.echo("Deployed %s to AWS Step Functions as %s." % (loaded.name, made.name))
    for rule in made.rules:
        click.echo("EventBridge rule %s starts it." % rule)
    click.echo("Start a run with: python %s step-functions trigger" % os.path.basename(flow_file))
    _attributes(
        extra["deployer_attribute_file"], {"name": made.name, "flow_name": loaded.name, "metadata": config.store_url}
    )


@step_functions.command(context_settings=_PARAMS)
@FLOW_ARGUMENT
@click.option("--run-id-file", default=None, help="Write the run's id to this file.")
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_context
def trigger(ctx, flow_file, run_id_file, deployer_attribute_file):
    """Start a run of the deployed FLOW.py. Flow parameters follow as --name value."""
    from ..authoring.run_values import parameter_values
    from ..deployers.step_functions.machines import Machines

    loaded, name = _name(ctx, flow_file)
    raw = parse_flow_options(loaded, ctx.args)
    config = _config(ctx, None)
    parameter_values(loaded.cls, loaded.name, raw, {}, config.username)  # a bad value fails here, not in AWS
    execution = Machines(config).start(name, raw)
    run_id = "sfn-" + execution
    click.echo("Run %s/%s started on AWS Step Functions (state machine %s)." % (loaded.name, run_id, name))
    if run_id_file:
        with open(run_id_file, "w") as handle:
            handle.write(run_id)
    _attributes(
        deployer_attribute_file,
        {"name": name, "flow_name": loaded.name, "run_id": run_id, "metadata": config.store_url},
    )


@step_functions.command("list-runs")
@FLOW_ARGUMENT
@click.option("--running", "status", flag_value="running", help="Only runs still running.")
@click.option("--succeeded", "status", flag_value="succeeded", help="Only runs that succeeded.")
@click.option("--failed", "status", flag_value="failed", help="Only runs that failed.")
@click.option("--timed-out", "status", flag_value="timed_out", help="Only runs that timed out.")
@click.option("--aborted", "status", flag_value="aborted", help="Only runs that were stopped.")
@click.pass_context
def list_runs(ctx, flow_file, status):
    """List the deployed FLOW.py's runs on AWS Step Functions, newest first."""
    from ..deployers.step_functions.machines import Machines

    loaded, name = _name(ctx, flow_file)
    found = Machines(_config(ctx, None)).executions(name, STATUSES.get(status or ""))
    if not found:
        click.echo("No runs of %s on AWS Step Functions%s." % (name, " that are %s" % status if status else ""))
    for execution in found:
        started = execution.started.strftime("%Y-%m-%d %H:%M:%S") if execution.started else "-"
        click.echo("%s/%s  %-9s  started %s" % (loaded.name, execution.run_id, execution.status, started))


@step_functions.command()
@FLOW_ARGUMENT
@click.option("--authorize", default=None, hidden=True)
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_context
def delete(ctx, flow_file, authorize, deployer_attribute_file):
    """Delete the deployed FLOW.py's state machine and its EventBridge rules (its runs stay in the store)."""
    from ..deployers.step_functions.machines import Machines

    _, name = _name(ctx, flow_file)
    removed = Machines(_config(ctx, None)).delete(name)
    for item in removed:
        click.echo("Deleted %s." % item)
    _attributes(deployer_attribute_file, {"name": name, "deleted": removed})


COMMANDS = [step_functions]
