"""One flow command in a subprocess: its output teed to log files (and the console), waited on, streamed.

The Runner's process never imports the user's step code: the flow runs in a
child ``python -m orchestrator``, as Metaflow's Runner runs ``python flow.py``.
Two reader threads copy the child's stdout and stderr to files as lines come,
so ``stdout``/``stderr`` and ``stream_log`` see output while the run goes on.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, AsyncIterator, Dict, List, Mapping, Optional, Tuple


class CommandManager:
    """A started command: ``command``, ``process``, ``log_files`` (as Metaflow's CommandManager has them)."""

    def __init__(self, command: List[str], env: Mapping[str, str], cwd: str, folder: Optional[str] = None) -> None:
        self.command = list(command)
        self.env, self.cwd = dict(env), cwd
        self._dir = folder or tempfile.mkdtemp(prefix="orch-runner-")  # its logs; removed by cleanup()
        self.log_files: Dict[str, str] = {name: os.path.join(self._dir, name + ".log") for name in ("stdout", "stderr")}
        self.process: Optional[subprocess.Popen] = None
        self.timeout = False  # set when wait(timeout=...) ran out and the command was killed
        self._readers: List[threading.Thread] = []

    def start(self, show_output: bool) -> None:
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its tasks are its children: kill() ends the whole group
        )
        for name, pipe, console in (
            ("stdout", self.process.stdout, sys.stdout),
            ("stderr", self.process.stderr, sys.stderr),
        ):
            reader = threading.Thread(
                target=self._copy, args=(pipe, self.log_files[name], console if show_output else None), daemon=True
            )
            reader.start()
            self._readers.append(reader)

    @staticmethod
    def _copy(pipe: IO[bytes], path: str, console: Optional[IO[str]]) -> None:
        with open(path, "ab") as log:
            for line in iter(pipe.readline, b""):
                log.write(line)
                log.flush()
                if console is not None:
                    console.write(line.decode("utf-8", "replace"))
                    console.flush()
        pipe.close()

    @property
    def finished(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def sync_wait(self, timeout: Optional[float] = None) -> None:
        """Until the command ends and its output is all in the log files; past ``timeout``, kill it."""
        assert self.process is not None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.timeout = True
            self.kill()
        for reader in self._readers:
            reader.join()

    async def wait(self, timeout: Optional[float] = None, stream: Optional[str] = None) -> None:
        if stream is not None:
            printer = asyncio.ensure_future(self._emit(stream))
        await asyncio.get_running_loop().run_in_executor(None, self.sync_wait, timeout)
        if stream is not None:
            await printer

    async def _emit(self, stream: str) -> None:
        async for _, line in self.stream_log(stream):
            print(line)

    async def stream_log(self, stream: str, position: Optional[int] = None) -> AsyncIterator[Tuple[int, str]]:
        """(position after the line, the line without its newline), as lines arrive, until the command
        has ended and every line is read. A position resumes a later call where this one stopped."""
        if stream not in self.log_files:
            raise ValueError("No log for %r: use one of %s." % (stream, ", ".join(sorted(self.log_files))))
        with open(self.log_files[stream], "a+", encoding="utf-8", errors="replace") as handle:
            handle.seek(position or 0)
            pending = ""
            while True:
                done = self.finished and not any(r.is_alive() for r in self._readers)
                chunk = handle.readline()
                if chunk.endswith("\n") or (chunk and done):
                    line, pending = pending + chunk, ""
                    yield handle.tell(), line.rstrip("\n")
                    continue
                pending += chunk
                if done:
                    if pending:
                        yield handle.tell(), pending
                    return
                await asyncio.sleep(0.05)

    def kill(self, grace: float = 2.0) -> None:
        """SIGTERM to the command's process group, SIGKILL after ``grace`` seconds if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + (wait or 5.0)
            while time.monotonic() < deadline and self.process.poll() is None:
                time.sleep(0.05)
            if self.process.poll() is not None:
                return

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self._dir, ignore_errors=True)
