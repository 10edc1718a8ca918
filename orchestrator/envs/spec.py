"""``EnvSpec``: the environment one step asks for, after merging flow and step decorators.

Frozen and pure. Two steps whose specs normalise to the same value share
one environment. Merging follows Metaflow: a step's ``@conda`` updates the
flow's ``@conda_base`` package by package, its ``python`` wins, and
``disabled=True`` means the step runs in the default image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional


@dataclass(frozen=True)
class EnvSpec:
    kind: str  # "conda" or "pypi"
    python: Optional[str]
    packages: tuple[tuple[str, str], ...]  # sorted (name, version spec)
    channels: tuple[str, ...] = ()
    lockfile: Optional[str] = None

    def describe(self) -> str:
        parts = ["%s:" % self.kind]
        if self.lockfile:
            parts.append("lockfile=%s" % self.lockfile)
        if self.python:
            parts.append("python=%s" % self.python)
        parts += ["%s=%s" % (n, v) if v else n for n, v in self.packages]
        if self.channels:
            parts.append("channels=%s" % ",".join(self.channels))
        return " ".join(parts)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "python": self.python,
            "packages": dict(self.packages),
            "channels": list(self.channels),
            "lockfile": self.lockfile,
        }


def _find(decorators: Iterable[Any], *names: str) -> Optional[Any]:
    return next((d for d in decorators if d.NAME in names), None)


def step_env(flow_decorators: Iterable[Any], step_decorators: Iterable[Any]) -> Optional[EnvSpec]:
    """The merged environment of one step, or None for the default image."""
    base = _find(flow_decorators, "conda_base", "pypi_base")
    own = _find(step_decorators, "conda", "pypi")
    if base is None and own is None:
        return None
    disabled = own.disabled if own is not None and own.disabled is not None else None
    if disabled is None and base is not None:
        disabled = base.disabled
    if disabled:
        return None
    kind_of = {"conda": "conda", "conda_base": "conda", "pypi": "pypi", "pypi_base": "pypi"}
    kind = kind_of[(own or base).NAME]
    layers = [d for d in (base, own) if d is not None and kind_of[d.NAME] == kind]
    packages: dict[str, str] = {}
    python = None
    channels: tuple[str, ...] = ()
    lockfile = None
    for layer in layers:
        packages.update(layer.all_packages)
        python = layer.python or python
        channels = tuple(getattr(layer, "channels", None) or ()) or channels
        lockfile = getattr(layer, "lockfile", None) or lockfile
    if python is None and base is not None:
        python = base.python  # a step @pypi over @conda_base keeps the flow's python
    return EnvSpec(kind, python, tuple(sorted(packages.items())), channels, lockfile)
