"""``python flow.py <command>``: Metaflow-style entry through ``FlowSpec()``.

The flow module is already imported as ``__main__``; it is handed to the CLI
as preloaded, so it is not imported twice, and the flow file is inserted as
the command's argument: ``python flow.py show --format json`` runs
``orch show flow.py --format json``.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from .main import LAZY_COMMANDS, CliState, main
from .top_options import FLAG_OPTIONS, PAIR_OPTIONS, VALUE_OPTIONS

GROUP_COMMANDS = ("step-functions",)  # the flow file follows the sub-command: step-functions create FLOW.py
FLOW_FILE_OPTION = ("tag", "dump", "logs", "why", "card")  # commands on a past run: the flow file names the flow


def _command_index(args: list) -> int:
    """Where the command's name stands, after the group's options (Metaflow's top-level ones:
    ``--datastore=local``, ``--with batch``...); -1 for --help, --version or a bad flag."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in FLAG_OPTIONS or arg.split("=", 1)[0] in VALUE_OPTIONS and "=" in arg:
            index += 1
        elif arg in VALUE_OPTIONS:
            index += 2
        elif arg in PAIR_OPTIONS:
            index += 3
        elif arg.startswith("-"):
            return -1
        else:
            return index
    return -1


def script_argv(argv: list, flow_file: str) -> list:
    """Insert the flow file after the command name, and leave --help alone."""
    args = list(argv)
    index = _command_index(args)
    if index < 0:
        return args  # --help, --version, or a bad flag: the group handles it
    if args[index] in FLOW_FILE_OPTION:  # a command on a past run: the flow file goes in as an option
        return args[: index + 1] + ["--flow-file", flow_file] + args[index + 1 :]
    if args[index] in GROUP_COMMANDS and index + 1 < len(args) and not args[index + 1].startswith("-"):
        return args[: index + 2] + [flow_file] + args[index + 2 :]  # step-functions create flow.py ...
    if args[index] in LAZY_COMMANDS:
        return args[: index + 1] + [flow_file] + args[index + 1 :]
    return args


def banner(flow_name: str, argv: list) -> Optional[str]:
    """Metaflow's first line on stderr, ``... executing FLOW for user:NAME``, which scripts that read
    its stderr skip; none with --quiet before the command, or for --help."""
    index = _command_index(list(argv))
    if index < 0 or "--quiet" in argv[:index] or "--help" in argv or "-h" in argv:
        return None
    from ..config import Config
    from ..version import __version__

    return "orch %s executing %s for user:%s" % (__version__, flow_name, Config.from_env().username)


def run_as_script(flow_class: type) -> None:
    module = sys.modules.get(flow_class.__module__)
    flow_file = getattr(module, "__file__", None) or sys.argv[0]
    if os.path.abspath(sys.argv[0]) == os.path.abspath(flow_file):
        flow_file = sys.argv[0]  # show paths as the user typed them
    state = CliState(preloaded={os.path.abspath(flow_file): module}, script=True)
    argv = script_argv(sys.argv[1:], flow_file)
    prog = "python " + os.path.basename(flow_file)
    line = banner(flow_class.__name__, sys.argv[1:])
    if line:
        print(line, file=sys.stderr, flush=True)
    sys.exit(main(argv, prog_name=prog, state=state))
