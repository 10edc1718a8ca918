"""Metaflow's top-level options, before the command: ``python flow.py --datastore=local --quiet run``.

Where orch has the concept they take effect: ``--datastore-root`` (or
``--datastore=local|s3``) is the store, ``--with`` adds decorators to every
step, ``--quiet`` streams no task logs. The rest are accepted for Metaflow
scripts and have no effect, because orch has the behaviour built in: run
metadata always lives in the store (``--metadata=local``), ``@conda`` and
``@pypi`` always apply (``--environment``), there are no sidecar loggers or
monitors, and ``orch check`` is the linter (``--no-pylint``). A value orch
does not know gets a one-line error saying what it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import click

from ..authoring.user_configs import ConfigInputs

# option → the values orch accepts for it; None: any value (a path)
_ACCEPTED = {
    "metadata": ("local",),
    "datastore": ("local", "s3"),
    "environment": ("local", "conda", "pypi", "uv"),
    "event_logger": ("nullSidecarLogger", "debugLogger"),
    "monitor": ("nullSidecarMonitor", "debugMonitor"),
}
_WHY = {
    "metadata": "orch keeps run metadata in its store; there is no metadata service.",
    "datastore": "orch stores runs in a local directory or in S3.",
    "environment": "@conda and @pypi always apply in orch; no other environment exists.",
    "event_logger": "orch has no sidecar event loggers.",
    "monitor": "orch has no sidecar monitors.",
}
VALUE_OPTIONS = ("--metadata", "--datastore", "--datastore-root", "--environment", "--event-logger", "--monitor")
VALUE_OPTIONS += ("--with", "--branch")
PAIR_OPTIONS = ("--config", "--config-value")  # NAME VALUE: two values each
FLAG_OPTIONS = ("--quiet", "--no-pylint", "--pylint", "--debug", "--production")


@dataclass(frozen=True)
class TopLevel:
    """What the top-level options ask of every command."""

    datastore: Optional[str] = None
    datastore_root: Optional[str] = None
    quiet: bool = False
    with_decorators: Tuple[str, ...] = ()
    branch: Optional[str] = None  # @project
    production: bool = False  # @project
    configs: ConfigInputs = ConfigInputs()  # --config / --config-value

    def store(self, configured: Any) -> Optional[str]:
        """The store the options name, if any: --datastore-root wins; --datastore=s3 takes the
        configured S3 store (ORCH_STORE, or orch configure aws --s3-root) and needs one."""
        if self.datastore_root:
            return self.datastore_root
        if self.datastore == "s3":
            if configured.store.is_s3:
                return configured.store.url
            if configured.aws.s3_root:
                return configured.aws.s3_root
            raise click.UsageError(
                "--datastore=s3 needs the bucket: give --datastore-root s3://BUCKET/PREFIX "
                "(or set ORCH_STORE=s3://BUCKET/PREFIX)."
            )
        return None


def _check(name: str) -> Callable[[Any, Any, Optional[str]], Optional[str]]:
    def check(ctx: Any, param: Any, value: Optional[str]) -> Optional[str]:
        if value is None or value in _ACCEPTED[name]:
            return value
        raise click.BadParameter(
            "%r is not supported: %s Use one of: %s." % (value, _WHY[name], ", ".join(_ACCEPTED[name])),
            param_hint="--%s" % name.replace("_", "-"),
        )

    return check


def options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate the command group with Metaflow's top-level options."""
    for option in reversed(
        [
            click.option("--metadata", callback=_check("metadata"), help="Accepted for Metaflow scripts: local."),
            click.option(
                "--datastore",
                callback=_check("datastore"),
                help="local or s3 (with --datastore-root): where runs are stored.",
            ),
            click.option("--datastore-root", default=None, help="The store: a directory or s3://bucket/prefix."),
            click.option(
                "--environment", callback=_check("environment"), help="Accepted for Metaflow scripts; no effect."
            ),
            click.option("--event-logger", callback=_check("event_logger"), help="Accepted; no effect."),
            click.option("--monitor", callback=_check("monitor"), help="Accepted; no effect."),
            click.option("--pylint/--no-pylint", default=True, help="Accepted; orch check is the linter."),
            click.option("--quiet", is_flag=True, help="Do not stream task logs (for run and resume)."),
            click.option(
                "--branch",
                default=None,
                envvar=["ORCH_BRANCH", "METAFLOW_BRANCH"],
                help="@project: run on this branch (test.BRANCH; prod.BRANCH with --production).",
            ),
            click.option(
                "--production",
                is_flag=True,
                envvar=["ORCH_PRODUCTION", "METAFLOW_PRODUCTION"],
                help="@project: run on the production branch.",
            ),
            click.option(
                "--with",
                "with_decorators",
                multiple=True,
                metavar="DECORATOR[:k=v,...]",
                help="Add a step decorator to every step, for run and resume (repeatable).",
            ),
        ]
        + config_options()
    ):
        func = option(func)
    return func


def config_options() -> list:
    """``--config NAME FILE`` and ``--config-value NAME JSON``: the flow's Config values (repeatable)."""
    return [
        click.option(
            "--config",
            "config_files",
            nargs=2,
            multiple=True,
            metavar="NAME FILE",
            help="Read config NAME from FILE (repeatable) [env METAFLOW_FLOW_CONFIG].",
        ),
        click.option(
            "--config-value",
            "config_values",
            nargs=2,
            multiple=True,
            metavar="NAME JSON",
            help="Give config NAME as a value (repeatable) [env METAFLOW_FLOW_CONFIG_VALUE].",
        ),
    ]


def config_inputs(files: Any, values: Any) -> ConfigInputs:
    return ConfigInputs(tuple(tuple(p) for p in files or ()), tuple(tuple(p) for p in values or ()))


def top_level(values: dict) -> TopLevel:
    """The options the group received (click's keyword arguments) as one frozen value."""
    return TopLevel(
        datastore=values.get("datastore"),
        datastore_root=values.get("datastore_root"),
        quiet=bool(values.get("quiet")),
        with_decorators=tuple(values.get("with_decorators") or ()),
        branch=values.get("branch") or None,
        production=bool(values.get("production")),
        configs=config_inputs(values.get("config_files"), values.get("config_values")),
    )


def project_from_env(branch: Optional[str], production: bool) -> Tuple[Optional[str], bool]:
    """--branch/--production, or their environment variables as they are *after* the flow was imported:
    a flow file may set ``METAFLOW_BRANCH`` at import (Metaflow's suite does), which ``python flow.py``
    sees because the import comes first; ``orch run flow.py`` parses options before, so reads again."""
    import os

    if not branch:
        branch = os.environ.get("ORCH_BRANCH") or os.environ.get("METAFLOW_BRANCH") or None
    if not production:
        flag = os.environ.get("ORCH_PRODUCTION") or os.environ.get("METAFLOW_PRODUCTION") or ""
        production = flag.strip().lower() in ("1", "true", "t", "yes", "y", "on")
    return branch, production
