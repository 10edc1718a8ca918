"""Send the task's stdout and stderr (file descriptors 1 and 2) to log files.

Redirecting the descriptors, not just ``sys.stdout``, captures output of
C extensions and subprocesses too. Lines are flushed as written so the
orchestrator can stream them live.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Optional


def redirect_output(stdout_path: str, stderr_path: str, makedirs: Optional[Callable[[str], None]] = None) -> None:
    """``makedirs``: how the store creates its folders (owned as the store is), when the logs are in it."""
    for path in (stdout_path, stderr_path):
        if makedirs is not None:
            makedirs(os.path.dirname(path))
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, fd)
        os.close(target)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
