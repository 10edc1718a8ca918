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


class MetaflowExceptionWrapper(Exception):
    """What ``@catch(var=...)`` stores: the failure of a step, picklable without the original exception.

    Metaflow's class, under its name: ``MetaflowExceptionWrapper(exc)`` takes
    ``type`` (``module.Class`` of what the step raised), ``exception`` (its
    ``str()``) and, inside an ``except`` block, ``stacktrace`` (the formatted
    traceback; None otherwise); ``str()`` gives the stacktrace, or ``[no
    stacktrace]`` and the type and message.
    """

    def __init__(self, exc: Optional[BaseException] = None) -> None:
        super().__init__()
        if exc is not None:
            import sys
            import traceback

            self.type = type_name(exc)
            self.exception = str(exc)
            self.stacktrace = traceback.format_exc() if sys.exc_info()[0] is not None else None

    @classmethod
    def of(cls, exc: BaseException, stacktrace: Optional[str]) -> MetaflowExceptionWrapper:
        return cls.from_parts(type_name(exc), str(exc), stacktrace)

    @classmethod
    def from_parts(cls, type_name: str, message: str, stacktrace: Optional[str] = None) -> MetaflowExceptionWrapper:
        """A failure known by its record (a died process, a stored exception), not by a live exception."""
        wrapper = cls()
        wrapper.type, wrapper.exception, wrapper.stacktrace = type_name, message, stacktrace or None
        return wrapper

    def __reduce__(self) -> Any:
        return MetaflowExceptionWrapper, (None,), self.__dict__

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if getattr(self, "stacktrace", None):
            return self.stacktrace  # type: ignore[return-value]
        return "[no stacktrace]\n%s: %s" % (getattr(self, "type", None), getattr(self, "exception", None))


# orch's name for it until 0.1.0: @catch values stored then unpickle through this name.
CaughtException = MetaflowExceptionWrapper


def type_name(exc: BaseException) -> str:
    """``module.Class`` of an exception, as Metaflow records it; an orch class that stands for one of
    Metaflow's (``TimeoutException``) gives Metaflow's path, so checks written for Metaflow hold."""
    kind = type(exc)
    return kind.__dict__.get("METAFLOW_TYPE") or "%s.%s" % (kind.__module__, kind.__name__)


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
