"""``python flow.py <command>``: Metaflow-style entry through ``FlowSpec()``.

The flow module is already imported as ``__main__``; it is handed to the CLI
as preloaded, so it is not imported twice, and the flow file is inserted as
the command's argument: ``python flow.py show --format json`` runs
``orch show flow.py --format json``.
"""

from __future__ import annotations

import os
import sys

from .main import LAZY_COMMANDS, CliState, main
from .top_options import FLAG_OPTIONS, PAIR_OPTIONS, VALUE_OPTIONS

FLOW_FILE_OPTION = ("tag",)


def script_argv(argv: list, flow_file: str) -> list:
    """Insert the flow file after the command name; skip the group's options (Metaflow's top-level
    ones: ``--datastore=local``, ``--with batch``...) and leave --help alone."""
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in FLAG_OPTIONS or arg.split("=", 1)[0] in VALUE_OPTIONS and "=" in arg:
            index += 1
            continue
        if arg in VALUE_OPTIONS:
            index += 2
            continue
        if arg in PAIR_OPTIONS:
            index += 3
            continue
        if arg.startswith("-"):
            return args  # --help, --version, or a bad flag: the group handles it
        if arg in FLOW_FILE_OPTION:  # a command group: the flow file goes in as an option
            return args[: index + 1] + ["--flow-file", flow_file] + args[index + 1 :]
        if arg in LAZY_COMMANDS:
            return args[: index + 1] + [flow_file] + args[index + 1 :]
        return args
    return args


def run_as_script(flow_class: type) -> None:
    module = sys.modules.get(flow_class.__module__)
    flow_file = getattr(module, "__file__", None) or sys.argv[0]
    if os.path.abspath(sys.argv[0]) == os.path.abspath(flow_file):
        flow_file = sys.argv[0]  # show paths as the user typed them
    state = CliState(preloaded={os.path.abspath(flow_file): module})
    argv = script_argv(sys.argv[1:], flow_file)
    prog = "python " + os.path.basename(flow_file)
    sys.exit(main(argv, prog_name=prog, state=state))
