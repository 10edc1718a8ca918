"""``ImageSpec``: what goes into a step's image, and the tag that names exactly that.

Frozen; ``with_*`` return copies; the tag is computed from canonical JSON
(sorted keys, a schema version) of the *lock's* hash, the base image id, the
platform, the Dockerfile template and orch's runtime layer. Change any of
them and the tag changes; change none and it does not, run after run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from typing import Optional

from ..errors import MissingPackageFile

SCHEMA = 1
REPOSITORY = "orch-env"
# The Dockerfile templates, inside the package: in a checkout ``templates`` links to the top-level
# ``images/`` (their source), and a wheel or sdist carries them as plain files at the same place.
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def template_text(kind: str) -> str:
    """A Dockerfile template shipped with orch: part of every image's hash, so never overridden."""
    path = os.path.join(TEMPLATES, "Dockerfile.%s" % kind)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise MissingPackageFile(path) from None


@dataclass(frozen=True)
class ImageSpec:
    kind: str  # "default", "pypi" or "conda"
    base_image: str  # reference as configured, e.g. orch-base:bookworm
    base_image_id: str  # the engine's id of that base, so a rebuilt base gives new tags
    platform: str  # e.g. linux/amd64
    template_digest: str
    runtime_digest: str
    lock_digest: Optional[str] = None  # sha256 of the lock file; None for the default image
    lock_name: Optional[str] = None  # for labels and messages only; not hashed

    def canonical(self) -> dict:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "base_image_id": self.base_image_id,
            "platform": self.platform,
            "template": self.template_digest,
            "runtime": self.runtime_digest,
            "lock": self.lock_digest,
        }

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()

    @property
    def tag(self) -> str:
        return "%s:%s" % (REPOSITORY, self.digest[:32])

    @property
    def python(self) -> str:
        """The interpreter tasks run with inside the image: the base's, or the pinned env's."""
        return "/usr/bin/python3" if self.kind == "default" else "/opt/env/bin/python"

    def with_base(self, base_image: str, base_image_id: str) -> ImageSpec:
        return replace(self, base_image=base_image, base_image_id=base_image_id)

    def labels(self, version: str) -> dict:
        return {
            "org.orch.kind": self.kind,
            "org.orch.lock-hash": self.lock_digest or "",
            "org.orch.lock": self.lock_name or "",
            "org.orch.spec": json.dumps(self.canonical(), sort_keys=True),
            "org.orch.base": self.base_image,
            "org.orch.version": version,
        }


def template_digest(kind: str) -> str:
    return hashlib.sha256(template_text(kind).encode()).hexdigest()
