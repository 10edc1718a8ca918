"""Helpers shared by commands: loading the flow named on the command line."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple

import click

from ..authoring.loader import LoadedFlow, check_flow, load_flow
from ..authoring.user_configs import ConfigInputs

FLOW_ARGUMENT = click.argument("flow_file", metavar="FLOW.py", type=click.Path(dir_okay=False))


def preloaded_module(ctx: click.Context, path: str):
    """The flow module ``python flow.py`` already imported, so it is not imported twice."""
    state = ctx.find_root().obj
    return getattr(state, "preloaded", {}).get(os.path.abspath(path))


def given_configs(ctx: click.Context, own: Optional[ConfigInputs] = None) -> ConfigInputs:
    """The Config values given before the command (Metaflow's place) and after it (the command's)."""
    top = getattr(ctx.find_root().obj, "top", None)
    given = top.configs if top is not None else ConfigInputs()
    return given.merged(own) if own is not None else given


def load(ctx: click.Context, path: str, configs: Optional[ConfigInputs] = None, module=None) -> LoadedFlow:
    """The flow named on the command line, its configs bound; ``module``: one already imported."""
    return load_flow(path, module or preloaded_module(ctx, path), given_configs(ctx, configs))


def check(ctx: click.Context, path: str):
    return check_flow(path, preloaded_module(ctx, path), given_configs(ctx))


def store_config(ctx: click.Context, store: Optional[str]):
    """The config with the store the command names: its own --store, else Metaflow's top-level
    --datastore-root / --datastore (before the command), else ORCH_STORE or ./.orch."""
    from ..config import Config

    config = Config.from_env(store=store)
    top = getattr(ctx.find_root().obj, "top", None)
    if store is None and top is not None:
        named = top.store(config)
        if named is not None:
            config = Config.from_env(store=named)
    return config


def store_backend(ctx: click.Context, store: Optional[str]):
    """(config, backend) of the store the command names (see ``store_config``), with the configured
    AWS region and endpoint for an S3 store."""
    from ..store.factory import open_backend

    config = store_config(ctx, store)
    return config, open_backend(config.store, config.aws.region, config.aws.endpoint_url)


def quiet(ctx: click.Context) -> bool:
    """Metaflow's top-level --quiet: no banner and no headers, only the output itself."""
    top = getattr(ctx.find_root().obj, "top", None)
    return bool(top is not None and top.quiet)


def task_pathspec(ctx: click.Context, given: str, flow_file: Optional[str]) -> Tuple[str, str, str, Optional[str]]:
    """(flow, run, step, task or None) from FLOW/RUN/STEP[/TASK], or, with ``python flow.py``,
    from RUN/STEP[/TASK] and the flow file (Metaflow's form). Every part is a checked name."""
    from ..errors import UsageError
    from ..store.names import check_name

    parts = given.strip("/").split("/")
    if flow_file:
        if len(parts) not in (2, 3):
            raise UsageError("Give the task as RUN/STEP or RUN/STEP/TASK, not %r." % given)
        parts = [load(ctx, flow_file).name] + parts
    elif len(parts) not in (3, 4):
        raise UsageError("Give the task as FLOW/RUN/STEP or FLOW/RUN/STEP/TASK, not %r." % given)
    for kind, value in zip(("flow", "run", "step", "task"), parts):
        check_name(kind, value)
    return parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else None


def echo_marked(text: str, err: bool = False) -> None:
    """Print ``text`` as Metaflow's echo does: ``*word*`` marks a highlight, and the marks themselves are
    not printed (scripts that read Metaflow's output see none)."""
    click.echo(text.replace("*", ""), err=err)


class ExecutorChoice(click.Choice):
    """``--executor``: orch's own backends on this machine and the plugins', plus ``auto``. orch's own
    names are answered without reading the installed plugins; ``--help`` and an unknown name list all."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> Tuple[str, ...]:  # type: ignore[override]
        from ..backends.registry import here_choices

        return here_choices() + ("auto",)

    @choices.setter
    def choices(self, value: Any) -> None:
        pass  # click's own __init__ sets it; the registry answers instead

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from ..backends.registry import here_choices

        if value in here_choices(builtin=True) + ("auto",):
            return value
        return super().convert(value, param, ctx)
