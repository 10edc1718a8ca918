"""``NBRunner``: run a flow defined in a notebook cell, as Metaflow's NBRunner does.

The cell's source (IPython's last input) up to the end of the flow class is
written to a file beside the notebook, and a ``Runner`` runs that file in a
subprocess: the notebook's own interpreter never runs step code. Outside
IPython the flow's module file stands in for the cell, so a script can use
NBRunner too.
"""

from __future__ import annotations

import ast
import os
import sys
import tempfile
from typing import Any, Dict, Optional

from .api import ExecutingRun, Runner


class NBRunnerInitializationError(Exception):
    """NBRunner could not find the source of the flow it was given."""


def _cell_source(flow: type) -> str:
    try:
        from IPython import get_ipython  # only in a notebook; not a dependency of orch
    except ImportError:
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        return shell.history_manager.input_hist_raw[-1]
    path = getattr(sys.modules.get(flow.__module__), "__file__", None)
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    raise NBRunnerInitializationError(
        "NBRunner found no source for %s: run it in the Jupyter or IPython cell that defines the flow." % flow.__name__
    )


def flow_file_text(cell: str, flow_name: str) -> str:
    """The cell up to the end of class ``flow_name``, plus the ``__main__`` guard that runs it."""
    try:
        tree = ast.parse(cell)
    except SyntaxError as err:
        raise NBRunnerInitializationError("The cell does not parse: %s (line %s)." % (err.msg, err.lineno)) from None
    found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == flow_name]
    if not found:
        raise NBRunnerInitializationError(
            "The cell does not define class %s: put NBRunner(%s) in the cell that defines the flow."
            % (flow_name, flow_name)
        )
    lines = cell.splitlines()[: found[-1].end_lineno]
    return "\n".join(lines + ["", "", "if __name__ == '__main__':", "    %s()" % flow_name, ""])


class NBRunner:
    """``NBRunner(MyFlow).nbrun(alpha=1)`` runs the flow of this cell and returns its client Run."""

    def __init__(
        self,
        flow: type,
        show_output: bool = True,
        profile: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        base_dir: Optional[str] = None,
        file_read_timeout: int = 3600,
        **kwargs: Any,
    ) -> None:
        self.flow = flow
        self.base_dir = base_dir if base_dir is not None else os.getcwd()
        text = flow_file_text(_cell_source(flow), flow.__name__)
        env_vars = dict(env or {})
        env_vars["JPY_PARENT_PID"] = ""  # the run is not a kernel's child for Jupyter's purposes
        handle = tempfile.NamedTemporaryFile(
            "w", prefix=flow.__name__, suffix=".py", dir=self.base_dir, delete=False, encoding="utf-8"
        )
        with handle:
            handle.write(text)
        self.flow_file = handle.name
        self.runner = Runner(
            self.flow_file,
            show_output=show_output,
            profile=profile,
            env=env_vars,
            cwd=self.base_dir,
            file_read_timeout=file_read_timeout,
            **kwargs,
        )

    def nbrun(self, **kwargs: Any) -> Any:
        """Run, wait, clean up, and return the client Run."""
        result = self.runner.run(**kwargs)
        self.cleanup()
        return result.run

    def nbresume(self, **kwargs: Any) -> Any:
        result = self.runner.resume(**kwargs)
        self.cleanup()
        return result.run

    def run(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.run(**kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.resume(**kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_run(**kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_resume(**kwargs)

    def cleanup(self) -> None:
        """Remove the flow file and the logs (after nbrun/nbresume this has been done)."""
        if os.path.exists(self.flow_file):
            os.remove(self.flow_file)
        self.runner.cleanup()
