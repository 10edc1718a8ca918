"""Content-addressed blobs on top of a ``Backend``.

A blob's key is the sha256 of its *raw* bytes, stored under
``blobs/ab/abcdef…``. Identical data is stored once, whichever flow wrote
it. Every stored blob starts with a 5-byte header: magic, codec version and
codec. Reads check the header, decompress, and verify the hash, so a
flipped bit or a truncated file raises ``CorruptBlobError`` instead of
returning wrong data.

sha256 over blake2b: hashlib's sha256 runs on OpenSSL's SHA extensions at
about 1.0 GB/s here against 0.93 GB/s for blake2b, and S3 checksums it
natively. Compression is decided per blob from a sample (see
``choose_codec``): random arrays are stored raw, text and pickled lists
are zlib-compressed.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from typing import Iterator, NamedTuple, Optional, Sequence

from ..errors import OrchError
from .backend import Backend, Buffer, MissingKey

MAGIC = b"OB"
VERSION = 1
RAW, ZLIB = 0, 1
HEADER_SIZE = 5
SAMPLE = 64 * 1024
# Smaller blobs are stored raw: on disk one takes a whole 4 KiB block compressed or not, and zlib's
# set-up (a quarter MiB of tables, first touched in a freshly forked task) costs more than the write.
MIN_COMPRESS = 4096
RATIO = 0.8  # compress when a sample shrinks to at most this fraction
STREAM_MIN = 32 * 1024 * 1024  # from this size, hashing overlaps with writing and reading
STEP = 8 * 1024 * 1024


class CorruptBlobError(OrchError):
    """A blob's bytes do not match its key: flipped, truncated or overwritten."""


class UnknownBlobVersionError(OrchError):
    """A blob written by a newer orch, with a header this version cannot read."""


class BlobRef(NamedTuple):
    key: str  # sha256 hex of the raw bytes
    size: int  # raw size in bytes
    stored: int  # bytes written (0 when the blob already existed)


def _nbytes(chunk: Buffer) -> int:
    return memoryview(chunk).nbytes


def _sample(views: Sequence[memoryview]) -> bytes:
    """64 KiB from the start, middle and end of the largest chunk (all of it when small).

    The three windows never overlap: repeated bytes would make random data
    look compressible.
    """
    largest = max(views, key=lambda v: v.nbytes)
    size = largest.nbytes
    if size <= 3 * SAMPLE:
        return bytes(largest)
    middle = size // 2 - SAMPLE // 2
    return b"".join(bytes(w) for w in (largest[:SAMPLE], largest[middle : middle + SAMPLE], largest[-SAMPLE:]))


def choose_codec(views: Sequence[memoryview]) -> int:
    """zlib when samples compress to <= 80%; raw otherwise.

    Measured here (benchmarks/bench_store.py): zlib runs at about 37 MB/s on
    incompressible data, so compressing a 200 MB random array would cost ~5 s
    for nothing; the sample costs well under a millisecond.
    """
    if sum(v.nbytes for v in views) < MIN_COMPRESS:
        return RAW
    sample = _sample(views)
    return ZLIB if len(zlib.compress(sample, 1)) <= RATIO * len(sample) else RAW


def _encoded(views: Sequence[memoryview], size: int) -> tuple:
    """(codec, body chunks). A blob no bigger than one sample is compressed once and kept compressed
    only if that paid (the sample would be the whole blob anyway); a larger one is sampled first."""
    if MIN_COMPRESS <= size <= SAMPLE:
        packed = zlib.compress(b"".join(views), 3)
        return (ZLIB, [packed]) if len(packed) <= RATIO * size else (RAW, views)
    if choose_codec(views) == RAW:
        return RAW, views
    compressor = zlib.compressobj(3)  # level 3 compresses as well as 6 on pickles here, twice as fast
    return ZLIB, [compressor.compress(v) for v in views] + [compressor.flush()]


def _hashed_in_background(views: Sequence[memoryview], digest: hashlib._Hash) -> Iterator[memoryview]:
    """Yield slices to write while a helper thread hashes each one (both release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor  # only large blobs need it: keep task start-up lean

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for view in views:
            for start in range(0, view.nbytes, STEP):
                piece = view[start : start + STEP]
                if pending is not None:
                    pending.result()
                pending = pool.submit(digest.update, piece)
                yield piece
        if pending is not None:
            pending.result()


class ContentAddressedStore:
    """save_blobs / load_blob over a backend; the only place hashing and codecs live."""

    def __init__(self, backend: Backend, prefix: str = "blobs") -> None:
        self.backend = backend
        self.prefix = prefix

    def key_path(self, key: str) -> str:
        return "%s/%s/%s" % (self.prefix, key[:2], key)

    def save_blob(self, chunks: Sequence[Buffer], key: Optional[str] = None, fresh: bool = False) -> BlobRef:
        """Store the concatenation of ``chunks``; a blob already present is not rewritten.

        ``fresh`` says the data is probably new (not just loaded from the store),
        so it is written without asking first whether it exists: the backend's
        create-if-absent keeps a copy already there. A small blob then costs
        one write, and a large raw one is written while it is hashed, in one
        pass. (A large compressible one is still looked up first: writing it
        again for nothing would cost more than the look-up.)
        """
        views = [memoryview(c).cast("B") for c in chunks]
        size = sum(v.nbytes for v in views)
        if key is None and fresh and size >= STREAM_MIN and choose_codec(views) == RAW:
            return self._stream_raw(views, size)
        if key is None:
            digest = hashlib.sha256()
            for view in views:
                digest.update(view)
            key = digest.hexdigest()
        path = self.key_path(key)
        if not (fresh and size <= SAMPLE) and self.backend.exists(path):
            return BlobRef(key, size, 0)
        codec, body = _encoded(views, size)
        header = MAGIC + bytes([VERSION, codec, 0])
        written = self.backend.put(path, [header] + body, if_absent=True)
        return BlobRef(key, size, HEADER_SIZE + sum(_nbytes(b) for b in body) if written else 0)

    def _stream_raw(self, views: Sequence[memoryview], size: int) -> BlobRef:
        digest = hashlib.sha256()
        header = MAGIC + bytes([VERSION, RAW, 0])

        def pieces() -> Iterator[memoryview]:
            yield memoryview(header)
            yield from _hashed_in_background(views, digest)

        key, written = self.backend.put_stream(pieces(), lambda: self.key_path(digest.hexdigest()), if_absent=True)
        return BlobRef(key.rsplit("/", 1)[-1], size, HEADER_SIZE + size if written else 0)

    def load_blob(self, key: str, what: str = "") -> memoryview:
        """The raw bytes of blob ``key`` (writable), verified against the key."""
        label = " (%s)" % what if what else ""
        try:
            handle = self.backend.open(self.key_path(key))
        except MissingKey:
            raise MissingKey(
                "Blob %s%s is missing from the store at %s." % (key, label, self.backend.url),
                "Run 'orch fsck' to check the store.",
            ) from None
        with handle:
            try:
                size = os.fstat(handle.fileno()).st_size
            except (AttributeError, OSError, ValueError):
                size = 0
            if size < STREAM_MIN:
                return self._decode(key, bytearray(handle.read()), label)
            header = handle.read(HEADER_SIZE)
            if len(header) < HEADER_SIZE or header[:2] != MAGIC or header[3] != RAW:
                return self._decode(key, bytearray(header + handle.read()), label)
            return self._read_verified(key, handle, header, size - HEADER_SIZE, label)

    def _read_verified(self, key: str, handle, header: bytes, size: int, label: str) -> memoryview:
        """Read a large raw blob in slices while a helper thread hashes the slices already read."""
        if header[2] != VERSION:
            return self._decode(key, bytearray(header), label)  # raises UnknownBlobVersionError
        from concurrent.futures import ThreadPoolExecutor

        body = bytearray(size)
        view = memoryview(body)
        digest = hashlib.sha256()
        done = 0
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            while done < size:
                count = handle.readinto(view[done : done + STEP])
                if not count:
                    break
                if pending is not None:
                    pending.result()
                pending = pool.submit(digest.update, view[done : done + count])
                done += count
            if pending is not None:
                pending.result()
        if done != size or handle.read(1) or digest.hexdigest() != key:
            raise CorruptBlobError(
                "Blob %s%s is corrupt: its content does not match its hash (%d bytes read)." % (key, label, done),
                "Run 'orch fsck' to list damaged blobs; re-run the task that wrote it.",
            )
        return view

    def _decode(self, key: str, stored: bytearray, label: str) -> memoryview:
        if len(stored) < HEADER_SIZE or stored[:2] != MAGIC:
            raise CorruptBlobError(
                "Blob %s%s is corrupt: it has no valid header (%d bytes)." % (key, label, len(stored)),
                "Run 'orch fsck' to list damaged blobs; re-run the task that wrote it.",
            )
        version, codec = stored[2], stored[3]
        if version != VERSION or codec not in (RAW, ZLIB):
            raise UnknownBlobVersionError(
                "Blob %s%s has codec version %d/%d, which this orch cannot read." % (key, label, version, codec),
                "Upgrade orch to read it.",
            )
        body = memoryview(stored)[HEADER_SIZE:]
        if codec == ZLIB:
            try:
                body = memoryview(bytearray(zlib.decompress(body)))
            except zlib.error:
                raise CorruptBlobError(
                    "Blob %s%s is corrupt: its compressed data is damaged or truncated." % (key, label),
                    "Run 'orch fsck' to list damaged blobs; re-run the task that wrote it.",
                ) from None
        if hashlib.sha256(body).hexdigest() != key:
            raise CorruptBlobError(
                "Blob %s%s is corrupt: its content does not match its hash (%d bytes read)." % (key, label, len(body)),
                "Run 'orch fsck' to list damaged blobs; re-run the task that wrote it.",
            )
        return body

    def verify(self, key: str) -> None:
        """Raise CorruptBlobError / MissingKey / UnknownBlobVersionError if the blob is not intact."""
        self.load_blob(key)
