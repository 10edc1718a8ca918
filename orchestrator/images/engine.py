"""The Docker engine, behind a few small functions: connect, inspect, build. Everything else stays pure."""

from __future__ import annotations

import os
import platform as _platform
from typing import Any, Optional

from ..errors import OrchError


class EngineError(OrchError):
    """The Docker engine is unreachable, or a base image is missing."""


class ImageBuildError(OrchError):
    """docker build failed."""


def client(timeout: int = 600) -> Any:
    """A connected docker SDK client, or an EngineError saying how to get an engine."""
    try:
        import docker
    except ImportError:
        raise EngineError("The docker executor needs the docker package.", "pip install docker") from None
    try:
        engine = docker.from_env(timeout=timeout)
        engine.ping()
    except Exception as err:
        raise _unreachable(err) from None
    return engine


def _unreachable(err: Exception) -> EngineError:
    """Where orch looked for an engine, why it got no answer, and the ways to get one."""
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    text = str(err)
    if "Permission denied" in text or "PermissionError" in text:
        why = "permission denied: add your user to the docker group, or run as root"
    elif "No such file" in text or "FileNotFoundError" in text:
        why = "no engine is running there"
    else:
        why = text.splitlines()[0][:200] if text else type(err).__name__
    return EngineError(
        "No Docker engine answers at %s (%s)." % (where, why),
        "Install and start one (Debian/Ubuntu: apt-get install docker.io, then start dockerd or "
        "systemctl start docker), point DOCKER_HOST at one, or run tasks without containers: --executor local.",
    )


def available() -> bool:
    try:
        client(timeout=3)
        return True
    except EngineError:
        return False


def engine_platform() -> str:
    machine = _platform.machine()
    return "linux/%s" % {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def image_id(engine: Any, reference: str) -> Optional[str]:
    import docker

    try:
        return engine.api.inspect_image(reference)["Id"]
    except docker.errors.ImageNotFound:
        return None


def base_image_id(engine: Any, reference: str) -> str:
    found = image_id(engine, reference)
    if found is None:
        raise EngineError(
            "The base image %s is not present in the Docker engine." % reference,
            "Build one offline with: orch images bootstrap (or pull it where a registry is reachable).",
        )
    return found


def build(engine: Any, context: str, tag: str, labels: dict) -> str:
    """docker build with no network; returns the image id. The error carries the build log's tail."""
    log = []
    try:
        for chunk in engine.api.build(
            path=context, tag=tag, labels=labels, network_mode="none", rm=True, forcerm=True, decode=True, pull=False
        ):
            if "stream" in chunk:
                log.append(chunk["stream"])
            if "error" in chunk:
                raise ImageBuildError(
                    "Building %s failed: %s" % (tag, chunk["error"].strip()),
                    "The build log ends with:\n" + "".join(log[-15:]).rstrip(),
                )
    except ImageBuildError:
        raise
    except Exception as err:
        raise ImageBuildError("Building %s failed: %s" % (tag, err)) from None
    found = image_id(engine, tag)
    if found is None:
        raise ImageBuildError("Building %s produced no image." % tag, "".join(log[-15:]))
    return found
