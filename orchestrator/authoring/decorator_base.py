"""The base of every decorator spec: a frozen record of a decorator's checked arguments.

Kept apart from the specs themselves so that groups of specs (``event_specs``)
can live in modules of their own. Task-side code: standard library only,
Python 3.8 compatible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Dict, Tuple


@dataclass(frozen=True)
class Decorator:
    """Base of every recorded decorator spec."""

    NAME: ClassVar[str] = ""
    IS_FLOW: ClassVar[bool] = False
    # Keyword arguments accepted besides the fields, recorded in an ``extra`` field as (name, value) pairs
    # (Metaflow's arguments that orch takes so ported flows import, e.g. most of @batch's).
    PASSTHROUGH: ClassVar[Tuple[str, ...]] = ()
    # A backend's decorator: its cpu, memory and gpu count with @resources' (the larger wins).
    RESOURCES: ClassVar[bool] = False

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        """Validate and normalise the full argument dict (defaults filled in)."""
        return args

    def attributes(self) -> Dict[str, Any]:
        """The recorded arguments, JSON-friendly, for ``orch show`` and metadata."""
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out

    def describe(self) -> str:
        """``@retry(times=1)``: only the arguments that differ from the defaults."""
        defaults = {f.name: f.default for f in fields(self)}
        shown = []
        for key, value in self.attributes().items():
            default = defaults.get(key)
            if isinstance(default, tuple):
                default = dict(default) if default and isinstance(default[0], tuple) else list(default)
            if value != default and value not in ({}, []):
                shown.append("%s=%r" % (key, value))
        return "@%s(%s)" % (self.NAME, ", ".join(shown)) if shown else "@%s" % self.NAME
