"""Where a store lives, parsed once: a local directory or an S3 bucket and prefix.

Everything that needs to know the kind of store asks ``location.is_local``
instead of looking for ``://`` in a string. Parsing does no I/O.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from ..errors import UsageError


class StoreKind(str, enum.Enum):
    LOCAL = "local"
    S3 = "s3"


@dataclass(frozen=True)
class StoreLocation:
    kind: StoreKind
    url: str  # an absolute directory for LOCAL, s3://bucket[/prefix] for S3

    @classmethod
    def parse(cls, text: str) -> StoreLocation:
        """A path (relative paths become absolute: tasks may run elsewhere), file:///path or s3://bucket/prefix."""
        text = str(text)
        if text.startswith("s3://"):
            return cls(StoreKind.S3, "s3://" + text[len("s3://") :].rstrip("/"))
        if "://" in text and not text.startswith("file://"):
            raise UsageError(
                "Unsupported store URL %r." % text, "Use a local directory, file:///path, or s3://bucket/prefix."
            )
        path = text[len("file://") :] if text.startswith("file://") else text
        return cls(StoreKind.LOCAL, os.path.abspath(os.path.expanduser(path)))

    @property
    def is_local(self) -> bool:
        return self.kind is StoreKind.LOCAL

    @property
    def is_s3(self) -> bool:
        return self.kind is StoreKind.S3

    def __str__(self) -> str:
        return self.url
