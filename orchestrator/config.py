"""Configuration: one frozen object, built once by the CLI from flags and the environment, passed down.

Nothing reads the environment at import time; ``Config.from_env`` is called
explicitly, so tests and notebooks can build their own.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from typing import Mapping, Optional

DEFAULT_STORE = ".orch"


@dataclass(frozen=True)
class Config:
    store_url: str = DEFAULT_STORE
    username: str = "unknown"

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, store: Optional[str] = None) -> Config:
        env = os.environ if environ is None else environ
        return cls(store_url=resolve_store(store or env.get("ORCH_STORE") or DEFAULT_STORE), username=_user(env))

    def with_store(self, store: str) -> Config:
        return replace(self, store_url=resolve_store(store))


def resolve_store(url: str) -> str:
    """Local paths become absolute (tasks may run elsewhere); URLs stay as given."""
    if "://" in url and not url.startswith("file://"):
        return url
    path = url[len("file://") :] if url.startswith("file://") else url
    return os.path.abspath(os.path.expanduser(path))


def _user(env: Mapping[str, str]) -> str:
    for name in ("ORCH_USER", "USER", "USERNAME", "LOGNAME"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
