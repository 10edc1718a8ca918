"""A task's cache key: the static part the host knows before the task runs, and the read set it checks.

The **static key** names everything a task's result depends on that is
fixed before it starts: the flow and step, the step's code fingerprint
(``codehash``), its environment's lock, the names and hashed values of its
``@environment`` variables, where it sits (foreach indices and recursion
rounds), ``@cache(version=)`` and the task runtime's format. Tasks with equal
static keys are candidates for each other; a candidate is a hit when every
entry of its **read set** (what it read, with content digests) digests the
same in the new task's inputs. ``@retry``, ``@resources``, ``@catch`` and the
executor are not in the key: they do not change what a step computes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

RUNTIME_FORMAT = 1  # bump when the task runtime changes what a task computes or records


@dataclass(frozen=True)
class StaticKey:
    flow: str
    step: str
    code: str  # codehash.StepCode.digest
    env: str  # the lock's digest, or "default" for the default environment
    env_vars: Tuple[Tuple[str, str], ...] = ()  # @environment: (name, sha256 of the value)
    frames: Tuple[Tuple[str, int], ...] = ()  # (foreach step, index), outermost first
    loops: Tuple[int, ...] = ()  # recursion rounds, as the task's key has them
    version: Optional[str] = None  # @cache(version=)
    runtime: int = RUNTIME_FORMAT

    @property
    def digest(self) -> str:
        text = json.dumps(self._fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _fields(self) -> Dict[str, Any]:
        data = asdict(self)
        data["env_vars"] = [list(p) for p in self.env_vars]
        data["frames"] = [list(f) for f in self.frames]
        data["loops"] = list(self.loops)
        return data

    def to_json(self) -> Dict[str, Any]:
        return dict(self._fields(), digest=self.digest)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StaticKey:
        return cls(
            flow=str(data["flow"]),
            step=str(data["step"]),
            code=str(data["code"]),
            env=str(data["env"]),
            env_vars=tuple((str(n), str(h)) for n, h in data.get("env_vars") or ()),
            frames=tuple((str(s), int(i)) for s, i in data.get("frames") or ()),
            loops=tuple(int(n) for n in data.get("loops") or ()),
            version=data.get("version"),
            runtime=int(data.get("runtime", RUNTIME_FORMAT)),
        )


def hashed_env(variables: Tuple[Tuple[str, str], ...]) -> Tuple[Tuple[str, str], ...]:
    """@environment variables as (name, sha256 of value): values never enter the key or a record."""
    return tuple(sorted((name, hashlib.sha256(value.encode("utf-8")).hexdigest()) for name, value in variables))


def differences(old: StaticKey, new: StaticKey) -> Tuple[str, ...]:
    """The names of the static key's parts that differ, in the order ``orch why`` reports them."""
    return tuple(
        name for name in ("code", "env", "env_vars", "frames", "loops", "version", "runtime")
        if getattr(old, name) != getattr(new, name)
    )  # fmt: skip
