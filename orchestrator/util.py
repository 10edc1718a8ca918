"""The small helpers of ``metaflow.util`` that flows and notebooks import, so they port by their import line."""

from __future__ import annotations

from typing import Any, Optional


def is_stringish(x: Any) -> bool:
    """True for text and bytes: what Metaflow treats as a string."""
    return isinstance(x, (str, bytes, bytearray))


def get_username() -> Optional[str]:
    """The user runs are tagged with: ORCH_USER, else METAFLOW_USER, else the login name."""
    from .config import Config

    return Config.from_env().username
