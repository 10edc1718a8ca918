"""``orch why FLOW/RUN/STEP[/TASK]``: why a cached step's tasks were reused or ran (step memoization)."""

from __future__ import annotations

import click

from .common import store_backend, task_pathspec


@click.command()
@click.argument("pathspec", metavar="FLOW/RUN/STEP[/TASK]")
@click.option("--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE].")
@click.option("--flow-file", default=None, hidden=True)  # set by python flow.py why ...
@click.pass_context
def why(ctx, pathspec, store, flow_file):
    """Say why each task of a step was reused from the cache, or why it ran: the task reused, or every
    part of the key that differs from the nearest earlier task (code diff, packages, parameters, inputs)."""
    from ..memo.why import explain

    flow, run, step, task = task_pathspec(ctx, pathspec, flow_file)
    _, backend = store_backend(ctx, store)
    for line in explain(backend, flow, run, step, task):
        click.echo(line)


COMMANDS = (why,)
