"""``orch configure SECTION`` writes a backend's settings (``aws`` for Batch); ``orch configure show``
prints the effective ones. The sections come from the backend registry, so a plugin backend's
settings get a command of their own with no edit here."""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Dict, List, Optional

import click

from ..backends.registry import backends
from ..backends.spec import ConfigSection
from ..config import Config, config_path, read_config_file, section_values, write_config_file
from ..errors import UsageError


def _sections() -> Dict[str, ConfigSection]:
    return {b.configure.name: b.configure for b in backends() if b.configure is not None}


class ConfigureGroup(click.Group):
    """``show``, plus one command per configuration section the registered backends declare."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(set(super().list_commands(ctx)) | set(_sections()))

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in self.commands and name in _sections():
            self.add_command(section_command(_sections()[name]))
        return super().get_command(ctx, name)


@click.group(cls=ConfigureGroup)
def configure():
    """Write or show orch's configuration file [env ORCH_CONFIG; default ~/.config/orch/config.json]."""


def section_command(section: ConfigSection) -> click.Command:
    """The ``orch configure NAME`` command of one section: an option per setting."""
    variables = ", ".join(v for s in section.settings for v in s.env[:1])
    doc = (
        "%s\n\nOptions not given are asked for on a terminal and kept as they are otherwise. Environment "
        "variables still override the file: %s. Credentials are never written here: boto3 and the like "
        "find them as usual (environment, ~/.aws, a role)." % (section.help, variables)
    )

    def write(**given: Any) -> None:
        _write(section, given)

    command = click.Command(section.name, callback=write, help=doc)
    for setting in section.settings:
        flag = setting.option.lstrip("-")
        decl = ["%s/--no-%s" % (setting.option, flag)] if setting.flag else [setting.option]
        command.params.append(click.Option(decl + [setting.name], default=None, help=setting.help))
    return command


def _write(section: ConfigSection, given: Dict[str, Any]) -> None:
    path = config_path()
    data = read_config_file(path)
    values = dict(data.get(section.name) or {})
    interactive = sys.stdin.isatty() and not any(v is not None for v in given.values())
    for setting in section.settings:
        value = given.get(setting.name)
        if value is None and interactive and not setting.flag:
            shown = setting.help.rstrip(".")
            value = click.prompt(shown, default=values.get(setting.name) or "", show_default=True).strip()
        if value is None:
            continue
        if setting.pattern and value and not re.match(setting.pattern, str(value)):
            raise UsageError(
                "orch configure %s %s must look like %s, not %r."
                % (section.name, setting.option, setting.shape or setting.pattern, value),
                "See: orch configure %s --help" % section.name,
            )
        if value in ("", False) and not setting.flag:
            values.pop(setting.name, None)
        else:
            values[setting.name] = value
    data[section.name] = values
    write_config_file(path, data)
    click.echo("Wrote %s" % path)


@configure.command("show")
def configure_show():
    """Print the effective configuration and where each value comes from. Secrets are never printed."""
    config = Config.from_env()
    path = config_path()
    click.echo("config file: %s%s" % (path, "" if os.path.exists(path) else " (not written yet)"))
    click.echo("store:       %s%s" % (config.store_url, "" if config.store_given else " (default)"))
    data = read_config_file(path)
    overridden = []
    for name, section in sorted(_sections().items()):
        values, origins = section_values(section, data, os.environ)
        click.echo("%s:" % name)
        for setting in section.settings:
            value = values.get(setting.name)
            shown = value if value not in (None, "") else "-"
            click.echo("  %-20s %-40s (%s)" % (setting.name, shown, origins.get(setting.name, "default")))
        overridden += [v for s in section.settings for v in s.env if os.environ.get(v)]
        if name == "aws":
            keys = (
                "set, from the environment" if os.environ.get("AWS_ACCESS_KEY_ID") else "boto3's chain (~/.aws, a role)"
            )
            click.echo("  %-20s %s" % ("credentials", keys))
    if overridden:
        click.echo("environment overrides: %s" % ", ".join(dict.fromkeys(overridden)))


COMMANDS = (configure,)
