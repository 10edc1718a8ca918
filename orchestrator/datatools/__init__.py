"""Metaflow's data tools under orch (``from metaflow.datatools import S3`` ports by its import line)."""

from .s3 import (
    S3,
    MetaflowS3AccessDenied,
    MetaflowS3Exception,
    MetaflowS3InvalidObject,
    MetaflowS3InvalidRange,
    MetaflowS3NotFound,
    MetaflowS3URLException,
    S3GetObject,
    S3Object,
    S3PutObject,
)

__all__ = [
    "S3",
    "S3GetObject",
    "S3Object",
    "S3PutObject",
    "MetaflowS3AccessDenied",
    "MetaflowS3Exception",
    "MetaflowS3InvalidObject",
    "MetaflowS3InvalidRange",
    "MetaflowS3NotFound",
    "MetaflowS3URLException",
]
