"""Metaflow's custom-decorator API (2.16+): ``FlowMutator``, ``StepMutator``, ``UserStepDecorator``
and ``user_step_decorator``.

orch does not run these yet. The names exist so that a flow which imports them (Metaflow's own
conformance suite does, in every generated flow) still imports; applying one to a flow or a step
is a located, one-line error that says so, never a silent no-op.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import FlowDefinitionError, install_script_excepthook

_HINT = "orch does not support Metaflow's custom decorators yet; use orch's built-in decorators, or code in the step."


def _refuse(kind: str, target: Any) -> NoReturn:
    code = getattr(target, "__code__", None)
    file = code.co_filename if code is not None else None
    line = code.co_firstlineno if code is not None else None
    install_script_excepthook()
    raise FlowDefinitionError("%s is applied to %s." % (kind, _what(target)), _HINT, file=file, line=line)


def _what(target: Any) -> str:
    return "flow %s" % target.__name__ if isinstance(target, type) else "step '%s'" % getattr(target, "__name__", "?")


class _Refused:
    KIND = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = args

    def __call__(self, target: Any = None, **kwargs: Any) -> Any:
        _refuse("%s %s" % (self.KIND, type(self).__name__), target)


class FlowMutator(_Refused):
    """Metaflow's flow mutator (``@MyMutator`` on a flow class); not supported by orch yet."""

    KIND = "FlowMutator"


class StepMutator(_Refused):
    """Metaflow's step mutator; not supported by orch yet."""

    KIND = "StepMutator"


class UserStepDecorator(_Refused):
    """Metaflow's class-based custom step decorator; not supported by orch yet."""

    KIND = "UserStepDecorator"


def user_step_decorator(func: Any = None, **kwargs: Any) -> Any:
    """Metaflow's generator-based custom step decorator; defining one works, applying it is an error."""

    def applied(target: Any = None, **_: Any) -> Any:
        _refuse("user_step_decorator %s" % getattr(func, "__name__", "?"), target)

    return applied
