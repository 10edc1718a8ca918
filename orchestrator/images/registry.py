"""Ship ``orch-env`` images to a registry: the account's ECR, or any registry named by ORCH_REGISTRY.

A push is skipped when the registry already holds the tag with the local
image's own digest, so shipping a flow twice moves nothing. Jobs refer to the
image by digest (``host/orch-env@sha256:...``): what runs on Batch is exactly
what was built and tested here. ECR credentials come from boto3's
``get_authorization_token`` and go to the engine per call, never to disk or
logs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from .engine import EngineError

REPOSITORY = "orch-env"


class RegistryError(EngineError):
    """A push failed, or the registry cannot be reached or logged in to."""


@dataclass(frozen=True)
class Registry:
    host: str  # 127.0.0.1:5000, or ACCOUNT.dkr.ecr.REGION.amazonaws.com
    namespace: str = ""  # optional path before the repository name
    auth: Optional[Dict[str, str]] = None  # {"username", "password"} for ECR; None for an open registry
    ecr: bool = False

    @property
    def repository(self) -> str:
        path = "%s/%s" % (self.namespace, REPOSITORY) if self.namespace else REPOSITORY
        return "%s/%s" % (self.host, path)


@dataclass(frozen=True)
class Shipped:
    local_tag: str
    reference: str  # repository@digest, what jobs run
    digest: str
    pushed: bool  # False: the registry had it already


def parse_registry(value: str) -> Registry:
    """``HOST[:PORT][/NAMESPACE]`` → Registry (no auth)."""
    value = value.strip().rstrip("/")
    for scheme in ("https://", "http://"):
        if value.startswith(scheme):
            value = value[len(scheme) :]
    host, _, namespace = value.partition("/")
    if not host:
        raise RegistryError("ORCH_REGISTRY is empty.", "Set it to 'ecr' or a registry host such as 127.0.0.1:5000.")
    return Registry(host=host, namespace=namespace)


def ecr_registry(ecr_client: Any) -> Registry:
    """Log in to the account's ECR through boto3 and make sure the ``orch-env`` repository exists."""
    try:
        data = ecr_client.get_authorization_token()["authorizationData"][0]
    except Exception as err:
        raise RegistryError(
            "Cannot get an ECR login token: %s" % err, "Check your AWS credentials and region, or set ORCH_REGISTRY."
        ) from None
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    host = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    try:
        ecr_client.create_repository(repositoryName=REPOSITORY)
    except Exception as err:
        if "RepositoryAlreadyExists" not in type(err).__name__ + str(getattr(err, "response", "")):
            raise RegistryError("Cannot create the ECR repository %s: %s" % (REPOSITORY, err)) from None
    return Registry(host=host, auth={"username": username, "password": password}, ecr=True)


def resolve_registry(setting: Optional[str], ecr_client_factory: Callable[[], Any]) -> Registry:
    """``ecr`` or nothing → the account's ECR; anything else → that registry host."""
    if not setting or setting.strip().lower() == "ecr":
        return ecr_registry(ecr_client_factory())
    return parse_registry(setting)


def _local_digest(engine: Any, local_tag: str, repository: str) -> Optional[str]:
    for entry in engine.api.inspect_image(local_tag).get("RepoDigests") or []:
        name, _, digest = entry.partition("@")
        if name == repository:
            return digest
    return None


def remote_digest(engine: Any, registry: Registry, tag: str) -> Optional[str]:
    """The digest the registry holds for ``repository:tag``, or None when it has no such tag."""
    try:
        found = engine.api.inspect_distribution("%s:%s" % (registry.repository, tag), auth_config=registry.auth)
    except Exception:
        return None
    return (found.get("Descriptor") or {}).get("digest")


def ship(engine: Any, local_tag: str, registry: Registry) -> Shipped:
    """Push ``local_tag`` (orch-env:HASH) as REGISTRY/orch-env:HASH unless it is there already."""
    tag = local_tag.rpartition(":")[2]
    repository = registry.repository
    known = _local_digest(engine, local_tag, repository)
    if known is not None and remote_digest(engine, registry, tag) == known:
        return Shipped(local_tag, "%s@%s" % (repository, known), known, pushed=False)
    engine.api.tag(local_tag, repository, tag)
    try:
        for event in engine.api.push(repository, tag, stream=True, decode=True, auth_config=registry.auth):
            if "error" in event:
                raise RegistryError(
                    "Pushing %s to %s failed: %s" % (local_tag, registry.host, event["error"].strip()),
                    "Check that the registry is running and reachable from the Docker engine"
                    + (" (ECR login expires after 12 hours)." if registry.ecr else "."),
                )
    except RegistryError:
        raise
    except Exception as err:
        raise RegistryError(
            "Cannot reach the registry %s: %s" % (registry.host, str(err).splitlines()[0] if str(err) else err),
            "Start it, or point ORCH_REGISTRY (orch configure aws --registry) at one that runs.",
        ) from None
    digest = _local_digest(engine, local_tag, repository)
    if digest is None:
        raise RegistryError("The engine reported no digest for %s after pushing it." % local_tag)
    return Shipped(local_tag, "%s@%s" % (repository, digest), digest, pushed=True)
