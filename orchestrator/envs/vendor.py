"""The runtime layer's own boto3: copied beside orch's runtime, into every image and host runtime copy.

The task-side runtime talks to S3 with this copy, never with whatever the
step's environment pins (or lacks). It comes from the host's installation,
so building an image needs no network. botocore's service models are cut to
the services the runtime calls, which takes the layer from ~35 MB to ~7 MB.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from typing import Callable, List, Tuple

# Top-level modules, in dependency order: boto3 and what it imports at run time.
VENDORED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
SERVICES = ("s3", "sts", "logs", "secretsmanager")  # botocore/data and boto3/data keep only these


def _location(name: str) -> Tuple[str, bool]:
    """(path, is_package) of the host's copy of a vendored module."""
    module = importlib.import_module(name)
    path = getattr(module, "__file__", None) or ""
    if os.path.basename(path) == "__init__.py":
        return os.path.dirname(path), True
    return path, False


def fingerprint() -> str:
    """Names and versions of the vendored distributions: part of the runtime hash, so images follow them."""
    from importlib import metadata

    digest = hashlib.sha256()
    for name in VENDORED:
        dist = "python-dateutil" if name == "dateutil" else name
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "?"
        digest.update(("%s==%s\n" % (name, version)).encode())
    return digest.hexdigest()


def _ignore(root: str) -> Callable[[str, List[str]], List[str]]:
    def ignore(folder: str, names: List[str]) -> List[str]:
        skipped = [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".so"))]
        relative = os.path.relpath(folder, root)
        if relative in (os.path.join("botocore", "data"), os.path.join("boto3", "data")):
            skipped += [n for n in names if os.path.isdir(os.path.join(folder, n)) and n not in SERVICES]
        return skipped

    return ignore


def copy_vendor(target: str) -> None:
    """Write the vendored modules under ``target`` (a folder put first on sys.path by the S3 store)."""
    os.makedirs(target, exist_ok=True)
    for name in VENDORED:
        path, is_package = _location(name)
        if is_package:
            shutil.copytree(path, os.path.join(target, name), ignore=_ignore(os.path.dirname(path)))
        else:
            shutil.copyfile(path, os.path.join(target, os.path.basename(path)))
