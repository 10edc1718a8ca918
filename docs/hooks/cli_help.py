"""MkDocs hook: each CLI page shows its command's ``--help``, generated from the click commands at build time.

A page asks for a command's help with a line ``<!-- orch-help: run -->``
(``<!-- orch-help: -->`` is the top-level ``orch --help``). A group's help
is followed by each of its subcommands'. The build fails when a command has
no page, or a page names a command that does not exist, so the reference
cannot drift from the code.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

import click
from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- orch-help:\s*(?P<name>[\w-]*)\s*-->$", re.MULTILINE)
WIDTH = 80  # the width of the content column, so no help line scrolls


def _group() -> click.Group:
    from orchestrator.cli.main import cli

    return cli


def _contexts(path: str) -> List[Tuple[click.Context, click.Command]]:
    """(context, command) for ``orch PATH`` and, for a group, each of its subcommands in name order."""
    root = _group()
    top = click.Context(root, info_name="orch", terminal_width=WIDTH, max_content_width=WIDTH)
    if not path:
        return [(top, root)]
    command = root.get_command(top, path)
    if command is None:
        raise PluginError("docs: no command 'orch %s' (a page names it in an orch-help marker)" % path)
    context = click.Context(command, info_name=path, parent=top)
    found = [(context, command)]
    if isinstance(command, click.Group):
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            found.append((click.Context(sub, info_name=name, parent=context), sub))
    return found


def help_block(path: str) -> str:
    """The Markdown for a marker: each command's ``--help`` in a fenced block under a heading."""
    parts = []
    for context, command in _contexts(path):
        if context.parent is not None and context.parent.command is not _group():
            parts.append("### `%s`\n" % context.command_path)
        parts.append("```text\n%s\n```\n" % command.get_help(context).rstrip())
    return "\n".join(parts)


def on_files(files: Any, config: Dict[str, Any]) -> Any:
    """Every top-level command must have a page that shows its help."""
    shown = set()
    for file in files.documentation_pages():
        shown.update(match.group("name") for match in MARKER.finditer(file.content_string))
    root = _group()
    commands = set(root.list_commands(click.Context(root, info_name="orch"))) | {""}
    missing = sorted(commands - shown)
    if missing:
        raise PluginError("docs: no CLI page shows the help of: %s" % ", ".join("orch %s" % m for m in missing))
    return files


def on_page_markdown(markdown: str, page: Any, config: Dict[str, Any], files: Any) -> str:
    return MARKER.sub(lambda match: help_block(match.group("name")), markdown)
