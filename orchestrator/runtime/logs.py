"""Follow the log files of running tasks and hand complete lines to the console, prefixed by task.

One thread reads every followed file a few times a second: appends only,
from the last offset, so a 10,000-task run costs one small read per file.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, Tuple

Emit = Callable[[str, str, str], None]  # (prefix, stream, line)


class LogFollower:
    def __init__(self, emit: Emit, interval: float = 0.2) -> None:
        self.emit = emit
        self.interval = interval
        self._files: Dict[Tuple[str, str], Tuple[str, int, bytes]] = {}  # (prefix, stream) -> (path, offset, partial)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orch-logs", daemon=True)
        self._thread.start()

    def follow(self, prefix: str, stdout_path: str, stderr_path: str) -> None:
        with self._lock:
            self._files[(prefix, "stdout")] = (stdout_path, 0, b"")
            self._files[(prefix, "stderr")] = (stderr_path, 0, b"")

    def unfollow(self, prefix: str) -> None:
        """Read what is left, flush any unterminated last line, and stop following."""
        with self._lock:
            for stream in ("stdout", "stderr"):
                key = (prefix, stream)
                if key in self._files:
                    self._read(key, final=True)
                    del self._files[key]

    def _read(self, key: Tuple[str, str], final: bool = False) -> None:
        path, offset, partial = self._files[key]
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                new = handle.read()
        except FileNotFoundError:
            new = b""
        lines = (partial + new).split(b"\n")
        partial = lines.pop()
        if final and partial:
            lines.append(partial)
            partial = b""
        for line in lines:
            self.emit(key[0], key[1], line.decode("utf-8", "replace"))
        self._files[key] = (path, offset + len(new), partial)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                for key in list(self._files):
                    self._read(key)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for prefix in {p for p, _ in list(self._files)}:
            self.unfollow(prefix)
