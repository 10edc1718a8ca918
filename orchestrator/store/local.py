"""A store in a local directory: each key is a file; writes go to a temp file, then ``os.replace``."""

from __future__ import annotations

import errno
import os
import uuid
from typing import BinaryIO, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from ..errors import OrchError
from .backend import Backend, Buffer, KeyInfo, MissingKey
from .names import check_key

TEMP_PREFIX = ".tmp-"


class StoreFullError(OrchError):
    """The disk holding the store is full."""


def _adopted_owner(root: str) -> Optional[Tuple[int, int]]:
    """Root writing a store that was shared with an unprivileged user (``share_with``: its folder is
    theirs) keeps it theirs, so their containers and jobs can still write every folder root creates."""
    if not hasattr(os, "getuid") or os.getuid() != 0:
        return None
    try:
        found = os.stat(root)
    except OSError:
        return None
    return (found.st_uid, found.st_gid) if found.st_uid != 0 else None


class LocalBackend(Backend):
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.url = self.root
        self.owner: Optional[Tuple[int, int]] = _adopted_owner(root)

    def share_with(self, uid: int, gid: int) -> None:
        """Make everything this backend writes (and what the store holds) owned by ``uid:gid``.

        Used when orch runs as root and its containers as an unprivileged user:
        both then write the same store. Existing entries are adopted once.
        """
        self.owner = (uid, gid)
        os.makedirs(self.root, exist_ok=True)
        for folder, dirs, files in os.walk(self.root):
            for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                stat = os.lstat(name)
                if (stat.st_uid, stat.st_gid) != self.owner:
                    os.lchown(name, uid, gid)

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` (a path inside the store) as the store's own writes do: owned by its owner."""
        self._makedirs(folder)

    def _makedirs(self, folder: str) -> None:
        if self.owner is None:
            os.makedirs(folder, exist_ok=True)
            return
        missing = []
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for path in reversed(missing):
            try:
                os.mkdir(path)
                os.chown(path, *self.owner)
            except FileExistsError:
                pass

    def _own(self, path: str) -> None:
        if self.owner is not None:
            os.chown(path, *self.owner)

    def _path(self, key: str) -> str:
        check_key(key)
        return os.path.join(self.root, *key.split("/"))

    def local_path(self, key: str) -> Optional[str]:
        return self._path(key)

    def put(self, key: str, chunks: Sequence[Buffer], if_absent: bool = False) -> bool:
        path = self._path(key)
        folder = os.path.dirname(path)
        temp = os.path.join(folder, "%s%s.%s" % (TEMP_PREFIX, os.path.basename(path), uuid.uuid4().hex[:12]))
        try:
            handle = self._create(folder, temp)
            with handle:
                for chunk in chunks:
                    handle.write(chunk)
            self._own(temp)
            if if_absent:
                try:
                    os.link(temp, path)  # atomic create-if-absent
                except FileExistsError:
                    return False
                finally:
                    os.unlink(temp)
            else:
                os.replace(temp, path)
        except OSError as err:
            if os.path.exists(temp):
                os.unlink(temp)
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise self._full(err, key) from None
            raise
        return True

    def _create(self, folder: str, temp: str) -> BinaryIO:
        """Open a new temp file in ``folder``, making the folder first. gc removes folders it empties, so
        one may vanish between making it and opening the file: make it again, a few times."""
        try:
            return open(temp, "wb")  # the folder is usually there: no mkdir, no stat
        except FileNotFoundError:
            pass
        for attempt in range(5):
            self._makedirs(folder)
            try:
                return open(temp, "wb")
            except FileNotFoundError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def get(self, key: str) -> bytearray:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                data = bytearray(size)
                view = memoryview(data)
                read = 0
                while read < size:
                    count = handle.readinto(view[read:])
                    if not count:
                        break
                    read += count
                return data if read == size else data[:read]
        except FileNotFoundError:
            raise MissingKey("Missing from the store: %s" % key) from None

    def exists(self, key: str) -> bool:
        return os.path.exists(self._path(key))

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise MissingKey("Missing from the store: %s" % key) from None

    def put_stream(self, chunks: Iterable[Buffer], key: Callable[[], str], if_absent: bool = False) -> Tuple[str, bool]:
        """Write to a temp file at the root, then move it under the key the stream turned out to have."""
        self._makedirs(self.root)
        temp = os.path.join(self.root, "%sstream.%s" % (TEMP_PREFIX, uuid.uuid4().hex[:12]))
        try:
            try:
                with open(temp, "wb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
            except OSError as err:
                raise self._full(err, "a new blob") if err.errno in (errno.ENOSPC, errno.EDQUOT) else err
            self._own(temp)
            final = key()
            path = self._path(final)
            self._makedirs(os.path.dirname(path))
            if if_absent:
                try:
                    os.link(temp, path)
                except FileExistsError:
                    return final, False
                return final, True
            os.replace(temp, path)
            return final, True
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def _full(self, err: OSError, what: str) -> OrchError:
        return StoreFullError(
            "No space left on the device holding the store at %s while writing %s." % (self.root, what),
            "Free some space (orch gc removes old runs) or point --store elsewhere.",
        )

    def list(self, prefix: str) -> Iterator[KeyInfo]:
        top = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if os.path.isfile(top):
            stat = os.stat(top)
            yield KeyInfo(prefix.rstrip("/"), stat.st_size, stat.st_mtime)
            return
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in sorted(files):
                if name.startswith(TEMP_PREFIX):
                    continue
                try:
                    stat = os.stat(os.path.join(folder, name))
                except FileNotFoundError:
                    continue  # deleted while listing
                key = name if relative == "." else relative + "/" + name
                yield KeyInfo(key, stat.st_size, stat.st_mtime)

    def children(self, prefix: str) -> List[str]:
        try:
            return sorted(n for n in os.listdir(self._path(prefix.rstrip("/"))) if not n.startswith(TEMP_PREFIX))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def list_temporary(self, prefix: str = "") -> Iterator[KeyInfo]:
        """Temp files left by writers that were killed mid-write (for gc)."""
        top = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        for folder, _dirs, files in os.walk(top):
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    try:
                        stat = os.stat(os.path.join(folder, name))
                    except FileNotFoundError:
                        continue  # a live writer renamed it into place meanwhile
                    yield KeyInfo(name if relative == "." else relative + "/" + name, stat.st_size, stat.st_mtime)

    def delete(self, keys: Iterable[str]) -> int:
        """Remove files, then the folders they leave empty (never the root)."""
        removed = 0
        folders = set()
        for key in keys:
            path = self._path(key)
            try:
                os.unlink(path)
                removed += 1
                folders.add(os.path.dirname(path))
            except FileNotFoundError:
                pass
        for folder in sorted(folders, key=len, reverse=True):
            while folder != self.root and folder.startswith(self.root):
                try:
                    os.rmdir(folder)
                except OSError:
                    break  # not empty, or already gone
                folder = os.path.dirname(folder)
        return removed
