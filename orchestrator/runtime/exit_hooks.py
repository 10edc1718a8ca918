"""``@exit_hook``: call the flow's hook functions once its run has ended.

Each hook runs in a process of its own (``python -m orchestrator.runtime.exit_hooks``), on this
machine, after the run's final record is written, so it reads the run as it ended and cannot bring
the orchestrator down. The ``on_success`` hooks run when the run succeeded, the ``on_error`` ones
when it failed. A hook is a function of the flow's module (by name) or a dotted import path; one
that takes ``run`` (or ``**kwargs``) is given the client's ``Run``. What a hook prints is shown;
a hook that fails is reported in one line and changes nothing about the run, as in Metaflow.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
from typing import Any, Callable, Sequence

from ..authoring.decorators import flow_decorators


def hooks_of(flow_class: type, succeeded: bool) -> Sequence[str]:
    spec = flow_decorators(flow_class).get("exit_hook")
    if spec is None:
        return ()
    return spec.on_success if succeeded else spec.on_error


def run_exit_hooks(
    flow_class: type, flow_file: str, pathspec: str, store_url: str, succeeded: bool, say: Callable[[str], None]
) -> None:
    """Call the run's hooks one after the other; every one runs, whatever the others did."""
    env = dict(os.environ, ORCH_STORE=store_url)
    for name in hooks_of(flow_class, succeeded):
        argv = [sys.executable, "-m", "orchestrator.runtime.exit_hooks", flow_file, name, pathspec]
        try:
            done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, text=True)
        except OSError as err:
            say("[exit_hook] Hook '%s' could not start: %s" % (name, err))
            continue
        if done.stdout.strip():
            say(done.stdout.strip())
        if done.returncode:
            say("[exit_hook] Hook '%s' failed with exit code %d." % (name, done.returncode))


def _load(flow_file: str, name: str) -> Callable[..., Any]:
    """The hook: an import path (``pkg.module.function``), else a function of the flow's module."""
    if "." in name:
        module_name, _, function = name.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError):
            pass
    sys.path.insert(0, os.path.dirname(os.path.abspath(flow_file)))
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(flow_file))[0], flow_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return getattr(module, name)


def main(argv: Sequence[str]) -> int:
    flow_file, name, pathspec = argv
    try:
        hook = _load(flow_file, name)
    except Exception as err:
        print("[exit_hook] Could not load function '%s' as an import path or from '%s': %s" % (name, flow_file, err))
        return 1
    wanted = inspect.signature(hook).parameters
    if "run" in wanted or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in wanted.values()):
        from ..client import Run, namespace

        namespace(None)
        hook(run=Run(pathspec, _check_namespace=False))
    else:
        hook()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
