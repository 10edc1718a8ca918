"""A store in an S3 bucket (or anything speaking S3: moto, MinIO), through boto3.

Each put is a single PutObject, which S3 makes atomic; ``if_absent`` uses
a conditional write (If-None-Match) where the service supports it.
``AWS_ENDPOINT_URL`` is honoured by boto3 itself, so tests point it at a
moto server on loopback. Credentials come from boto3's usual chain and are
never logged.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..errors import OrchError
from .backend import Backend, Buffer, KeyInfo, MissingKey
from .names import check_key

PARALLEL_GETS = 8
VENDOR_DIR = "_vendor"  # the runtime layer's boto3, inside the orchestrator package of runtime copies only


def import_boto3() -> Any:
    """boto3 from the runtime layer when orch runs from a runtime copy (images, host envs), so a task
    never depends on the step's own environment for it; else the installed one."""
    vendor = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), VENDOR_DIR)
    if os.path.isdir(vendor) and vendor not in sys.path:
        sys.path.insert(0, vendor)
    try:
        import boto3
    except ImportError:
        raise S3StoreError("The S3 store needs boto3.", "Install it: pip install boto3.") from None
    return boto3


class S3StoreError(OrchError):
    """The bucket is missing or unreachable, or access is denied."""


class S3Backend(Backend):
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        region: Optional[str] = None,
        endpoint_url: Optional[str] = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = "s3://%s/%s" % (bucket, self.prefix) if self.prefix else "s3://%s" % bucket
        if client is None:
            client = import_boto3().client("s3", region_name=region or None, endpoint_url=endpoint_url or None)
        self.client = client
        self._checked = False

    @classmethod
    def from_url(cls, url: str, region: Optional[str] = None, endpoint_url: Optional[str] = None) -> S3Backend:
        rest = url[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise S3StoreError("The store URL %r names no bucket." % url, "Write it as s3://bucket/prefix.")
        return cls(bucket, prefix, region=region, endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        check_key(key)
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def _error(self, err: Exception, key: str = "") -> Exception:
        code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket",):
            return S3StoreError(
                "S3 bucket '%s' does not exist." % self.bucket,
                "Create it (aws s3 mb s3://%s) or fix --store / ORCH_STORE." % self.bucket,
            )
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return S3StoreError(
                "Access to %s was denied (%s)." % (self.url, code), "Check your AWS credentials and the bucket policy."
            )
        return err

    def _check_bucket(self) -> None:
        if self._checked:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise S3StoreError(
                    "S3 bucket '%s' does not exist." % self.bucket,
                    "Create it (aws s3 mb s3://%s) or fix --store / ORCH_STORE." % self.bucket,
                ) from None
            if "Could not connect" in str(err) or "EndpointConnectionError" in type(err).__name__:
                raise S3StoreError(
                    "Cannot reach S3 for %s: %s" % (self.url, err), "Check the network and AWS_ENDPOINT_URL."
                ) from None
            raise self._error(err) from None
        self._checked = True

    def put(self, key: str, chunks: Sequence[Buffer], if_absent: bool = False) -> bool:
        self._check_bucket()
        body = b"".join(chunks) if len(chunks) != 1 else bytes(chunks[0])
        extra = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body, **extra)
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if if_absent and code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._error(err, key) from None
        return True

    def get(self, key: str) -> bytearray:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise MissingKey("Missing from the store: %s" % key) from None
            raise self._error(err, key) from None
        return bytearray(response["Body"].read())

    def get_many(self, keys: Iterable[str]) -> Iterator[Tuple[str, bytearray]]:
        keys = list(keys)
        with ThreadPoolExecutor(max_workers=PARALLEL_GETS) as pool:
            yield from zip(keys, pool.map(self.get, keys))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                self._check_bucket()
                return False
            raise self._error(err, key) from None

    def list(self, prefix: str) -> Iterator[KeyInfo]:
        self._check_bucket()
        base = self._key(prefix.rstrip("/")) if prefix.strip("/") else self.prefix
        full = base + "/" if base else ""
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for item in page.get("Contents", []):
                yield KeyInfo(item["Key"][strip:], item["Size"], item["LastModified"].timestamp())

    def children(self, prefix: str) -> List[str]:
        self._check_bucket()
        base = self._key(prefix.rstrip("/")) + "/"
        names = set()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base, Delimiter="/"):
            names.update(p["Prefix"][len(base) :].rstrip("/") for p in page.get("CommonPrefixes", []))
            names.update(item["Key"][len(base) :] for item in page.get("Contents", []))
        return sorted(names)

    def delete(self, keys: Iterable[str]) -> int:
        keys = [self._key(k) for k in keys]
        removed = 0
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            removed += len(batch)
        return removed
