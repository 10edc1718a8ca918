"""Helpers shared by commands: loading the flow named on the command line."""

from __future__ import annotations

import os
from typing import Optional

import click

from ..loader import LoadedFlow, check_flow, load_flow
from ..user_configs import ConfigInputs

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
