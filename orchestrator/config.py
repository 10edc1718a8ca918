"""Configuration: one frozen object, built once by the CLI from flags and the environment, passed down.

Nothing reads the environment at import time; ``Config.from_env`` is called
explicitly, so tests and notebooks can build their own.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

DEFAULT_STORE = ".orch"
DEFAULT_BASE_IMAGE = "orch-base:bookworm"


@dataclass(frozen=True)
class PackageSources:
    """Where environments come from: a PyPI index and/or local wheel folders, and conda channels.

    Air-gapped machines point these at a local mirror: ``ORCH_PYPI_INDEX_URL``,
    ``ORCH_PYPI_FIND_LINKS`` (comma-separated folders; without an index URL
    they replace the index) and ``ORCH_CONDA_CHANNELS`` (comma-separated
    names or file:// URLs).
    """

    pypi_index_url: Optional[str] = None
    pypi_find_links: Tuple[str, ...] = ()
    conda_channels: Tuple[str, ...] = ()

    def uv_args(self) -> list:
        """The same flags work for ``uv pip`` and ``pip``."""
        args = []
        if self.pypi_index_url:
            args += ["--index-url", self.pypi_index_url]
        elif self.pypi_find_links:
            args += ["--no-index"]
        for link in self.pypi_find_links:
            args += ["--find-links", link]
        return args

    def pip_args(self) -> list:
        return self.uv_args()


NO_SOURCES = PackageSources()  # the public index and conda-forge


@dataclass(frozen=True)
class Config:
    store_url: str = DEFAULT_STORE
    username: str = "unknown"
    sources: PackageSources = NO_SOURCES
    base_image: str = DEFAULT_BASE_IMAGE  # ORCH_BASE_IMAGE, e.g. python:3.11-slim where a registry is reachable

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, store: Optional[str] = None) -> Config:
        env = os.environ if environ is None else environ
        sources = PackageSources(
            pypi_index_url=env.get("ORCH_PYPI_INDEX_URL") or None,
            pypi_find_links=_split(env.get("ORCH_PYPI_FIND_LINKS")),
            conda_channels=_split(env.get("ORCH_CONDA_CHANNELS")),
        )
        store_url = resolve_store(store or env.get("ORCH_STORE") or DEFAULT_STORE)
        base_image = env.get("ORCH_BASE_IMAGE") or DEFAULT_BASE_IMAGE
        return cls(store_url=store_url, username=_user(env), sources=sources, base_image=base_image)


def _split(value: Optional[str]) -> Tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


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
