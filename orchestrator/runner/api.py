"""``Runner``: start runs and resumes from Python, as Metaflow's Runner API does.

::

    with Runner("flow.py", show_output=False) as runner:
        result = runner.run(alpha=0.5, tags=["nightly"], max_workers=4)
        print(result.status, result.run.data.score)

Each call starts ``python -m orchestrator ... run FLOW.py`` in a subprocess
(the caller never imports step code) and learns the run's id from a file
the run writes as soon as it starts. ``run``/``resume`` wait for the end;
``async_run``/``async_resume`` return once the run has started, with
``await wait()`` and ``async for ... in stream_log(...)`` to follow it. A
bad keyword or parameter raises at once: ``TypeError`` for a keyword no
command takes, ``RuntimeError`` with orch's message when the command exits
before the run starts (an unknown or invalid flow parameter).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from ..ids import run_path
from .command import flow_command, invocation
from .process import CommandManager

POLL_SECONDS = 0.05


class ExecutingProcess:
    """What a Runner started: the process behind it (``command_obj``), its status and output."""

    def __init__(self, runner: Runner, command_obj: CommandManager) -> None:
        self.runner, self.command_obj = runner, command_obj

    def __enter__(self) -> ExecutingProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.runner.cleanup()

    async def wait(self, timeout: Optional[float] = None, stream: Optional[str] = None) -> ExecutingProcess:
        """Until the run ends; past ``timeout`` seconds it is killed (status 'timeout'). ``stream``
        ('stdout' or 'stderr') prints that stream meanwhile."""
        await self.command_obj.wait(timeout, stream)
        return self

    @property
    def returncode(self) -> Optional[int]:
        """The command's exit code: 0 for a successful run, None while it runs."""
        return self.command_obj.process.returncode if self.command_obj.process else None

    @property
    def status(self) -> str:
        """'running', 'successful', 'failed', or 'timeout' (wait's timeout killed it)."""
        if self.command_obj.timeout:
            return "timeout"
        code = self.command_obj.process.poll() if self.command_obj.process else None
        return "running" if code is None else "successful" if code == 0 else "failed"

    def _read(self, stream: str) -> str:
        with open(self.command_obj.log_files[stream], encoding="utf-8", errors="replace") as handle:
            return handle.read()

    @property
    def stdout(self) -> str:
        """All the command printed on stdout so far."""
        return self._read("stdout")

    @property
    def stderr(self) -> str:
        return self._read("stderr")

    async def stream_log(self, stream: str, position: Optional[int] = None) -> AsyncIterator[Tuple[int, str]]:
        """(position, line) for each line of ``stream`` as it comes; a position resumes a later call."""
        async for item in self.command_obj.stream_log(stream, position):
            yield item


class ExecutingRun(ExecutingProcess):
    """A run started by ``Runner.run``/``resume``: ``run`` is its client Run."""

    def __init__(self, runner: Runner, command_obj: CommandManager, run: Any) -> None:
        super().__init__(runner, command_obj)
        self.run = run

    def __repr__(self) -> str:
        return "ExecutingRun(%s, %s)" % (self.run.pathspec, self.status)


class ExecutingTask(ExecutingProcess):
    """A task spun by ``Runner.spin``: ``task`` is its client Task (in the spin store)."""

    def __init__(self, runner: Runner, command_obj: CommandManager, task: Any) -> None:
        super().__init__(runner, command_obj)
        self.task = task

    def __repr__(self) -> str:
        return "ExecutingTask(%s, %s)" % (self.task.pathspec, self.status)


class Runner:
    """Runs one flow file from Python. Keywords are the top-level options of ``orch`` (Metaflow's:
    ``quiet=True``, ``pylint=False``, ``datastore_root=...``, ``decospecs=["retry"]``...)."""

    def __init__(
        self,
        flow_file: str,
        show_output: bool = True,
        profile: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[str] = None,
        file_read_timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        found = invocation(flow_file, profile, env, cwd, kwargs)
        self.flow_file, self.env_vars, self.cwd, self.top_level_kwargs = found
        self.show_output = show_output
        self.file_read_timeout = file_read_timeout
        self._commands: List[CommandManager] = []

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cleanup()

    def _start(self, name: str, kwargs: Dict[str, Any], show_output: bool) -> Tuple[CommandManager, str]:
        folder = tempfile.mkdtemp(prefix="orch-runner-")  # the logs and the attribute file; cleanup() removes it
        attributes = os.path.join(folder, "attributes.json")
        argv = flow_command(self.flow_file, self.top_level_kwargs, name, dict(kwargs, runner_attribute_file=attributes))
        command = CommandManager([sys.executable, "-m", "orchestrator"] + argv, self.env_vars, self.cwd, folder)
        self._commands.append(command)
        command.start(show_output)
        return command, attributes

    def _started(self, command: CommandManager, attributes: str) -> Optional[ExecutingProcess]:
        """The ExecutingRun (or, for spin, ExecutingTask) once the command has written its attributes;
        None while it has not yet."""
        if os.path.exists(attributes):
            with open(attributes, encoding="utf-8") as handle:
                found = json.load(handle)
            from ..client import Run, Task, metadata

            metadata(found["metadata"])  # the client reads the store this run used
            run = run_path(found["flow_name"], found["run_id"])
            if "task_id" in found:
                task = run.child(found["step_name"]).child(found["task_id"])
                return ExecutingTask(self, command, Task(str(task), _namespace_check=False))
            return ExecutingRun(self, command, Run(str(run), _check_namespace=False))
        if command.finished:
            command.sync_wait()
            raise RuntimeError(failure_message(command))
        return None

    def _check_deadline(self, command: CommandManager, deadline: float) -> None:
        if time.monotonic() > deadline:
            command.kill()
            raise RuntimeError("The run did not start in %ds. %s" % (self.file_read_timeout, failure_message(command)))

    def _blocking(self, name: str, kwargs: Dict[str, Any]) -> Any:
        command, attributes = self._start(name, kwargs, self.show_output)
        deadline = time.monotonic() + self.file_read_timeout
        while True:
            started = self._started(command, attributes)
            if started is not None:
                command.sync_wait()
                return started
            self._check_deadline(command, deadline)
            time.sleep(POLL_SECONDS)

    async def _async(self, name: str, kwargs: Dict[str, Any]) -> Any:
        command, attributes = self._start(name, kwargs, False)
        deadline = time.monotonic() + self.file_read_timeout
        while True:
            started = self._started(command, attributes)
            if started is not None:
                return started
            self._check_deadline(command, deadline)
            await asyncio.sleep(POLL_SECONDS)

    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow and wait for the end. Keywords: ``run``'s options (``max_workers``, ``tags``,
        ``run_id_file``...) and the flow's parameters."""
        return self._blocking("run", kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        """Resume a run (``origin_run_id``, ``step_to_rerun``...) and wait for the end."""
        return self._blocking("resume", kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start the run and return once it has started."""
        return await self._async("run", kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self._async("resume", kwargs)

    def spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        """Spin one task of a past run (``RUN/STEP/TASK``, see ``orch spin``) and wait for it:
        keywords ``persist``, ``skip_decorators``, ``artifacts_module``, ``executor``..."""
        return self._blocking("spin", dict(kwargs, pathspec=pathspec))

    async def async_spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        return await self._async("spin", dict(kwargs, pathspec=pathspec))

    def cleanup(self) -> None:
        """Stop what still runs and remove the log files."""
        for command in self._commands:
            command.cleanup()
        self._commands.clear()


def failure_message(command: CommandManager) -> str:
    """What the command printed, for an error: as Metaflow's Runner reports a command that failed."""
    parts = ["Error executing: '%s':" % " ".join(command.command)]
    for stream in ("stdout", "stderr"):
        with open(command.log_files[stream], encoding="utf-8", errors="replace") as handle:
            text = handle.read().strip()
        if text:
            parts.append("%s:\n%s" % (stream.capitalize(), text))
    return "\n".join(parts)
