"""Lock files: where they live beside the flow, how they are named, reused and hashed.

A step env's lock is written to ``<flow folder>/envs/`` so users can commit
it. Its name carries the spec hash, and its first line records the spec it
was solved for; while the spec is unchanged the lock is reused with no new
solve. The *lock hash* (sha256 of the lock's bytes) is what names the
installed environment and the image: what is installed, not what was asked.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Optional

from ..errors import OrchError
from .spec import EnvSpec

HEADER = "# orch lock; spec: "


class LockError(OrchError):
    """A lock file is missing, unreadable, or was solved for another spec."""


@dataclass(frozen=True)
class LockRef:
    spec: EnvSpec
    path: str
    digest: str  # sha256 of the lock file's bytes

    @property
    def short(self) -> str:
        return self.digest[:16]


def lock_path(flow_dir: str, spec: EnvSpec) -> str:
    if spec.lockfile:
        return spec.lockfile if os.path.isabs(spec.lockfile) else os.path.join(flow_dir, spec.lockfile)
    suffix = "pypi.lock" if spec.kind == "pypi" else "conda-lock.yml"
    return os.path.join(flow_dir, "envs", "%s-%s.%s" % (spec.kind, spec.short_hash, suffix))


def header_line(spec: EnvSpec) -> str:
    return HEADER + json.dumps(spec.canonical(), sort_keys=True, separators=(",", ":")) + "\n"


def recorded_spec(path: str) -> Optional[EnvSpec]:
    """The spec a lock written by orch was solved for (None for a foreign lock)."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    if not first.startswith(HEADER):
        return None
    return EnvSpec.from_canonical(json.loads(first[len(HEADER) :]))


def file_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file, so a reader never sees half of it."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temp = "%s.tmp-%d" % (path, os.getpid())
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def reusable(path: str, spec: EnvSpec) -> bool:
    """An existing lock serves this spec: it records exactly this spec, or the user supplied it."""
    if not os.path.isfile(path):
        return False
    if spec.lockfile:
        return True
    return recorded_spec(path) == spec
