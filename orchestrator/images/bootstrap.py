"""``orch images bootstrap``: a base image built fully offline from a Debian mirror, for machines with no registry.

debootstrap writes a minimal Debian (with python3, venv support and CA
certificates) into a temporary folder; ``docker import`` turns it into an
image. Needs root (debootstrap) and a reachable Debian mirror, nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any, Callable, Optional, Sequence

from ..errors import OrchError
from .engine import image_id

DEFAULT_BASE = "orch-base:bookworm"
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_PACKAGES = ("python3", "python3-venv", "ca-certificates", "passwd")


class BootstrapError(OrchError):
    """The base image could not be built."""


def bootstrap(
    engine: Any,
    tag: str = DEFAULT_BASE,
    suite: str = DEFAULT_SUITE,
    mirror: str = DEFAULT_MIRROR,
    packages: Sequence[str] = DEFAULT_PACKAGES,
    force: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> str:
    """Build (or find) the base image; returns its id."""
    existing = image_id(engine, tag)
    if existing and not force:
        return existing
    if shutil.which("debootstrap") is None:
        raise BootstrapError("debootstrap is not installed.", "Install it: apt-get install debootstrap.")
    if os.geteuid() != 0:
        raise BootstrapError(
            "Bootstrapping a base image needs root (debootstrap creates device files).",
            "Run it as root, e.g. sudo orch images bootstrap.",
        )
    with tempfile.TemporaryDirectory(prefix="orch-bootstrap-") as work:
        rootfs = os.path.join(work, "rootfs")
        argv = ["debootstrap", "--variant=minbase", "--include=" + ",".join(packages), suite, rootfs, mirror]
        _stream(argv, log, "debootstrap of %s from %s failed" % (suite, mirror))
        for junk in ("var/lib/apt/lists", "var/cache/apt/archives", "usr/share/doc", "usr/share/man"):
            path = os.path.join(rootfs, junk)
            for name in os.listdir(path) if os.path.isdir(path) else ():
                target = os.path.join(path, name)
                shutil.rmtree(target) if os.path.isdir(target) and not os.path.islink(target) else os.unlink(target)
        archive = os.path.join(work, "rootfs.tar")
        _stream(["tar", "-C", rootfs, "-cf", archive, "."], log, "packing the root file system failed")
        repository, _, version = tag.partition(":")
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            'CMD ["python3"]',
            "LABEL org.orch.base=%s" % suite,
        ]
        engine.api.import_image_from_file(archive, repository=repository, tag=version or "latest", changes=changes)
    found: Optional[str] = image_id(engine, tag)
    if found is None:
        raise BootstrapError("docker import did not produce %s." % tag)
    return found


def _stream(argv: Sequence[str], log: Callable[[str], None], failure: str) -> None:
    process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        log(line.rstrip())
    if process.wait() != 0:
        raise BootstrapError("%s (exit %d)." % (failure, process.returncode), "\n".join(tail[-5:]))
