"""Metaflow's exception classes, so ``from metaflow.exception import ...`` ports by its import line.

Flows raise and catch these: a step raises a ``MetaflowException`` subclass
of its own (with a ``headline``), a notebook catches ``MetaflowNotFound`` or
``MetaflowNamespaceMismatch`` from the client, a join catches
``UnhandledInMergeArtifactsException``. The ones orch itself raises are also
``OrchError``s (they print as one located line), through the classes in
``client`` and ``flowspec`` that derive from both. Standard library only.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = [
    "CaughtException",
    "CommandException",
    "ExternalCommandFailed",
    "InvalidDecoratorAttribute",
    "MetaflowDataMissing",
    "MetaflowException",
    "MetaflowExceptionWrapper",
    "MetaflowInternalError",
    "MetaflowInvalidPathspec",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MetaflowTaggingError",
    "MetaflowTestException",
    "MetaflowUnknownUser",
    "MissingInMergeArtifactsException",
    "TimeoutException",
    "UnhandledInMergeArtifactsException",
]

# What a task that died (timeout, kill, OOM) and then ran its @catch fallback records as the type:
# Metaflow's own string, so code that checks for it ports unchanged.
FAILURE_HANDLED_BY_CATCH = "metaflow.plugins.catch_decorator.FailureHandledByCatch"


class CaughtException(Exception):
    """What ``@catch(var=...)`` stores: the failure of a step, picklable without the original exception.

    As Metaflow's ``MetaflowExceptionWrapper``: ``type`` is ``module.Class`` of
    what the step raised, ``exception`` its ``str()``, ``stacktrace`` the
    formatted traceback (None when there was none), and ``str()`` gives the
    stacktrace, or ``[no stacktrace]`` and the type and message.
    """

    def __init__(self, type_name: str = "", message: str = "", stacktrace: Optional[str] = None) -> None:
        super().__init__(message)
        self.type = type_name
        self.exception = message
        self.stacktrace = stacktrace or None

    @classmethod
    def of(cls, exc: BaseException, stacktrace: Optional[str]) -> CaughtException:
        return cls(type_name(exc), str(exc), stacktrace)

    def __reduce__(self) -> Any:
        return CaughtException, (), self.__dict__

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.stacktrace:
            return self.stacktrace
        return "[no stacktrace]\n%s: %s" % (self.type, self.exception)


def type_name(exc: BaseException) -> str:
    """``module.Class`` of an exception, as Metaflow records it; an orch class that stands for one of
    Metaflow's (``TimeoutException``) gives Metaflow's path, so checks written for Metaflow hold."""
    kind = type(exc)
    return kind.__dict__.get("METAFLOW_TYPE") or "%s.%s" % (kind.__module__, kind.__name__)


# What @catch stores, under Metaflow's name for it.
MetaflowExceptionWrapper = CaughtException


class MetaflowException(Exception):
    """Base of Metaflow's errors: a class-level ``headline``, and ``message``, ``line_no``, ``source_file``."""

    headline = "Flow failed"

    def __init__(self, msg: str = "", lineno: Optional[int] = None, source_file: Optional[str] = None) -> None:
        self.message = msg
        self.line_no = lineno
        self.source_file = source_file
        super().__init__(msg)

    def __str__(self) -> str:
        prefix = ""
        if self.source_file:
            prefix = "%s:" % self.source_file
        if self.line_no:
            prefix = "line %d:" % self.line_no
        return "%s%s" % ("%s " % prefix if prefix else "", self.message)


class ExternalCommandFailed(MetaflowException):
    headline = "External command failed"


class MetaflowNotFound(MetaflowException):
    headline = "Object not found"


class MetaflowNamespaceMismatch(MetaflowException):
    headline = "Object not in the current namespace"


class MetaflowInvalidPathspec(MetaflowException):
    headline = "Invalid pathspec"


class MetaflowInternalError(MetaflowException):
    headline = "Internal error"


class MetaflowTaggingError(MetaflowException):
    headline = "Tagging error"


class MetaflowUnknownUser(MetaflowException):
    headline = "Unknown user"


class InvalidDecoratorAttribute(MetaflowException):
    headline = "Unknown decorator attribute"


class CommandException(MetaflowException):
    headline = "Invalid command"


class MetaflowDataMissing(MetaflowException):
    headline = "Data missing"


class UnhandledInMergeArtifactsException(MetaflowException):
    headline = "Unhandled artifacts in merge"


class MissingInMergeArtifactsException(MetaflowException):
    headline = "Missing artifacts in merge"


class MetaflowTestException(MetaflowException):
    headline = "Testing"


class TimeoutException(MetaflowException):
    """Raised inside a step when its ``@timeout`` expires (SIGALRM), as Metaflow does: ``@catch`` and
    ``@retry`` then see an exception, and artifacts set before it are kept."""

    headline = "@timeout"
    METAFLOW_TYPE = "metaflow.plugins.timeout_decorator.TimeoutException"


# Metaflow's own classes report Metaflow's path, so a check written for Metaflow (``@catch``'s
# ``.type == "metaflow.exception.ExternalCommandFailed"``) holds; a user's subclass reports its own.
for _kind in list(globals().values()):
    if isinstance(_kind, type) and issubclass(_kind, MetaflowException) and _kind.__module__ == __name__:
        _kind.METAFLOW_TYPE = _kind.__dict__.get("METAFLOW_TYPE") or "metaflow.exception." + _kind.__name__
