"""How a store location picks its backend: S3 for ``s3://bucket/prefix``, else a local directory.

Kept apart from ``backend`` so the backends import the interface without importing each other.
"""

from __future__ import annotations

from typing import Optional, Union

from .backend import Backend
from .location import StoreLocation


def open_backend(
    store: Union[str, StoreLocation], region: Optional[str] = None, endpoint_url: Optional[str] = None
) -> Backend:
    """The backend of a store location (or its text): S3 for ``s3://bucket/prefix``, else a local directory.
    ``region`` and ``endpoint_url`` go to the S3 client itself; boto3's own defaults apply where None."""
    location = store if isinstance(store, StoreLocation) else StoreLocation.parse(store)
    if location.is_s3:
        from .s3 import S3Backend

        return S3Backend.from_url(location.url, region=region, endpoint_url=endpoint_url)
    from .local import LocalBackend

    return LocalBackend(location.url)
