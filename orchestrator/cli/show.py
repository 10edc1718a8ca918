"""``orch show FLOW.py``: the flow's DAG, for people or machines."""

from __future__ import annotations

import click

from ..graph.render import RENDERERS
from .common import FLOW_ARGUMENT, load


@click.command()
@FLOW_ARGUMENT
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text for people; json or dot (Graphviz) for tools.",
)
@click.pass_context
def show(ctx: click.Context, flow_file: str, fmt: str) -> None:
    """Show the steps of FLOW.py: types, docstrings, transitions, decorators and environments.

    The flow is validated first; an invalid flow prints its problems, as
    `orch check` does, and exits 1.
    """
    loaded = load(ctx, flow_file)
    click.echo(RENDERERS[fmt](loaded.graph), nl=False)


COMMANDS = (show,)
