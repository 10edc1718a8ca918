"""Copy blobs between stores, for ``spin``: its scratch store holds the very bytes its inputs were.

Blobs are content-addressed, so a copy is complete or absent: between two
local stores on one file system a hard link (one atomic step, no bytes
moved), otherwise the bytes through the target's atomic ``put``. Blobs the
target already has are skipped.
"""

from __future__ import annotations

import os
from typing import Iterable

from .backend import Backend


def copy_keys(source: Backend, target: Backend, keys: Iterable[str]) -> int:
    """Copy each key that ``target`` lacks; returns how many were copied."""
    copied = 0
    for key in dict.fromkeys(keys):
        if target.exists(key):
            continue
        here, there = source.local_path(key), target.local_path(key)
        if here is not None and there is not None:
            os.makedirs(os.path.dirname(there), exist_ok=True)
            try:
                os.link(here, there)
                copied += 1
                continue
            except FileExistsError:
                continue
            except OSError:
                pass  # another file system, or links not allowed: copy the bytes
        target.put(key, [source.get(key)], if_absent=True)
        copied += 1
    return copied
