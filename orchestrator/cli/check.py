"""``orch check FLOW.py``: validate a flow and report every problem at once."""

from __future__ import annotations

import click

from .common import FLOW_ARGUMENT
from .common import check as check_flow_file


@click.command()
@FLOW_ARGUMENT
@click.pass_context
def check(ctx: click.Context, flow_file: str) -> None:
    """Validate FLOW.py without running it.

    Prints every problem as FILE:LINE: message, with how to fix it, and exits
    1 if there is any; exits 0 on a valid flow.
    """
    loaded, problems = check_flow_file(ctx, flow_file)
    for problem in problems:
        click.echo(problem.format(), err=True)
    if problems:
        click.echo("%d problem%s found." % (len(problems), "" if len(problems) == 1 else "s"), err=True)
        ctx.exit(1)
    graph = loaded.graph
    click.echo("%s: flow %s is valid: %d steps." % (flow_file, graph.name, len(graph)))


COMMANDS = (check,)
