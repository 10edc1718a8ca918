"""``EnvSpec``: the environment one step asks for, after merging flow and step decorators.

Frozen and pure: properties do no I/O, ``with_*`` methods return copies,
and the spec hash is sha256 over canonical JSON (sorted keys, a schema
version), so two steps whose specs normalise to the same value share one
environment and one lock file. The hash names the *request*; images are
tagged by a hash of the *lock* (what is actually installed).

Merging follows Metaflow: a step's ``@conda`` updates the flow's
``@conda_base`` package by package, its ``python`` wins, and
``disabled=True`` means the step runs in the default image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Optional

SCHEMA = 1
DEFAULT_CHANNELS = ("conda-forge",)


@dataclass(frozen=True)
class EnvSpec:
    kind: str  # "conda" or "pypi"
    python: Optional[str]
    packages: tuple[tuple[str, str], ...]  # sorted (name, version spec); "" means any version
    channels: tuple[str, ...] = ()  # conda only; empty means the configured default
    lockfile: Optional[str] = None  # a lock the user supplies instead of a solve

    def canonical(self) -> dict:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "python": self.python,
            "packages": [list(p) for p in self.packages],
            "channels": list(self.channels),
            "lockfile": self.lockfile,
        }

    @property
    def spec_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        import hashlib  # here, not at import: orch show and check never hash a spec

        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.spec_hash[:12]

    def with_channels(self, channels: Iterable[str]) -> EnvSpec:
        return replace(self, channels=tuple(channels))

    def with_python(self, python: Optional[str]) -> EnvSpec:
        return replace(self, python=python)

    def requirements(self) -> list[str]:
        """PEP 508 / conda match specs: 'pandas==2.2.3', 'numpy>=1.26', or a bare name."""
        out = []
        for name, version in self.packages:
            if not version:
                out.append(name)
            elif version[0] in "<>=!~":
                out.append(name + version)
            else:
                out.append("%s==%s" % (name, version))
        return out

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
            "spec_hash": self.spec_hash,
        }

    @classmethod
    def from_canonical(cls, data: Mapping[str, Any]) -> EnvSpec:
        return cls(
            kind=data["kind"],
            python=data.get("python"),
            packages=tuple(tuple(p) for p in data.get("packages", ())),  # type: ignore[misc]
            channels=tuple(data.get("channels", ())),
            lockfile=data.get("lockfile"),
        )


def _find(decorators: Iterable[Any], *names: str) -> Optional[Any]:
    return next((d for d in decorators if d.NAME in names), None)


_KIND = {"conda": "conda", "conda_base": "conda", "pypi": "pypi", "pypi_base": "pypi"}


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
    kind = _KIND[(own or base).NAME]
    layers = [d for d in (base, own) if d is not None and _KIND[d.NAME] == kind]
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


def flow_envs(graph: Any) -> dict:
    """step name → EnvSpec (or None) for every step of a graph."""
    return {node.name: step_env(graph.flow_decorators, node.decorators) for node in graph}
