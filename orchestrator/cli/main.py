"""``orch``: the command group, and how errors reach the user.

Commands parse arguments, call the library, and format output. Errors a
user can cause are ``OrchError``s and print as one or two lines with no
traceback (``--debug`` adds it). Anything else is a bug in orch: it prints
as an internal error with its traceback.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

import click

from ..errors import OrchError
from ..version import __version__
from . import top_options


@dataclass
class CliState:
    """Shared by every command: debug mode, and a flow module already imported by ``python flow.py``."""

    debug: bool = False
    preloaded: dict = field(default_factory=dict)  # abspath -> module
    top: top_options.TopLevel = field(default_factory=top_options.TopLevel)  # Metaflow's top-level options
    script: bool = False  # started as ``python flow.py COMMAND``: print what Metaflow's own CLI prints


# command name → module of ``orchestrator.cli`` defining it: a command's module is imported only when
# that command runs (or for --help), so ``orch check`` never loads the runtime, Docker or boto3.
LAZY_COMMANDS = {
    "show": "show",
    "check": "check",
    "run": "run",
    "resume": "run",
    "runs": "store_cmds",
    "logs": "store_cmds",
    "fsck": "store_cmds",
    "gc": "store_cmds",
    "report": "report_cmd",
    "ui": "ui_cmd",
    "build-envs": "envs_cmds",
    "envs": "envs_cmds",
    "images": "envs_cmds",
    "configure": "configure_cmds",
    "tag": "tag_cmd",
    "dump": "dump_cmd",
    "spin": "spin_cmd",
    "why": "why_cmd",
    "card": "card_cmd",
    "step-functions": "sfn_cmd",
    "events": "events_cmd",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module = importlib.import_module("%s.%s" % (__package__, LAZY_COMMANDS[cmd_name]))
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="orch", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@top_options.options
@click.pass_context
def cli(ctx: click.Context, debug: bool, **top: Any) -> None:
    """orch: run Metaflow-style flows with every step in its own pinned container.

    \b
    Quick start:
      orch check flow.py        validate a flow and list every problem
      orch show flow.py         print its steps, transitions and environments
    """
    state = ctx.ensure_object(CliState)
    state.debug = state.debug or debug
    state.top = top_options.top_level(top)


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
            import traceback  # only on errors: keeps every command's start-up lean

            traceback.print_exc()
        click.echo(err.format(), err=True)
        return err.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception:  # a bug in orch, not the user's fault: show everything
        click.echo("orch: internal error (please report it with the traceback below)", err=True)
        import traceback  # only on errors: keeps every command's start-up lean

        traceback.print_exc()
        return 70


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
