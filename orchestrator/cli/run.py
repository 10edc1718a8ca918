"""``orch run`` and ``orch resume``: placeholders until the runtime lands."""

from __future__ import annotations

import click

from ..errors import NotAvailableError
from .common import FLOW_ARGUMENT, load


def _not_yet(command: str) -> NotAvailableError:
    return NotAvailableError(
        "'%s' is not available in orch %s yet: this version validates and shows flows only." % (command, "0.1.0"),
        "Use 'orch check' and 'orch show' for now.",
    )


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@FLOW_ARGUMENT
@click.pass_context
def run(ctx: click.Context, flow_file: str) -> None:
    """Run FLOW.py (not available in this version)."""
    load(ctx, flow_file)
    raise _not_yet("run")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@FLOW_ARGUMENT
@click.pass_context
def resume(ctx: click.Context, flow_file: str) -> None:
    """Resume a failed run of FLOW.py (not available in this version)."""
    load(ctx, flow_file)
    raise _not_yet("resume")


COMMANDS = (run, resume)
