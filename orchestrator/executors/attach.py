"""The attach-stream protocol of a warm task container: the task goes in on stdin, one JSON line, and
the runner's exit line comes back on stdout, framed by Docker's multiplexed stream (8-byte headers).

The exit line is ``ORCH-TASK-EXIT CODE [REASON]``: the runner writes it once the attempt is
committed, and the container's PID 1 (``task.supervise``) writes it with ``oom`` or ``signal-N``
when the runner was killed, so an OOM kill is known without the engine's racy flag.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from ..task.supervise import EXIT_MARKER


def send_task(raw: Any, line: str) -> None:
    """Write the task's JSON line to the container's stdin."""
    raw.sendall((line + "\n").encode())


def read_exit_marker(raw: Any) -> Optional[Tuple[int, str]]:
    """Demultiplex the stream until the exit line: its exit code, and why it was killed (``oom``,
    ``signal-N``) when the container's PID 1 saw it. None when the stream ends first."""
    buffer, text = b"", ""
    try:
        while True:
            while len(buffer) < 8:
                chunk = raw.recv(65536)
                if not chunk:
                    return None
                buffer += chunk
            size = int.from_bytes(buffer[4:8], "big")
            while len(buffer) < 8 + size:
                chunk = raw.recv(65536)
                if not chunk:
                    return None
                buffer += chunk
            text += buffer[8 : 8 + size].decode("utf-8", "replace")
            buffer = buffer[8 + size :]
            for line in text.splitlines():
                if line.startswith(EXIT_MARKER + " "):
                    fields = line.split()
                    return int(fields[1]), (fields[2] if len(fields) > 2 else "")
            text = text[text.rfind("\n") + 1 :]
    finally:
        try:
            raw.close()
        except OSError:
            pass
