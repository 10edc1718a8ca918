"""Environments on the host, for the local executor: a cached venv or conda prefix per lock.

Each is built once, under the cache folder, keyed by the lock hash, behind a
file lock so concurrent runs do not build it twice. orch's task runtime is
made importable through a ``.pth`` file, which Python reads *after* the
env's own site-packages: the user's packages always win.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sysconfig
import uuid
from typing import Optional

from ..config import NO_SOURCES, PackageSources, cache_dir
from ..store.s3 import VENDOR_DIR
from .lock import LockRef
from .vendor import copy_vendor, fingerprint

DISTRIBUTION = "orch-workflows"
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../orchestrator


def cache_root() -> str:
    """``Config.cache_dir``'s rule, the one place ORCH_CACHE is read."""
    return cache_dir()


def _package_files() -> list:
    found = []
    for folder, dirs, files in os.walk(PACKAGE_ROOT):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return found


def _entry_points() -> str:
    """orch's own ``entry_points.txt`` (its Slurm backend is registered there), "" when not installed."""
    from importlib import metadata

    try:
        return metadata.distribution(DISTRIBUTION).read_text("entry_points.txt") or ""
    except metadata.PackageNotFoundError:
        return ""


def _write_dist_info(folder: str) -> None:
    """A minimal dist-info beside the copied package, so ``importlib.metadata`` in an env or image
    finds orch's entry points (its own plugins) as it does on the host."""
    from ..version import __version__

    info = os.path.join(folder, "%s-%s.dist-info" % (DISTRIBUTION.replace("-", "_"), __version__))
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as handle:
        handle.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (DISTRIBUTION, __version__))
    with open(os.path.join(info, "entry_points.txt"), "w", encoding="utf-8") as handle:
        handle.write(_entry_points())


def runtime_hash() -> str:
    """sha256 over orch's own source and entry points: part of every image tag, and the name of the
    runtime copy."""
    digest = hashlib.sha256(fingerprint().encode())
    digest.update(_entry_points().encode() + b"\0")
    for path in _package_files():
        digest.update(os.path.relpath(path, PACKAGE_ROOT).encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def runtime_dir(target: Optional[str] = None) -> str:
    """A copy of the ``orchestrator`` package (source only) that envs put on their path, with the
    runtime layer's boto3 in ``orchestrator/_vendor/`` (see ``envs.vendor``)."""
    target = target or os.path.join(cache_root(), "runtime", runtime_hash()[:16])
    if not os.path.isdir(os.path.join(target, "orchestrator")):
        temp = "%s.tmp-%s" % (target, uuid.uuid4().hex)  # unique per thread too: builds run in parallel
        for path in _package_files():
            destination = os.path.join(temp, "orchestrator", os.path.relpath(path, PACKAGE_ROOT))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(path, destination)
        copy_vendor(os.path.join(temp, "orchestrator", VENDOR_DIR))
        _write_dist_info(temp)
        try:
            os.rename(temp, target)
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)  # another process got there first
    return target


def _site_packages(prefix: str, python: str) -> str:
    import subprocess

    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip() or sysconfig.get_paths()["purelib"]


def ensure_env(lock: LockRef, sources: PackageSources = NO_SOURCES) -> str:
    """The python executable of the env holding ``lock``, building it on first use."""
    prefix = os.path.join(cache_root(), "envs", "%s-%s" % (lock.spec.kind, lock.short))
    python = os.path.join(prefix, "bin", "python")
    marker = os.path.join(prefix, ".orch-complete")
    if os.path.exists(marker):
        _point_at_runtime(marker)
        return python
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    with open(prefix + ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if os.path.exists(marker):
            _point_at_runtime(marker)
            return python
        shutil.rmtree(prefix, ignore_errors=True)  # a build that was interrupted
        if lock.spec.kind == "pypi":
            from .pypi import build_venv, fetch_wheelhouse

            wheelhouse = fetch_wheelhouse(lock, os.path.join(cache_root(), "wheelhouse", lock.short), sources)
            python = build_venv(lock, wheelhouse, prefix)
        else:
            from .conda import install_prefix

            python = install_prefix(lock, prefix, sources)
        pth = os.path.join(_site_packages(prefix, python), "zz-orch-runtime.pth")
        with open(pth, "w") as handle:
            handle.write(runtime_dir() + "\n")
        with open(marker, "w") as handle:
            handle.write(pth + "\n")  # where the runtime is named, for _point_at_runtime
    return python


def _point_at_runtime(marker: str) -> None:
    """A cached env outlives orch upgrades: make its .pth name this orch's runtime copy, not the one
    it was built with (a task would otherwise run an older runtime than the orchestrator's)."""
    with open(marker) as handle:
        pth = handle.read().strip()
    if not pth:  # built before the marker named it: find it where venvs and conda prefixes keep it
        import glob

        found = glob.glob(
            os.path.join(os.path.dirname(marker), "lib", "python*", "site-packages", "zz-orch-runtime.pth")
        )
        pth = found[0] if found else ""
    if not pth or not os.path.isfile(pth):
        return
    wanted = runtime_dir() + "\n"
    with open(pth) as handle:
        if handle.read() == wanted:
            return
    temp = "%s.tmp-%d" % (pth, os.getpid())
    with open(temp, "w") as handle:
        handle.write(wanted)
    os.replace(temp, pth)
