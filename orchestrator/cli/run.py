"""``orch run FLOW.py`` and ``orch resume FLOW.py [STEP]``: thin wrappers over ``runtime.launch``."""

from __future__ import annotations

import dataclasses
import difflib
import os

import click

from ..authoring.loader import LoadedFlow
from ..authoring.parameters import flow_parameters
from ..authoring.user_configs import ConfigInputs
from ..config import Config
from ..defaults import MAX_NUM_SPLITS, MAX_WORKERS
from ..errors import ParameterError, UsageError
from ..graph.overlay import apply_with, parse_with
from ..runtime.launch import RunOptions, execute, origin_configs
from . import common
from .common import FLOW_ARGUMENT, ExecutorChoice, load
from .top_options import PAIR_OPTIONS, TopLevel, config_inputs, project_from_env
from .top_options import config_options as config_option_list

_RUN_SETTINGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def parse_flow_options(loaded: LoadedFlow, args: list) -> dict:
    """``--name value`` / ``--name=value`` / bare ``--flag`` (bool) → {parameter name: raw value}."""
    params = {p.name: p for _, p in flow_parameters(loaded.cls)}
    aliases = {name.replace("_", "-"): name for name in params}  # --my-param for my_param
    aliases.update({name.replace("-", "_"): name for name in params})  # my_param for my-param (the Runner API)
    raw: dict = {}
    index = 0
    while index < len(args):
        token = args[index]
        if not token.startswith("--") or token == "--":
            raise ParameterError("Unexpected argument %r." % token, "Flow parameters are given as --name value.")
        name, has_value, value = token[2:].partition("=")
        name = name if name in params else aliases.get(name, name)
        if name not in params:
            known = ["--" + n for n in sorted(params)]
            close = difflib.get_close_matches("--" + name, known, n=1)
            hint = (
                "Did you mean %s?" % close[0]
                if close
                else ("The flow's parameters are: %s." % ", ".join(known) if known else "This flow has no parameters.")
            )
            raise ParameterError("Unknown option --%s." % name, hint)
        if not has_value:
            following = args[index + 1] if index + 1 < len(args) else None
            if params[name].type is bool and (following is None or following.startswith("--")):
                value = "true"
            elif following is None:
                raise ParameterError("Option --%s needs a value." % name, "Give it as --%s VALUE." % name)
            else:
                value = following
                index += 1
        if params[name].multiple:  # --name a --name b: every value, in order
            raw.setdefault(name, []).append(value)
        else:
            raw[name] = value
        index += 1
    return raw


def _config_args(loaded: LoadedFlow, args: list) -> tuple:
    """(the other arguments, ConfigInputs) from ``--config NAME FILE`` / ``--config-value NAME JSON``
    after the command. A flow parameter of that name keeps its option (Metaflow gives configs only
    before the command, where orch takes them too)."""
    params = {p.name for _, p in flow_parameters(loaded.cls)}
    rest, pairs = [], {"--config": [], "--config-value": []}
    index = 0
    while index < len(args):
        token = args[index]
        if token in PAIR_OPTIONS and token[2:] not in params:
            if len(args) - index < 3:
                what = "FILE" if token == "--config" else "JSON"
                raise click.UsageError("%s takes two values: NAME and %s." % (token, what))
            pairs[token].append((args[index + 1], args[index + 2]))
            index += 3
            continue
        rest.append(token)
        index += 1
    return rest, ConfigInputs(tuple(pairs["--config"]), tuple(pairs["--config-value"]))


def config_options(func):
    for option in reversed(config_option_list()):
        func = option(func)
    return func


def _load_with_configs(ctx, flow_file: str, args: list) -> tuple:
    """The flow, with the configs given after the command applied, and the arguments left over."""
    loaded = load(ctx, flow_file)
    rest, configs = _config_args(loaded, args)
    if configs.names:
        loaded = load(ctx, flow_file, configs, loaded.module)
    return loaded, rest


def run_options(func):
    for option in reversed(
        [
            click.option(
                "--max-workers",
                type=int,
                default=MAX_WORKERS,
                show_default=True,
                help="Tasks running at once.",
            ),
            click.option(
                "--max-num-splits",
                type=int,
                default=MAX_NUM_SPLITS,
                show_default=True,
                help="Largest foreach allowed; a bigger one fails the run.",
            ),
            click.option(
                "--executor",
                type=ExecutorChoice(),
                default="auto",
                show_default=True,
                envvar="ORCH_EXECUTOR",
                help="Where tasks run: local processes, Docker containers, or Docker when an engine answers "
                "[env ORCH_EXECUTOR].",
            ),
            click.option(
                "--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE; default ./.orch]."
            ),
            click.option(
                "--with",
                "with_decorators",
                multiple=True,
                metavar="DECORATOR[:k=v,...]",
                help="Add a step decorator to every step lacking it, e.g. --with batch, --with batch:cpu=4, "
                "--with retry:times=2 (repeatable).",
            ),
            click.option("--tag", "tags", multiple=True, help="Tag the run (repeatable)."),
            click.option(
                "--run-id-file", type=click.Path(dir_okay=False), default=None, help="Write the run id to this file."
            ),
            click.option("--quiet", is_flag=True, help="Do not stream task logs."),
            click.option(
                "--cache", "cache_all", is_flag=True, help="Cache every step, as if each had @cache (--with cache)."
            ),
            click.option(
                "--no-cache", is_flag=True, help="Run cached steps instead of reusing earlier tasks (still recorded)."
            ),
            click.option("--refresh", multiple=True, metavar="STEP", help="Run STEP whatever the cache holds."),
            # the Runner API's channel: the run's flow, id and store as JSON, written when the run starts
            click.option("--runner-attribute-file", type=click.Path(dir_okay=False), default=None, hidden=True),
            click.option(
                "--package-suffixes",
                default="",
                metavar=".EXT,...",
                help="Also ship files with these suffixes in the code package (e.g. .csv,.json).",
            ),
        ]
    ):
        func = option(func)
    return func


def options_of(
    max_workers,
    max_num_splits,
    executor,
    tags,
    run_id_file,
    quiet,
    package_suffixes,
    runner_attribute_file=None,
    no_cache=False,
    refresh=(),
    debug=False,
    branch=None,
    production=False,
) -> RunOptions:
    suffixes = tuple(
        s.strip() if s.strip().startswith(".") else "." + s.strip() for s in package_suffixes.split(",") if s.strip()
    )
    return RunOptions(
        max_workers=max_workers,
        max_num_splits=max_num_splits,
        executor=executor,
        tags=tuple(tags),
        run_id_file=run_id_file,
        show_logs=not quiet,
        package_suffixes=suffixes,
        debug=debug,
        branch=branch,
        production=production,
        runner_attribute_file=runner_attribute_file,
        cache_lookups=not no_cache,
        refresh=tuple(refresh),
    )


def _debug(ctx) -> bool:
    return bool(getattr(ctx.find_root().obj, "debug", False))


def _top(ctx, store, with_decorators, options) -> tuple:
    """Merge Metaflow's top-level options (before the command) into the command's own."""
    top = getattr(ctx.find_root().obj, "top", None) or TopLevel()
    options = dict(options, quiet=options["quiet"] or top.quiet, branch=top.branch, production=top.production)
    store = store or top.store(Config.from_env())
    cache_all = ("cache",) if options.pop("cache_all", False) else ()  # --cache is --with cache
    return store, tuple(top.with_decorators) + tuple(with_decorators) + cache_all, options


def _dry_run(loaded: LoadedFlow, config: Config, options: dict, raw: dict) -> None:
    from ..memo.dryrun import plan
    from ..memo.lookup import CachePolicy
    from ..runtime.launch import parameter_values

    values = parameter_values(loaded, raw, dict(config.parameter_env), config.username)
    policy = CachePolicy(not options.get("no_cache"), frozenset(options.get("refresh") or ()))
    click.echo("Dry run of %s (store: %s); nothing runs:" % (loaded.name, config.store_url))
    for step in plan(loaded, config, values, policy):
        click.echo("  " + step.describe())


def _check_refresh(loaded: LoadedFlow, options: dict) -> None:
    for step in options.get("refresh") or ():
        if step not in {node.name for node in loaded.graph}:
            raise UsageError(
                "--refresh %s: the flow has no step %r." % (step, step),
                "Its steps are: %s." % ", ".join(node.name for node in loaded.graph),
            )


def _with(loaded: LoadedFlow, options: tuple) -> LoadedFlow:
    specs = [parse_with(option) for option in options]
    return dataclasses.replace(loaded, graph=apply_with(loaded.graph, specs)) if specs else loaded


@click.command(context_settings=_RUN_SETTINGS)
@FLOW_ARGUMENT
@run_options
@click.option("--dry-run", is_flag=True, help="Say which steps the cache would serve and which would run; run none.")
@click.pass_context
def run(ctx, flow_file, store, with_decorators, dry_run, **options):
    """Run FLOW.py. Flow parameters follow as --name value.

    Exits 0 when the run succeeds and 1 when it fails. Ctrl-C stops every
    task and leaves the run resumable. --with batch runs every step on AWS
    Batch (see orch configure aws); @batch on a step runs just that one there.
    """
    store, with_decorators, options = _top(ctx, store, with_decorators, options)
    loaded, args = _load_with_configs(ctx, flow_file, ctx.args)
    options["branch"], options["production"] = project_from_env(options["branch"], options["production"])
    loaded = _with(loaded, with_decorators)
    _check_refresh(loaded, options)
    raw = parse_flow_options(loaded, args)
    if dry_run:
        _dry_run(loaded, Config.from_env(store=store), options, raw)
        return
    result = execute(loaded, Config.from_env(store=store), options_of(**options, debug=_debug(ctx)), raw)
    ctx.exit(result.exit_code)


@click.command()
@FLOW_ARGUMENT
@click.argument("step", required=False)
@click.option("--origin-run-id", default=None, help="The run to resume [default: the latest run of the flow].")
@run_options
@config_options
@click.pass_context
def resume(ctx, flow_file, step, origin_run_id, store, with_decorators, config_files, config_values, **options):
    """Resume a run of FLOW.py under a new run id, reusing its successful tasks.

    Without STEP, every task that succeeded is reused by reference (no data
    copied, no code re-run) and only what failed or never ran runs again.
    With STEP, tasks before it are reused and STEP and everything after it
    run again. Parameters and configs come from the origin run, as in
    Metaflow, which refuses --config and --config-value here; the code is
    the flow as it is now.
    """
    store, with_decorators, options = _top(ctx, store, with_decorators, options)
    if common.given_configs(ctx, config_inputs(config_files, config_values)).names:
        raise UsageError(
            "Cannot specify --config or --config-value with 'resume'.",
            "A resumed run keeps its origin's configs: start a new run with orch run to change them.",
        )
    settings = Config.from_env(store=store)
    loaded = load(ctx, flow_file)
    origin = origin_configs(loaded, settings, origin_run_id)  # the origin run's configs
    if origin.parsed:
        loaded = load(ctx, flow_file, origin.merged(ConfigInputs.from_env(os.environ)), loaded.module)
    options["branch"], options["production"] = project_from_env(options["branch"], options["production"])
    loaded = _with(loaded, with_decorators)
    _check_refresh(loaded, options)
    result = execute(
        loaded,
        settings,
        options_of(**options, debug=_debug(ctx)),
        origin_run_id=origin_run_id,
        resume_step=step,
        resuming=True,
    )
    ctx.exit(result.exit_code)


COMMANDS = (run, resume)
