"""Argument checkers for decorator specs: each returns the normalised value or raises ``BadArgument``.

Kept apart from the specs so each spec's ``_check`` reads as a list of
rules. Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional, Tuple

# Patterns, compiled by ``re`` on first use (and cached there), not when every flow is imported.
_ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_PYTHON_SPEC = r"^\s*(?:[<>=!~]=?\s*)?\d+(\.\d+){0,2}(\.\*)?\s*$"
_PACKAGE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._\-]*(\[[A-Za-z0-9_,\-]+\])?$"
_SIZE_SUFFIX = r"(?i)^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?)?\s*$"


class BadArgument(Exception):
    """Raised by a spec's checker; turned into a located FlowDefinitionError."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message


def whole(name: str, value: Any, minimum: int = 0, maximum: Optional[int] = None) -> int:
    if isinstance(value, bool):
        raise BadArgument(name, "%s=%r is not a whole number." % (name, value))
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise BadArgument(name, "%s=%r is not a whole number." % (name, value)) from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = ">= %d" % minimum if maximum is None else "between %d and %d" % (minimum, maximum)
        raise BadArgument(name, "%s=%r is out of range: it must be %s." % (name, value, bound))
    return number


def positive_number(name: str, value: Any, allow_zero: bool = False) -> float:
    if isinstance(value, bool):
        raise BadArgument(name, "%s=%r is not a number." % (name, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadArgument(name, "%s=%r is not a number." % (name, value)) from None
    if number < 0 or (number == 0 and not allow_zero):
        raise BadArgument(name, "%s=%r must be %s 0." % (name, value, ">=" if allow_zero else ">"))
    return int(number) if number.is_integer() else number


def megabytes(name: str, value: Any) -> int:
    """Memory and disk sizes: an int in MiB as in Metaflow, or a string like '4GB'."""
    if isinstance(value, str):
        match = re.match(_SIZE_SUFFIX, value)
        if match is None:
            raise BadArgument(
                name, "%s=%r is not a size: give megabytes as a number, e.g. %s=4096 or '4GB'." % (name, value, name)
            )
        amount = float(match.group(1))
        unit = (match.group(2) or "M").upper()[0]
        scale = {"K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
        value = amount * scale
    number = positive_number(name, value)
    return int(round(number))


def optional(checker: Callable[..., Any]) -> Callable[..., Any]:
    def check(name: str, value: Any, *args: Any) -> Any:
        return None if value is None else checker(name, value, *args)

    return check


def flag(name: str, value: Any) -> Optional[bool]:
    if value is None or isinstance(value, bool):
        return value
    raise BadArgument(name, "%s=%r must be True or False." % (name, value))


def text(name: str, value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    raise BadArgument(name, "%s=%r must be a string." % (name, value))


def python_version(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.match(_PYTHON_SPEC, value):
        raise BadArgument(name, "%s=%r is not a Python version; write e.g. python='3.11'." % (name, value))
    return value.strip()


def packages(name: str, value: Any) -> Tuple[Tuple[str, str], ...]:
    """``{'pandas': '2.2.2'}`` → sorted ((name, version), ...); '' means any version."""
    if value is None:
        return ()
    if isinstance(value, tuple):  # the normalised default
        value = dict(value)
    if not isinstance(value, dict):
        raise BadArgument(name, "%s must be a dict of package name to version, e.g. {'pandas': '2.2.2'}." % name)
    result = []
    for package, version in value.items():
        if not isinstance(package, str) or not re.match(_PACKAGE_NAME, package):
            raise BadArgument(name, "%s has an invalid package name %r." % (name, package))
        if version is None:
            version = ""
        if isinstance(version, bool) or not isinstance(version, (str, int, float)):
            raise BadArgument(name, "%s[%r]=%r must be a version string such as '2.2.2'." % (name, package, version))
        result.append((package, str(version).strip()))
    return tuple(sorted(result))


def channels(name: str, value: Any) -> Optional[Tuple[str, ...]]:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(c, str) and c.strip() for c in value):
        raise BadArgument(name, "%s must be a list of channel names or URLs, e.g. ['conda-forge']." % name)
    return tuple(c.strip() for c in value)


def identifier(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier() or value.startswith("_"):
        raise BadArgument(name, "%s=%r must be a valid artifact name such as 'failure'." % (name, value))
    return value


def env_vars(name: str, value: Any) -> Tuple[Tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, tuple):  # the normalised default
        value = dict(value)
    if not isinstance(value, dict):
        raise BadArgument(name, "%s must be a dict of variable name to value." % name)
    for key in value:
        if not isinstance(key, str) or not re.match(_ENV_VAR_NAME, key):
            raise BadArgument(name, "%s has an invalid environment variable name %r." % (name, key))
    return tuple(sorted((k, str(v)) for k, v in value.items()))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(name: str, value: Any) -> Optional[float]:
    """Seconds, from a number of seconds or a string such as '90s', '30m', '12h', '7d', '2w'."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    found = _DURATION.match(value) if isinstance(value, str) else None
    if not found or float(found.group(1)) <= 0:
        raise BadArgument(name, "%s=%r is not a duration; write seconds (3600) or e.g. '12h', '7d'." % (name, value))
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def names(name: str, value: Any) -> Tuple[str, ...]:
    """Artifact names: a list of identifiers (a single string is one name)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise BadArgument(name, "%s=%r must be a list of artifact names." % (name, value))
    return tuple(sorted({identifier(name, item) for item in items}))
