"""What ``Parameter`` and ``Config`` share: a class attribute of a flow whose value, in a task, is an
artifact of the run, and whose definition errors point at the line that declared it.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import FlowDefinitionError, install_script_excepthook


class FlowAttribute:
    """Base of the descriptors a flow declares in its class body (``alpha = Parameter(...)``)."""

    name: str
    attr: Optional[str] = None  # the class attribute it is bound to
    file: Optional[str] = None
    line: Optional[int] = None

    def _fail(self, headline: str, hint: Optional[str] = None) -> None:
        install_script_excepthook()
        raise FlowDefinitionError(headline, hint, file=self.file, line=self.line)

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """On a flow instance, the value for this run: the task's artifact (loaded on first read),
        else what ``_outside_a_task`` gives."""
        if instance is None:
            return self
        try:
            return type(instance).__getattr__(instance, self.attr or self.name)
        except AttributeError:
            return self._outside_a_task(type(instance))

    def _outside_a_task(self, cls: type) -> Any:
        raise NotImplementedError
