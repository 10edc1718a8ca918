"""Validation of every name that becomes part of a store key, so none can escape its prefix."""

from __future__ import annotations

import re

from ..errors import OrchError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_KEY_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")


class InvalidNameError(OrchError):
    """A flow, run, step, task or artifact name that cannot be stored safely."""


def check_name(kind: str, value: str) -> str:
    """A flow, run, step or task name: letters, digits, '_', '.', '-', not starting with '.' or '-'."""
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
        raise InvalidNameError(
            "Invalid %s name %r." % (kind, value),
            "Use letters, digits, '_', '.' and '-', starting with a letter, digit or '_'.",
        )
    return value


def check_artifact_name(value: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise InvalidNameError(
            "Invalid artifact name %r." % (value,), "Artifact names are Python identifiers such as 'model'."
        )
    return value


def check_key(key: str) -> str:
    """A full store key: '/'-separated safe parts, no '..', no absolute path."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") or not _KEY_PART.match(p) for p in parts):
        raise InvalidNameError("Invalid store key %r." % (key,), "This is a bug in orch; please report it.")
    return key
