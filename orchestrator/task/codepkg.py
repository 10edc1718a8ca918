"""The code package: a snapshot of the flow's folder that every task of a run executes.

Building it (host side) collects the Python files under the flow's folder
into a deterministic tar.gz (sorted, zero mtimes and owners), so an
unchanged folder gives the same bytes and the same content key run after
run. Extracting it (any side) refuses members that would land outside the
target folder. Standard library only.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from typing import Iterable, List, Tuple

from ..errors import OrchError

DEFAULT_SUFFIXES = (".py",)
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    "__pycache__",
    ".orch",
    ".metaflow",
    "node_modules",
    ".bench",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    "build",
    "dist",
}
MAX_BYTES = 64 * 1024 * 1024


class CodePackageError(OrchError):
    """The flow's folder cannot be packaged (too big), or a package is unsafe to extract."""


def collect_files(root: str, flow_file: str, suffixes: Iterable[str] = DEFAULT_SUFFIXES) -> List[Tuple[str, str]]:
    """(path inside the package, path on disk) for every file to ship, sorted."""
    wanted = tuple(suffixes)
    found = {os.path.relpath(flow_file, root): flow_file}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in files:
            if name.endswith(wanted) and not name.startswith("."):
                path = os.path.join(folder, name)
                found[os.path.relpath(path, root)] = path
    return sorted(found.items())


def build_package(root: str, flow_file: str, suffixes: Iterable[str] = DEFAULT_SUFFIXES) -> bytes:
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in collect_files(root, flow_file, suffixes):
            with open(path, "rb") as handle:
                data = handle.read()
            total += len(data)
            if total > MAX_BYTES:
                raise CodePackageError(
                    "The code package of %s is over %d MB." % (root, MAX_BYTES // (1024 * 1024)),
                    "Move the flow into its own folder, away from large .py trees.",
                )
            info = tarfile.TarInfo(name.replace(os.sep, "/"))
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), compresslevel=6, mtime=0)  # mtime=0: identical bytes every time


def extract_package(data: bytes, target: str) -> None:
    """Unpack into ``target`` atomically: a temp folder, then rename; safe members only."""
    if os.path.isdir(target):
        return
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    temp = "%s.tmp-%d" % (target, os.getpid())
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            destination = os.path.abspath(os.path.join(temp, member.name))
            if not member.isfile() or not destination.startswith(os.path.abspath(temp) + os.sep):
                raise CodePackageError("Refusing unsafe member %r in a code package." % member.name)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with open(destination, "wb") as handle:
                handle.write(tar.extractfile(member).read())  # type: ignore[union-attr]
    try:
        os.rename(temp, target)
    except OSError:
        if not os.path.isdir(target):
            raise
        import shutil

        shutil.rmtree(temp, ignore_errors=True)  # another process extracted it first
