"""Conda environments: solve with py-rattler, lock in conda-lock's format, install or stage with py-rattler.

No conda binary is involved. The lock is written through conda-lock's own
models, so ``conda-lock render`` and conda-lock users read it, and a lock
written by conda-lock is accepted through ``@conda(lockfile=...)``.
Installing from a lock pins every package exactly (name, version, build)
and checks each record's sha256 against the lock before linking it.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence

from ..config import NO_SOURCES, PackageSources, cache_dir
from .lock import LockError, LockRef, file_digest, header_line
from .pypi import ResolutionError
from .spec import EnvSpec


def _rattler() -> Any:
    try:
        import rattler
    except ImportError:
        raise ResolutionError("Conda environments need py-rattler.", "Install it: pip install py-rattler.") from None
    return rattler


def conda_platform() -> str:
    import platform

    return "linux-aarch64" if platform.machine() in ("aarch64", "arm64") else "linux-64"


def match_specs(spec: EnvSpec) -> List[str]:
    out = [
        "python %s.*" % spec.python
        if spec.python and re.match(r"^\d+\.\d+$", spec.python)
        else "python %s" % spec.python
        if spec.python
        else "python"
    ]
    for name, version in spec.packages:
        if not version:
            out.append(name)
        elif version[0] in "<>=!~":
            out.append("%s %s" % (name, version))
        else:
            out.append("%s ==%s" % (name, version))
    return out


def _explain(steps: Sequence[str], spec: EnvSpec, err: Exception) -> ResolutionError:
    """Turn rattler's solver report into one sentence naming the steps and the package at fault."""
    who = "step%s %s" % ("s" if len(steps) > 1 else "", ", ".join("'%s'" % s for s in steps))
    text = str(err)
    missing = re.search(r"No candidates were found for (\S+)", text) or re.search(
        r"[\u2514\u251c]\u2500 (\S+)[^\n]*? for which no candidates were found", text
    )
    if missing:
        name = missing.group(1)
        what = "asks for '%s'" % name if name in {n for n, _ in spec.packages} else "needs '%s'" % name
        return ResolutionError(
            "The conda environment of %s %s, which channels %s do not have." % (who, what, ", ".join(spec.channels)),
            "Check the name in @conda(packages=...), or the channels.",
        )
    summary = " ".join(line.strip() for line in text.splitlines() if line.strip())[:600]
    return ResolutionError(
        "The conda environment of %s cannot be solved: %s" % (who, summary),
        "Loosen or change conflicting pins in @conda(packages=...), or check the channels.",
    )


def _solve_records(spec: EnvSpec, specs: List[str], steps: Sequence[str]) -> list:
    rattler = _rattler()
    try:
        return asyncio.run(
            rattler.solve(sources=list(spec.channels), specs=specs, platforms=[conda_platform(), "noarch"])
        )
    except Exception as err:  # py-rattler raises its own error types for unsolvable specs and bad channels
        raise _explain(steps, spec, err) from None


def solve(spec: EnvSpec, path: str, steps: Sequence[str], sources: PackageSources = NO_SOURCES) -> LockRef:
    """Solve ``spec`` against its channels and write a conda-lock file to ``path``."""
    records = _solve_records(spec, match_specs(spec), steps)
    write_lock(spec, records, path)
    return LockRef(spec, path, file_digest(path))


def write_lock(spec: EnvSpec, records: list, path: str) -> None:
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta
    from conda_lock.models.channel import Channel

    platform = conda_platform()
    packages = []
    for record in sorted(records, key=lambda r: r.name.normalized):
        depends = {}
        for dependency in record.depends:
            name, _, constraint = dependency.partition(" ")
            depends[name] = constraint.strip()
        packages.append(
            LockedDependency(
                name=record.name.normalized,
                version=str(record.version),
                manager="conda",
                platform=platform,
                dependencies=depends,
                url=record.url,
                build=str(record.build),
                hash=HashModel(
                    md5=record.md5.hex() if record.md5 else None, sha256=record.sha256.hex() if record.sha256 else None
                ),
                categories={"main"},
            )
        )
    meta = LockMeta(
        content_hash={platform: spec.spec_hash},
        channels=[Channel.from_string(c) for c in spec.channels],
        platforms=[platform],
        sources=["orch"],
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = "%s.tmp-%d" % (path, os.getpid())
    write_conda_lock_file(
        Lockfile(package=packages, metadata=meta), Path(temp), metadata_choices=None, include_help_text=False
    )
    body = Path(temp).read_text()
    Path(temp).write_text(header_line(spec) + body)
    os.replace(temp, path)


def check_lockfile(path: str, steps: Sequence[str]) -> None:
    """A user-supplied lock must parse as a conda-lock file."""
    from conda_lock.lockfile import parse_conda_lock_file

    try:
        lock = parse_conda_lock_file(Path(path))
    except Exception as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        mark = getattr(err, "problem_mark", None)
        if mark is not None:  # a YAML syntax error: say where
            detail = "line %d: %s %s" % (mark.line + 1, detail, getattr(err, "problem", "") or "")
        raise LockError(
            "The lock file %s of step %s is not a valid conda-lock file (%s)." % (path, steps[0], detail.strip()),
            "Regenerate it with orch build-envs or conda-lock.",
        ) from None
    if not any(p.manager == "conda" and p.platform == conda_platform() for p in lock.package):
        raise LockError(
            "The lock file %s has no conda packages for %s." % (path, conda_platform()), "Lock it for this platform."
        )


def locked_packages(lock: LockRef) -> List[Any]:
    from conda_lock.lockfile import parse_conda_lock_file

    return [
        p
        for p in parse_conda_lock_file(Path(lock.path)).package
        if p.manager == "conda" and p.platform == conda_platform()
    ]


def _records_for(lock: LockRef) -> list:
    """The exact records of a lock, each checked against the lock's sha256."""
    packages = locked_packages(lock)
    channels = list(lock.spec.channels) or sorted({p.url.rsplit("/", 2)[0] for p in packages})
    pins = ["%s ==%s %s" % (p.name, p.version, p.build) for p in packages]
    pinned = EnvSpec("conda", None, (), tuple(channels))
    records = _solve_records(pinned, pins, [os.path.basename(lock.path)])
    expected: Dict[str, str] = {p.name: p.hash.sha256 for p in packages}
    for record in records:
        want = expected.get(record.name.normalized)
        got = record.sha256.hex() if record.sha256 else None
        if want and got != want:
            raise ResolutionError(
                "Package %s of %s did not match its sha256 in the lock (channel has %s, lock "
                "pins %s)." % (record.name.normalized, os.path.basename(lock.path), (got or "?")[:16], want[:16]),
                "The channel serves a different file than the one locked; check the channel, "
                "or re-lock with orch build-envs --upgrade if the change is expected.",
            )
    return records


def _install(records: list, prefix: str, alternative: str = "") -> None:
    rattler = _rattler()
    cache = os.path.join(cache_dir(), "conda-pkgs")
    kwargs = {"alternative_target_prefix": alternative} if alternative else {}
    asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=cache, show_progress=False, **kwargs))


def install_prefix(lock: LockRef, prefix: str, sources: PackageSources = NO_SOURCES) -> str:
    """Install the lock into a conda prefix on the host (local executor). Returns its python."""
    _install(_records_for(lock), prefix)
    return os.path.join(prefix, "bin", "python")


def stage_for_image(lock: LockRef, target: str, sources: PackageSources = NO_SOURCES) -> str:
    """Install the lock into ``target`` as if it lived at /opt/env, ready to COPY into an image."""
    _install(_records_for(lock), target, alternative="/opt/env")
    return target
