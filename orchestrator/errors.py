"""One error root for everything orch reports to a user.

Every error a user can cause is an ``OrchError``: it carries a one-line
headline, an optional hint saying how to fix it, and, for flow errors, the
file and line it points at. The CLI prints these as ``FILE:LINE: headline
hint`` and exits with ``exit_code``; anything that is not an ``OrchError`` is
a bug in orch and is shown as an internal error with its traceback.

This module is imported by the task-side runtime, so it uses the standard
library only and stays importable on Python 3.8.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional, Tuple


class OrchError(Exception):
    """Base of all user-facing errors; knows how to print itself."""

    exit_code = 1

    def __init__(
        self,
        headline: str,
        hint: Optional[str] = None,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
    ) -> None:
        super().__init__(headline)
        self.headline = headline
        self.hint = hint
        self.file = file
        self.line = line

    def format(self) -> str:
        """``FILE:LINE: headline hint`` with whatever parts are known."""
        text = self.headline if not self.hint else "%s %s" % (self.headline, self.hint)
        if self.file and self.line:
            return "%s:%d: %s" % (self.file, self.line, text)
        if self.file:
            return "%s: %s" % (self.file, text)
        return text

    def __str__(self) -> str:
        return self.format()


class UsageError(OrchError):
    """The command line itself is wrong (bad option value, unknown executor)."""

    exit_code = 2


class FlowDefinitionError(OrchError):
    """A flow file is wrong: bad decorator arguments, bad parameters, bad graph."""


class FlowCheckError(FlowDefinitionError):
    """A flow failed validation; carries every problem found, not just the first."""

    def __init__(self, problems: list) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__("%d problem%s found in the flow." % (count, "" if count == 1 else "s"))

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)


class ParameterError(UsageError):
    """A flow parameter was given a bad value, or a required one is missing."""


class MissingPackageFile(OrchError):
    """A file that ships inside orch's package is not there: a broken or partial installation."""

    def __init__(self, path: str) -> None:
        from .version import DISTRIBUTION

        super().__init__(
            "orch's installation is missing its own file %s." % path,
            "Reinstall it: pip install --force-reinstall %s." % DISTRIBUTION,
        )


def caller_location(*internal: str) -> Tuple[Optional[str], Optional[int]]:
    """File and line of the user code that called into orch (the class body that declared a
    parameter or config), skipping frames of the ``internal`` files, for located errors."""
    skip = set(internal) | {__file__}
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in skip:
        frame = frame.f_back
    if frame is None:
        return None, None
    path = frame.f_code.co_filename
    try:
        relative = os.path.relpath(path)
        path = path if relative.startswith("..") else relative
    except ValueError:
        pass
    return path, frame.f_lineno


def install_script_excepthook() -> None:
    """Print an uncaught ``OrchError`` as its one located line, not a traceback.

    ``python flow.py run`` imports the flow as ``__main__``; a bad decorator
    argument raises while the module loads, before ``FlowSpec()`` can hand
    over to the CLI and its error handling. Called only when such an error is
    raised; ``--debug`` on the command line keeps the full traceback.
    """
    previous = sys.excepthook
    if getattr(previous, "_orch", False):
        return

    def hook(kind, value, tb):  # type: ignore[no-untyped-def]
        if isinstance(value, OrchError) and "--debug" not in sys.argv:
            sys.stderr.write(value.format() + "\n")
            return
        previous(kind, value, tb)

    hook._orch = True  # type: ignore[attr-defined]
    sys.excepthook = hook
