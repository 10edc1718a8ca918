"""The byte-level storage interface every backend implements (``factory.open_backend`` picks one).

A backend stores opaque bytes under '/'-separated keys. It knows nothing of
hashing, pickling or runs: ``cas`` and ``metadata`` build on it. Writes are
atomic: a reader sees the old value, the new value, or nothing, never a
partial one.
"""

from __future__ import annotations

import io
from typing import BinaryIO, Callable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..errors import OrchError

Buffer = Union[bytes, bytearray, memoryview]


class MissingKey(OrchError):
    """A key that should exist does not."""


class KeyInfo(NamedTuple):
    key: str
    size: int
    mtime: float  # seconds since the epoch


class Backend:
    """Six batch-capable byte operations; subclasses implement them."""

    url: str = ""

    def put(self, key: str, chunks: Sequence[Buffer], if_absent: bool = False) -> bool:
        """Store the concatenation of ``chunks`` atomically. With ``if_absent``, keep an existing
        value and return False; otherwise return True."""
        raise NotImplementedError

    def get(self, key: str) -> bytearray:
        """The bytes under ``key`` (writable, so pickled arrays load without a copy); MissingKey if absent."""
        raise NotImplementedError

    def get_many(self, keys: Iterable[str]) -> Iterator[Tuple[str, bytearray]]:
        """(key, bytes) for each key, in any order; backends may fetch in parallel."""
        for key in keys:
            yield key, self.get(key)

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the bytes under ``key``; MissingKey if absent."""
        return io.BytesIO(self.get(key))

    def put_stream(self, chunks: Iterable[Buffer], key: Callable[[], str], if_absent: bool = False) -> Tuple[str, bool]:
        """Store a stream whose key is known only once it is consumed (content hashed on the way).

        Returns (key, written). Backends that can write first and name
        afterwards (a local rename) override this to stream without buffering.
        """
        data = [bytes(memoryview(c)) for c in chunks]
        final = key()
        return final, self.put(final, data, if_absent=if_absent)

    def list(self, prefix: str) -> Iterator[KeyInfo]:
        """Every key under ``prefix`` (recursively), skipping in-progress temporary writes."""
        raise NotImplementedError

    def children(self, prefix: str) -> List[str]:
        """The names one level below ``prefix`` (folders and keys), without walking further down.
        Backends override this with a cheap listing; this fallback walks everything."""
        base = prefix.rstrip("/") + "/"
        return sorted({info.key[len(base) :].split("/")[0] for info in self.list(base)})

    def delete(self, keys: Iterable[str]) -> int:
        """Remove keys; missing ones are ignored. Returns how many were removed."""
        raise NotImplementedError

    def local_path(self, key: str) -> Optional[str]:
        """A filesystem path for ``key`` when the backend is a local directory, else None."""
        return None
