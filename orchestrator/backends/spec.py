"""What a backend tells orch about itself: one frozen descriptor, read by the registry and nobody else.

A backend is a place a step's tasks run: this machine's processes, its
Docker engine, AWS Batch, or a third party's. Everything orch's core needs
to know of one is in its ``Backend`` descriptor; the rest lives in the
backend's own modules, named here by dotted path (``"package.module:name"``)
and imported only when a run uses the backend, so ``orch check`` never loads
Docker or boto3. Task-side code (the in-job entry reads it): standard
library only, Python 3.8 compatible.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Optional, Tuple

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Setting:
    """One value of an ``orch configure SECTION`` command: a key of the config file's section."""

    name: str  # the key in the section, e.g. "batch_queue"
    option: str  # the command's option, e.g. "--queue"
    help: str
    env: Tuple[str, ...] = ()  # variables that override the file, the first one set wins
    flag: bool = False  # a yes/no value (--forward-credentials / --no-forward-credentials)
    pattern: Optional[str] = None  # a regular expression a given value must match
    shape: Optional[str] = None  # what a value looks like, for the error when it does not match


@dataclass(frozen=True)
class ConfigSection:
    """``orch configure NAME``: where a backend's settings live in the config file, and what they mean."""

    name: str
    help: str
    settings: Tuple[Setting, ...]

    def setting(self, name: str) -> Setting:
        return next(s for s in self.settings if s.name == name)


@dataclass(frozen=True)
class Backend:
    """A backend, described. Only ``name``, ``summary`` and ``prepare`` are required.

    - ``name``: what ``--with NAME`` and the run record's executor call it.
    - ``prepare``: ``"module:function"`` taking an ``executors.base.SetupRequest`` (the steps placed
      on it) and returning a frozen ``ExecutorSetup``, which creates the ``Executor``.
    - ``decorator``: the step decorator that places a step here (``@batch``), registered as a step
      decorator by the same name; its arguments are its spec's fields. None: chosen with
      ``--executor`` only (local, docker).
    - ``on_this_machine``: its tasks run here, so they count against ``--max-workers``, read the
      run's fetched ``@secrets`` and write their logs where the console follows them.
    - ``configure``: its ``orch configure`` section, if it has settings.
    - ``run_config``: ``"module:function"`` taking and returning a ``config.Config``, for a run with
      steps here (Batch: the store becomes the configured S3 root).
    - ``entry``: ``"module:function"`` a job of this backend runs inside the image, through
      ``python -m orchestrator.task --entry NAME``; None when jobs run the task runner directly.
    - ``placement``: (metadata key, environment variable) pairs the task records about where it ran,
      shown by ``task.metadata_dict`` (Batch: ``aws-batch-job-id`` from ``AWS_BATCH_JOB_ID``...).
    """

    name: str
    summary: str
    prepare: str
    decorator: Optional[str] = None
    on_this_machine: bool = True
    configure: Optional[ConfigSection] = None
    run_config: Optional[str] = None
    entry: Optional[str] = None
    placement: Tuple[Tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError("A backend's name must be lower-case letters, digits and _, not %r." % self.name)
        for dotted in (self.prepare, self.run_config, self.entry):
            if dotted is not None and not _DOTTED.match(dotted):
                raise ValueError("Backend %s: %r is not 'package.module:name'." % (self.name, dotted))


def load(dotted: str) -> Any:
    """The object a ``"package.module:name"`` path names, importing its module."""
    if not _DOTTED.match(dotted):
        raise ValueError("%r is not 'package.module:name'." % dotted)
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)
