"""Where the client reads from and which namespace it sees: the state ``metadata()`` and
``namespace()`` set, and the errors of a missing or foreign object. Objects live in ``client``.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Dict, Optional, Tuple

from ..config import DEFAULT_STORE, Config, resolve_store
from ..errors import OrchError
from ..exception import MetaflowNamespaceMismatch, MetaflowNotFound
from ..store.backend import Backend
from ..store.cas import ContentAddressedStore
from ..store.factory import open_backend
from ..store.metadata import MetadataStore

_STORE_DIR = os.path.basename(DEFAULT_STORE)  # ".orch": Metaflow's metadata names the folder holding it
_store_url: Optional[str] = None
_namespace: Optional[str] = None
_namespace_set = False
_opened: Dict[str, Tuple[Backend, MetadataStore, ContentAddressedStore]] = {}


class ClientError(OrchError, MetaflowNotFound):
    """A flow, run, step, task or artifact that does not exist (Metaflow's ``MetaflowNotFound`` too)."""


class MissingChild(OrchError, KeyError):
    """``task["x"]``, ``run["step"]``: no such child. A ``KeyError``, and only that, as in Metaflow's
    client (where ``MetaflowNotFound`` is for objects asked for by pathspec)."""

    def __str__(self) -> str:
        return self.format()


class NamespaceMismatch(ClientError, MetaflowNamespaceMismatch):
    """The object exists but belongs to another namespace (Metaflow's ``MetaflowNamespaceMismatch``)."""


def metadata(url: str) -> str:
    """Point the client at a store: a local directory, s3://bucket/prefix, or Metaflow's forms, ``local``
    (the default store) and ``local@DIR`` (the folder holding the store). Returns get_metadata()."""
    global _store_url
    _store_url = resolve_store(_store_of(url))
    return get_metadata()


def _store_of(url: str) -> str:
    if url == "local":
        return DEFAULT_STORE
    if url.startswith("local@"):
        folder = url[len("local@") :]
        inside = os.path.join(folder, _STORE_DIR)
        return inside if os.path.isdir(inside) or not os.path.isdir(os.path.join(folder, "flows")) else folder
    return url


def use_store(url: Optional[str]) -> None:
    """Point the client at ``url`` when given (a running task's own store, for ``current.run``)."""
    if url:
        metadata(url)


def get_metadata() -> str:
    """Where the client reads from, as Metaflow says it: ``local@`` and the folder that holds the store
    (``local@/home/me/project`` for ``/home/me/project/.orch``; a store named otherwise is its own
    folder), or the ``s3://bucket/prefix`` of an S3 store."""
    url = current_url()
    if url.startswith("s3://"):
        return url
    folder, name = os.path.split(url)
    return "local@" + (folder if name == _STORE_DIR else url)


def current_url() -> str:
    return _store_url or Config.from_env().store_url


def opened_store() -> Tuple[Backend, MetadataStore, ContentAddressedStore]:
    url = current_url()
    if url not in _opened:
        backend = open_backend(url)
        _opened[url] = (backend, MetadataStore(backend), ContentAddressedStore(backend))
    return _opened[url]


def default_namespace() -> str:
    return "user:%s" % Config.from_env().username


def namespace(ns: Optional[str]) -> Optional[str]:
    """Restrict reads to runs tagged ``ns`` (e.g. 'user:alice'); None sees every run."""
    global _namespace, _namespace_set
    _namespace, _namespace_set = ns, True
    return ns


def get_namespace() -> Optional[str]:
    return _namespace if _namespace_set else default_namespace()


def timestamp_of(value: Optional[float]) -> Optional[_dt.datetime]:
    return _dt.datetime.fromtimestamp(value) if value else None


def reset() -> None:
    """Forget ``metadata()`` and ``namespace()``: back to ORCH_STORE and the user's namespace."""
    global _store_url, _namespace, _namespace_set
    _store_url, _namespace, _namespace_set = None, None, False
