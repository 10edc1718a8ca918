"""How a step's image reaches the nodes: pushed to a registry, or kept in a shared cache by digest.

- Docker and podman, with a registry: the image is pushed (the Batch path's
  ``ship``) and jobs run ``repository@digest``, pulling it where missing.
- Docker and podman, without one: jobs run the image by its id (a digest),
  and load it from ``CACHE/docker/ID.tar`` on a node that lacks it.
- Charliecloud: the image is unpacked once per digest into ``CACHE/ch/ID``,
  a read-only folder every node's ``ch-run`` mounts.

Every cache entry is written under a temporary name and renamed, so a node
never sees half an image, and is reused by every later run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from typing import Any, Callable, Optional

from ...images.registry import resolve_registry, ship


def _safe_id(image_id: str) -> str:
    return image_id.replace("sha256:", "")[:64]


def image_id(engine: Any, tag: str) -> str:
    return engine.images.get(tag).id


def pushed(engine: Any, tag: str, registry: str, notice: Callable[[str], None]) -> str:
    """Push ``tag`` to ``registry`` unless it has it; returns the reference jobs pull (by digest)."""
    found = resolve_registry(registry, lambda: None)
    shipped = ship(engine, tag, found)
    if shipped.pushed:
        notice("Pushed %s to %s" % (tag, shipped.reference))
    return shipped.reference


def saved(engine: Any, ident: str, cache: str, notice: Callable[[str], None]) -> str:
    """``CACHE/docker/ID.tar``, the image saved for nodes that do not have it (once per digest)."""
    target = os.path.join(cache, "docker", _safe_id(ident) + ".tar")
    if os.path.exists(target):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = "%s.tmp-%s" % (target, uuid.uuid4().hex)
    try:
        with open(temp, "wb") as handle:
            for chunk in engine.images.get(ident).save(named=False):
                handle.write(chunk)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    notice("Saved image %s to the shared image cache (%s)" % (_safe_id(ident)[:12], target))
    return target


def unpacked(engine: Any, ident: str, cache: str, notice: Callable[[str], None], mount_points: tuple = ()) -> str:
    """``CACHE/ch/ID``, the image's filesystem for ``ch-run`` (once per digest); ``mount_points`` are
    folders created in it for the binds jobs make (ch-run binds onto existing folders only)."""
    target = os.path.join(cache, "ch", _safe_id(ident))
    if not os.path.isdir(target):
        temp = "%s.tmp-%s" % (target, uuid.uuid4().hex)
        os.makedirs(temp)
        container = engine.containers.create(ident, "true")
        try:
            tar = subprocess.Popen(["tar", "-x", "-C", temp, "--exclude=dev/*"], stdin=subprocess.PIPE)
            assert tar.stdin is not None
            for chunk in container.export():
                tar.stdin.write(chunk)
            tar.stdin.close()
            if tar.wait() != 0:
                raise OSError("unpacking image %s for Charliecloud failed (tar exit %d)" % (ident, tar.returncode))
            os.chmod(temp, 0o755)
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        finally:
            container.remove(force=True)
        notice("Unpacked image %s for Charliecloud (%s)" % (_safe_id(ident)[:12], target))
    for point in mount_points:
        os.makedirs(os.path.join(target, point.lstrip("/")), exist_ok=True)
    return target


def reference(
    engine: Any,
    tag: str,
    runtime: str,
    registry: Optional[str],
    cache: str,
    notice: Callable[[str], None],
    mounts: tuple,
) -> tuple:
    """(image, archive) a job of ``runtime`` runs: see the module's docstring."""
    ident = image_id(engine, tag)
    if runtime == "charliecloud":
        return unpacked(engine, ident, cache, notice, mounts), None
    if registry:
        return pushed(engine, tag, registry, notice), None
    return ident, saved(engine, ident, cache, notice)
