"""Helpers shared by commands: loading the flow named on the command line."""

from __future__ import annotations

import os

import click

from ..loader import LoadedFlow, check_flow, load_flow

FLOW_ARGUMENT = click.argument("flow_file", metavar="FLOW.py", type=click.Path(dir_okay=False))


def preloaded_module(ctx: click.Context, path: str):
    """The flow module ``python flow.py`` already imported, so it is not imported twice."""
    state = ctx.find_root().obj
    return getattr(state, "preloaded", {}).get(os.path.abspath(path))


def load(ctx: click.Context, path: str) -> LoadedFlow:
    return load_flow(path, preloaded_module(ctx, path))


def check(ctx: click.Context, path: str):
    return check_flow(path, preloaded_module(ctx, path))
