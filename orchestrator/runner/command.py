"""Python keyword arguments → an ``orch`` command line, read off the click commands themselves.

``Runner("flow.py", quiet=True).run(max_workers=4, tags=["a"], alpha=0.5)``
becomes ``orch --quiet run flow.py --max-workers 4 --tag a --alpha=0.5``. The
names are the click parameters' own (``tags`` for ``--tag``, ``pylint=False``
for ``--no-pylint``), as in Metaflow's Runner, so nothing here lists options
by hand: a new CLI option is a new keyword at once. Keywords a command does
not know are the flow's parameters.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Tuple

import click

# Metaflow's Runner names for arguments orch's commands call otherwise.
ALIASES = {
    "step_to_rerun": "step",
    "decospecs": "with_decorators",
    "config": "config_files",
    "config_value": "config_values",
}


def _values(value: Any) -> List[Any]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _option_args(param: click.Option, value: Any) -> List[str]:
    if param.is_flag and not param.multiple:
        if value:
            return [param.opts[0]]
        return [param.secondary_opts[0]] if param.secondary_opts else []
    if param.nargs == 2:  # --config NAME FILE: a mapping, or (name, value) pairs
        pairs = value.items() if isinstance(value, Mapping) else value if param.multiple else [value]
        return [token for name, item in pairs for token in (param.opts[0], str(name), str(item))]
    return [token for item in (_values(value) if param.multiple else [value]) for token in (param.opts[0], str(item))]


def command_args(command: click.Command, kwargs: Mapping[str, Any]) -> Tuple[List[str], List[str], Dict[str, Any]]:
    """(option tokens, argument values, the keywords ``command`` does not know) for ``kwargs``.

    A keyword whose value is None is left out, as if not given."""
    params = {param.name: param for param in command.params}
    options: List[str] = []
    arguments: Dict[str, str] = {}
    unknown: Dict[str, Any] = {}
    for key, value in kwargs.items():
        name = ALIASES.get(key, key)
        param = params.get(name)
        if value is None:
            continue
        if isinstance(param, click.Option):
            options.extend(_option_args(param, value))
        elif isinstance(param, click.Argument) and name != "flow_file":
            arguments[name] = str(value)
        else:
            unknown[key] = value
    ordered = [arguments[p.name] for p in command.params if isinstance(p, click.Argument) and p.name in arguments]
    return options, ordered, unknown


def parameter_args(kwargs: Mapping[str, Any]) -> List[str]:
    """The flow's parameters as ``--name=value``: bools as true/false, lists and dicts as JSON."""
    tokens = []
    for name, value in kwargs.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (dict, list, tuple)):
            text = json.dumps(value)
        else:
            text = str(value)
        tokens.append("--%s=%s" % (name, text))
    return tokens


def top_level_names() -> List[str]:
    from ..cli.main import cli

    return sorted(p.name for p in cli.params if isinstance(p, click.Option) and p.name and not p.is_eager)


def top_level_args(kwargs: Mapping[str, Any]) -> List[str]:
    """Metaflow's top-level options (``Runner(flow, quiet=True, pylint=False, ...)``) as tokens."""
    from ..cli.main import cli

    options, _, unknown = command_args(cli, kwargs)
    if unknown:
        raise TypeError(
            "Runner() got unexpected keyword argument(s) %s; the top-level options are: %s"
            % (", ".join(repr(k) for k in sorted(unknown)), ", ".join(top_level_names()))
        )
    return options


def flow_command(flow_file: str, top: Mapping[str, Any], name: str, kwargs: Mapping[str, Any]) -> List[str]:
    """``orch TOP... run|resume|spin FLOW.py ARGS... OPTIONS... --param=value...`` for ``python -m orchestrator``."""
    from ..cli.run import COMMANDS
    from ..cli.spin_cmd import COMMANDS as SPIN

    command = {c.name: c for c in COMMANDS + SPIN}[name]
    options, arguments, params = command_args(command, kwargs)
    if name != "run" and params:
        raise TypeError(
            "%s() got unexpected keyword argument(s) %s: it takes its parameters from the origin run."
            % (name, ", ".join(repr(k) for k in sorted(params)))
        )
    return top_level_args(top) + [name, flow_file] + arguments + options + parameter_args(params)


def invocation(
    flow_file: str, profile: Optional[str], env: Optional[Dict[str, str]], cwd: Optional[str], top: Dict[str, Any]
) -> Tuple[str, Dict[str, str], str, Dict[str, Any]]:
    """(flow file, environment, folder, top-level options) of a Runner's or Deployer's commands: the
    flow file must exist and every top-level keyword must be an option, or this fails now, not later."""
    import os

    path = os.path.abspath(flow_file)
    if not os.path.isfile(path):
        raise FileNotFoundError("No flow file at %s." % path)
    variables = dict(os.environ)
    variables.update(env or {})
    if profile:  # accepted as in Metaflow; orch reads its settings from ORCH_CONFIG and the environment
        variables["METAFLOW_PROFILE"] = profile
    top_level_args(top)
    return path, variables, cwd or os.getcwd(), dict(top)
