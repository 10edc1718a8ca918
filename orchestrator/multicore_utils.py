"""``parallel_map``, ``parallel_imap_unordered`` and ``profile``: Metaflow's helpers for work inside a step,
under Metaflow's module path (``metaflow.multicore_utils``).

The map functions fork one child per item, at most ``max_parallel`` at a
time, so ``func`` may be a closure or a lambda (nothing is pickled on the
way in). Each child sends its pickled result back through a pipe, which the
parent reads as it arrives (no temporary files, no polling), so a result is
not bounded by a queue's size. A child that raises prints its traceback and
makes the call raise ``MulticoreException``; the children still running
then are stopped, and none outlives the call. POSIX only, as Metaflow's.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import sys
import time
import traceback
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

_CHUNK = 1 << 20


class MulticoreException(Exception):
    """A child of ``parallel_map`` or ``parallel_imap_unordered`` failed (Metaflow's name for it)."""


def _fork(func: Callable[[Any], Any], arg: Any) -> Tuple[int, int]:
    """(pid, read end of the pipe) of a child computing ``func(arg)``."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)
    status = 1
    try:
        data = pickle.dumps(func(arg), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
        status = 0
    except BaseException:  # the child must never unwind into the parent's code
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _stop(children: Dict[int, Tuple[int, List[bytes]]]) -> None:
    for read, (pid, _) in children.items():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(read)
    children.clear()


def parallel_imap_unordered(
    func: Callable[[Any], Any],
    iterable: Iterable[Any],
    max_parallel: Optional[int] = None,
    dir: Optional[str] = None,  # noqa: A002 - Metaflow's keyword; orch needs no temporary files
) -> Iterator[Any]:
    """Yield ``func(item)`` for every item, in the order the children finish, ``max_parallel`` (default:
    the CPU count) at a time."""
    limit = max(1, max_parallel or os.cpu_count() or 1)
    items = iter(iterable)
    children: Dict[int, Tuple[int, List[bytes]]] = {}  # pipe → (pid, chunks read)
    selector = selectors.DefaultSelector()

    def start(batch: Iterable[Any]) -> None:
        for arg in batch:
            pid, read = _fork(func, arg)
            children[read] = (pid, [])
            selector.register(read, selectors.EVENT_READ)

    try:
        start(islice(items, limit))
        while children:
            for key, _ in selector.select():
                pid, chunks = children[key.fd]
                chunk = os.read(key.fd, _CHUNK)
                if chunk:
                    chunks.append(chunk)
                    continue
                selector.unregister(key.fd)
                os.close(key.fd)
                del children[key.fd]
                _, status = os.waitpid(pid, 0)
                if status != 0:
                    raise MulticoreException("Child failed")
                yield pickle.loads(b"".join(chunks))
                start(islice(items, 1))
    finally:
        for read in list(children):
            selector.unregister(read)
        _stop(children)
        selector.close()


def parallel_map(
    func: Callable[[Any], Any],
    iterable: Iterable[Any],
    max_parallel: Optional[int] = None,
    dir: Optional[str] = None,  # noqa: A002 - Metaflow's keyword
) -> List[Any]:
    """``[func(item) for item in iterable]``, computed in forked children, in the items' order."""
    indexed = parallel_imap_unordered(lambda pair: (pair[0], func(pair[1])), enumerate(iterable), max_parallel, dir)
    return [result for _, result in sorted(indexed, key=lambda pair: pair[0])]


@contextmanager
def profile(label: str, stats_dict: Optional[Dict[str, int]] = None) -> Iterator[None]:
    """Time a block in milliseconds: printed as ``PROFILE: label starting`` / ``... completed in Nms``, or,
    with ``stats_dict``, added to ``stats_dict[label]`` silently (Metaflow's ``profile``)."""
    if stats_dict is None:
        print("PROFILE: %s starting" % label)
    started = time.time()
    yield
    took = int((time.time() - started) * 1000)
    if stats_dict is None:
        print("PROFILE: %s completed in %dms" % (label, took))
    else:
        stats_dict[label] = stats_dict.get(label, 0) + took
