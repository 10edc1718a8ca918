"""``orch show FLOW.py``: the flow's DAG, for people or machines."""

from __future__ import annotations

import os

import click

from ..graph.picture import PICTURE_FORMATS, draw
from ..graph.render import RENDERERS, to_dot, to_metaflow_text
from .common import FLOW_ARGUMENT, load


@click.command()
@FLOW_ARGUMENT
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS) + list(PICTURE_FORMATS)),
    default="text",
    show_default=True,
    help="text for people; json or dot (Graphviz) for tools; svg or png for a picture (needs Graphviz).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where svg/png go [default: FLOWNAME.svg or .png here]; text formats print.",
)
@click.pass_context
def show(ctx: click.Context, flow_file: str, fmt: str, out: str) -> None:
    """Show the steps of FLOW.py: types, docstrings, transitions, decorators and environments.

    The flow is validated first; an invalid flow prints its problems, as
    `orch check` does, and exits 1.
    """
    loaded = load(ctx, flow_file)
    if getattr(ctx.find_root().obj, "script", False) and fmt == "text":  # python flow.py show: Metaflow's
        for line, err in to_metaflow_text(loaded.graph):
            click.echo(line, err=err)
        return
    if fmt in PICTURE_FORMATS:
        picture = draw(to_dot(loaded.graph), fmt)
        out = out or "%s.%s" % (loaded.name, fmt)
        temp = "%s.tmp-%d" % (out, os.getpid())
        with open(temp, "wb") as handle:
            handle.write(picture)
        os.replace(temp, out)
        click.echo("Wrote %s (%d bytes)" % (out, len(picture)))
        return
    click.echo(RENDERERS[fmt](loaded.graph), nl=False)


COMMANDS = (show,)
