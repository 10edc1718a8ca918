"""The store: content-addressed blobs plus run metadata, over one byte-level backend.

Task-side code: standard library only (boto3 only for S3), Python 3.8 compatible.
"""

from .backend import Backend, MissingKey
from .factory import open_backend

__all__ = ["Backend", "MissingKey", "open_backend"]
