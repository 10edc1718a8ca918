"""``orch``: the command group, and how errors reach the user.

Commands parse arguments, call the library, and format output. Errors a
user can cause are ``OrchError``s and print as one or two lines with no
traceback (``--debug`` adds it). Anything else is a bug in orch: it prints
as an internal error with its traceback.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from typing import Optional

import click

from .. import __version__
from ..errors import OrchError


@dataclass
class CliState:
    """Shared by every command: debug mode, and a flow module already imported by ``python flow.py``."""

    debug: bool = False
    preloaded: dict = field(default_factory=dict)  # abspath -> module


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="orch", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """orch: run Metaflow-style flows with every step in its own pinned container.

    \b
    Quick start:
      orch check flow.py        validate a flow and list every problem
      orch show flow.py         print its steps, transitions and environments
    """
    state = ctx.ensure_object(CliState)
    state.debug = state.debug or debug


def _register() -> None:
    from . import check, configure_cmds, envs_cmds, report_cmd, run, show, store_cmds, ui_cmd

    for module in (show, check, run, store_cmds, report_cmd, ui_cmd, envs_cmds, configure_cmds):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Optional[list] = None, prog_name: Optional[str] = None, state: Optional[CliState] = None) -> int:
    """Run the CLI and return its exit code; never lets a user error show a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = state or CliState()
    state.debug = state.debug or "--debug" in args
    try:
        result = cli.main(args=args, prog_name=prog_name or "orch", standalone_mode=False, obj=state)
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except OrchError as err:
        if state.debug:
            traceback.print_exc()
        click.echo(err.format(), err=True)
        return err.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception:  # a bug in orch, not the user's fault: show everything
        click.echo("orch: internal error (please report it with the traceback below)", err=True)
        traceback.print_exc()
        return 70


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
