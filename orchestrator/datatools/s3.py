"""``S3``: Metaflow's client for data in and out of steps, on the run's S3 store or any ``s3root``.

``with S3(run=self) as s3`` reads and writes under the run's own prefix,
``<root>/<flow>/<run id>``, where the root is ``METAFLOW_DATATOOLS_S3ROOT``
(or ``ORCH_DATATOOLS_S3ROOT``), else ``data/`` beside the run's S3 store;
``S3(s3root="s3://bucket/prefix")`` works under any prefix, and ``S3()``
takes full ``s3://`` URLs. Objects come back as ``S3Object``s whose data
sits in a temporary folder until the ``with`` block ends.

Many objects move in parallel (a thread pool), and a large object moves in
parallel byte ranges (boto3's transfer manager), both bounded. User
metadata is stored as Metaflow stores it (``metaflow-user-attributes``),
so objects written by either tool read the same in both.

Task-side code: standard library and boto3 only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

from ..exception import MetaflowException

PARALLEL = 16  # objects at once
PART = 8 * 1024 * 1024  # above this an object moves in byte ranges of this size, in parallel
USER_ATTRIBUTES = "metaflow-user-attributes"

RangeInfo = namedtuple("RangeInfo", "total_size request_offset request_length")
S3GetObject = namedtuple("S3GetObject", "key offset length")
S3PutObject = namedtuple(
    "S3PutObject", "key value path content_type metadata encryption", defaults=(None, None, None, None, None)
)


class MetaflowS3Exception(MetaflowException):
    headline = "S3 access failed"


class MetaflowS3URLException(MetaflowException):
    headline = "Invalid address"


class MetaflowS3NotFound(MetaflowException):
    headline = "S3 object not found"


class MetaflowS3AccessDenied(MetaflowException):
    headline = "S3 access denied"


class MetaflowS3InvalidObject(MetaflowException):
    headline = "Not a string-like object"


class MetaflowS3InvalidRange(MetaflowException):
    headline = "S3 invalid range"


class S3Object:
    """An object, or a prefix (``exists`` False), in S3, with a local copy when it was downloaded."""

    def __init__(
        self,
        prefix: Optional[str],
        url: str,
        path: Optional[str],
        size: Optional[int] = None,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
        range_info: Optional[RangeInfo] = None,
        last_modified: Optional[int] = None,
        encryption: Optional[str] = None,
    ) -> None:
        self._url, self._path, self._content_type, self._range_info = url, path, content_type, range_info
        self._size = os.stat(path).st_size if path else size
        self._last_modified, self._encryption = last_modified, encryption
        self._metadata = json.loads(metadata[USER_ATTRIBUTES]) if metadata and USER_ATTRIBUTES in metadata else None
        if prefix is None or prefix == url:
            self._prefix, self._key = None, url
        else:
            self._prefix, self._key = prefix, url[len(prefix.rstrip("/")) + 1 :].rstrip("/")

    exists = property(lambda self: self._path is not None or self._size is not None, doc="An object, not a prefix.")
    downloaded = property(lambda self: self._path is not None, doc="Its data is in a local file.")
    url = property(lambda self: self._url)
    prefix = property(lambda self: self._prefix)
    key = property(lambda self: self._key, doc="The URL less the client's root, or the whole URL.")
    path = property(lambda self: self._path, doc="The local copy (removed when the S3 client closes).")
    size = property(lambda self: self._size)
    has_info = property(lambda self: self._content_type is not None or self._metadata is not None)
    metadata = property(lambda self: self._metadata, doc="The user metadata given to put().")
    content_type = property(lambda self: self._content_type)
    encryption = property(lambda self: self._encryption)
    range_info = property(lambda self: self._range_info)
    last_modified = property(lambda self: self._last_modified, doc="Seconds since the epoch.")

    @property
    def blob(self) -> Optional[bytes]:
        if self._path is None:
            return None
        with open(self._path, "rb") as handle:
            return handle.read()

    @property
    def text(self) -> Optional[str]:
        blob = self.blob
        return None if blob is None else blob.decode("utf-8")

    def __str__(self) -> str:
        return "<S3Object %s (%s)>" % (self._url, "%d bytes, local" % self._size if self._path else "in S3")

    __repr__ = __str__


def _split(url: str) -> Tuple[str, str]:
    parsed = urlparse(url, allow_fragments=False)
    return parsed.netloc, parsed.path.lstrip("/")


def _epoch(value: Any) -> Optional[int]:
    return int(value.timestamp()) if value is not None else None


def datatools_root() -> Optional[str]:
    """Where ``S3(run=...)`` keeps data: the configured root, else ``data/`` beside the client's or the
    running task's S3 store; None when there is neither."""
    configured = os.environ.get("ORCH_DATATOOLS_S3ROOT") or os.environ.get("METAFLOW_DATATOOLS_S3ROOT")
    if configured:
        return configured.rstrip("/")
    from ..authoring.current import current

    store = current._values.get("store_url") if current.is_running_flow else None
    if store is None:
        from ..client.state import current_url

        store = current_url()
    return store.rstrip("/") + "/data" if store and store.startswith("s3://") else None


def _root_of(run: Any, bucket: Optional[str], prefix: Optional[str], s3root: Optional[str]) -> Optional[str]:
    """The client's root URL: a run's own prefix, an s3root, a bucket (and prefix), or None (full URLs)."""
    if run is not None:
        base = datatools_root()
        if base is None:
            raise MetaflowS3URLException(
                "S3(run=...) needs an S3 root, and this run's store is a local folder. Run the flow with an S3 "
                "store (--store s3://bucket/prefix), or set METAFLOW_DATATOOLS_S3ROOT=s3://bucket/prefix."
            )
        from ..authoring.current import current
        from ..authoring.flowspec import FlowSpec

        if isinstance(run, FlowSpec):
            if not current.is_running_flow:
                raise MetaflowS3URLException("S3(run=self) works in a running step; elsewhere pass a client Run.")
            flow_name, run_id = current.flow_name, current.run_id
        else:
            flow_name, run_id = run.parent.id, run.id
        root_bucket, root_prefix = _split(base)
        parts = [bucket or root_bucket, (prefix if prefix is not None else root_prefix).strip("/"), flow_name, run_id]
        return "s3://" + "/".join(p for p in parts if p)
    if s3root is not None:
        if not s3root.startswith("s3://") or not _split(s3root)[0]:
            raise MetaflowS3URLException("s3root must be an S3 URL, s3://bucket/prefix, not %r." % s3root)
        return s3root.rstrip("/")
    if bucket is not None:
        return "s3://" + "/".join(p for p in (bucket, (prefix or "").strip("/")) if p)
    return None


Key = Union[str, S3GetObject, S3PutObject]


class S3:
    """Metaflow's S3 client: ``get``/``get_many``/``get_recursive``/``get_all``, ``put``/``put_many``/
    ``put_files``, ``list_paths``/``list_recursive``, ``info``/``info_many``."""

    def __init__(
        self,
        tmproot: str = ".",
        bucket: Optional[str] = None,
        prefix: Optional[str] = None,
        run: Any = None,
        s3root: Optional[str] = None,
        encryption: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        self._s3root = _root_of(run, bucket, prefix, s3root)
        self._encryption = encryption
        self._client = kwargs.get("external_client") or self._make_client(kwargs.get("client_params") or {})
        self._tmpdir: Optional[str] = tempfile.mkdtemp(dir=tmproot, prefix="orch.s3.")

    @staticmethod
    def _make_client(params: Dict[str, Any]) -> Any:
        from ..store.s3 import import_boto3

        return import_boto3().client("s3", **params)

    def __enter__(self) -> S3:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Remove every local copy this client downloaded."""
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # addresses

    def _url(self, key: Any) -> str:
        key = getattr(key, "key", key)
        if self._s3root is None:
            if isinstance(key, str) and key.startswith("s3://") and _split(key)[1]:
                return key
            raise MetaflowS3URLException(
                "Give full s3:// URLs, or make the client with S3(run=self) in a step, or S3(s3root=...)."
            )
        if not key:
            return self._s3root
        if key.startswith("s3://"):
            raise MetaflowS3URLException("This client has a root (%s): give keys, not URLs (%s)." % (self._s3root, key))
        return "%s/%s" % (self._s3root, key.lstrip("/"))

    # the calls to S3, one object at a time; the public methods run them in parallel

    def _call(self, url: str, work: Any) -> Any:
        try:
            return work()
        except Exception as err:
            code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise MetaflowS3NotFound(url) from None
            if code in ("403", "AccessDenied"):
                raise MetaflowS3AccessDenied(url) from None
            if code in ("InvalidRange", "416"):
                raise MetaflowS3InvalidRange(url) from None
            raise MetaflowS3Exception("%s: %s" % (url, err)) from None

    def _head(self, url: str, return_missing: bool) -> S3Object:
        bucket, key = _split(url)
        try:
            head = self._call(url, lambda: self._client.head_object(Bucket=bucket, Key=key))
        except MetaflowS3NotFound:
            if return_missing:
                return S3Object(self._s3root, url, None)
            raise
        return self._object(url, None, head, head["ContentLength"])

    def _object(self, url: str, path: Optional[str], head: Dict[str, Any], size: int, span: Any = None) -> S3Object:
        return S3Object(
            self._s3root,
            url,
            path,
            size,
            head.get("ContentType"),
            head.get("Metadata"),
            span,
            _epoch(head.get("LastModified")),
            head.get("ServerSideEncryption"),
        )

    def _download(self, target: Any, return_missing: bool, return_info: bool) -> S3Object:
        url = self._url(target)
        bucket, key = _split(url)
        offset, length = getattr(target, "offset", None), getattr(target, "length", None)
        fd, path = tempfile.mkstemp(dir=self._tmpdir, prefix="get.")
        os.close(fd)
        try:
            head = self._call(url, lambda: self._client.head_object(Bucket=bucket, Key=key))
        except MetaflowS3NotFound:
            os.unlink(path)
            if return_missing:
                return S3Object(self._s3root, url, None)
            raise
        total = head["ContentLength"]
        if offset is None and length is None:
            self._call(url, lambda: self._client.download_file(bucket, key, path, Config=_transfer()))
            span = None
        else:
            first = offset or 0
            wanted = (
                "bytes=-%d" % -length
                if length is not None and length < 0
                else "bytes=%d-%s"
                % (
                    first,
                    "" if length is None else first + length - 1,
                )
            )
            body = self._call(url, lambda: self._client.get_object(Bucket=bucket, Key=key, Range=wanted))
            with open(path, "wb") as handle:
                shutil.copyfileobj(body["Body"], handle)
            got = os.stat(path).st_size
            span = RangeInfo(total, total - got if length is not None and length < 0 else first, got)
        return self._object(url, path, head if return_info else {}, total, span)

    def _upload(self, target: S3PutObject, overwrite: bool) -> Tuple[str, str]:
        url = self._url(target.key)
        bucket, key = _split(url)
        if not overwrite and self._head(url, return_missing=True).exists:
            return target.key, url
        extra: Dict[str, Any] = {}
        if target.content_type:
            extra["ContentType"] = target.content_type
        if target.metadata:
            extra["Metadata"] = {USER_ATTRIBUTES: json.dumps(target.metadata)}
        if target.encryption or self._encryption:
            extra["ServerSideEncryption"] = target.encryption or self._encryption
        if target.path is not None:
            if not os.path.exists(target.path):
                raise MetaflowS3NotFound("Local file not found: %s" % target.path)
            work = lambda: self._client.upload_file(target.path, bucket, key, ExtraArgs=extra, Config=_transfer())  # noqa: E731
        else:
            body = _as_bytes(target.value)
            work = lambda: self._client.put_object(Bucket=bucket, Key=key, Body=body, **extra)  # noqa: E731
        self._call(url, work)
        return target.key, url

    def _listing(self, url: str, recursive: bool) -> Iterator[S3Object]:
        bucket, key = _split(url)
        prefix = key.rstrip("/") + "/" if key else ""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, **({} if recursive else {"Delimiter": "/"})
        )
        for page in self._call(url, lambda: list(pages)):
            for common in page.get("CommonPrefixes", []):
                yield S3Object(self._s3root, "s3://%s/%s" % (bucket, common["Prefix"]), None)
            for item in page.get("Contents", []):
                found = "s3://%s/%s" % (bucket, item["Key"])
                yield S3Object(self._s3root, found, None, item["Size"], last_modified=_epoch(item.get("LastModified")))

    def _parallel(self, work: Any, items: Sequence[Any]) -> List[Any]:
        if len(items) <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items))) as pool:
            return list(pool.map(work, items))

    # Metaflow's API

    def list_paths(self, keys: Optional[Iterable[str]] = None) -> List[S3Object]:
        """The next level under each key (all at once): objects, and prefixes with ``exists`` False."""
        urls = [self._url(k) for k in (keys if keys is not None else [None])]
        return [obj for found in self._parallel(lambda u: list(self._listing(u, False)), urls) for obj in found]

    def list_recursive(self, keys: Optional[Iterable[str]] = None) -> List[S3Object]:
        """Every object under each key."""
        urls = [self._url(k) for k in (keys if keys is not None else [None])]
        return [obj for found in self._parallel(lambda u: list(self._listing(u, True)), urls) for obj in found]

    def info(self, key: Optional[str] = None, return_missing: bool = False) -> S3Object:
        return self._head(self._url(key), return_missing)

    def info_many(self, keys: Iterable[str], return_missing: bool = False) -> List[S3Object]:
        found = self._parallel(lambda k: self._head(self._url(k), True), list(keys))
        missing = [obj.url for obj in found if not obj.exists]
        if missing and not return_missing:
            raise MetaflowS3NotFound(missing[0])
        return found if return_missing else [obj for obj in found if obj.exists]

    def get(self, key: Optional[Key] = None, return_missing: bool = False, return_info: bool = True) -> S3Object:
        return self._download(key, return_missing, return_info)

    def get_many(self, keys: Iterable[Key], return_missing: bool = False, return_info: bool = True) -> List[S3Object]:
        return self._parallel(lambda k: self._download(k, return_missing, return_info), list(keys))

    def get_recursive(self, keys: Iterable[str], return_info: bool = False) -> List[S3Object]:
        urls = [obj.url for obj in self.list_recursive(keys) if obj.exists]
        if self._s3root is None:
            return self.get_many(urls, return_info=return_info)
        return self.get_many([u[len(self._s3root) + 1 :] for u in urls], return_info=return_info)

    def get_all(self, return_info: bool = False) -> List[S3Object]:
        if self._s3root is None:
            raise MetaflowS3URLException("get_all() needs a client with a root: S3(run=self) or S3(s3root=...).")
        return self.get_recursive([None], return_info)  # type: ignore[list-item]

    def put(
        self,
        key: Union[str, S3PutObject],
        obj: Any,
        overwrite: bool = True,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> str:
        """Store ``obj`` (str, bytes or a binary file object) at ``key``; returns its URL."""
        return self._upload(S3PutObject(getattr(key, "key", key), obj, None, content_type, metadata), overwrite)[1]

    def put_many(self, key_objs: Iterable[Any], overwrite: bool = True) -> List[Tuple[str, str]]:
        """(key, value) pairs or ``S3PutObject``s, stored in parallel; returns (key, url) pairs."""
        targets = [item if isinstance(item, S3PutObject) else S3PutObject(item[0], item[1]) for item in key_objs]
        return self._parallel(lambda t: self._upload(t, overwrite), targets)

    def put_files(self, key_paths: Iterable[Any], overwrite: bool = True) -> List[Tuple[str, str]]:
        """(key, local path) pairs or ``S3PutObject``s with ``path``, uploaded in parallel."""
        targets = [item if isinstance(item, S3PutObject) else S3PutObject(item[0], None, item[1]) for item in key_paths]
        return self._parallel(lambda t: self._upload(t, overwrite), targets)


def _as_bytes(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)) or hasattr(value, "read"):
        return value
    raise MetaflowS3InvalidObject("put() takes str, bytes or a binary file object, not %s." % type(value).__name__)


def _transfer() -> Any:
    """Large objects in parallel byte ranges: PART-sized, eight at a time."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=8, use_threads=True)
