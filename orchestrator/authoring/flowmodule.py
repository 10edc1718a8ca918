"""How a flow file becomes a module, the same way on the host and in every task.

Standard library only: the loader (``orch check``) and the task runtime both use it, and neither
should pull in the other.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from .flowspec import cli_dispatch_blocked


def module_name_for(path: str) -> str:
    """The module name a flow file is imported under, on the host and in tasks: its stem, when that is
    an identifier. Classes defined in the flow file then pickle as ``stem.Class``, which a notebook
    next to the flow can unpickle."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if stem.isidentifier() else "orch_flow_" + "".join(c if c.isalnum() else "_" for c in stem)


def import_flow_class(code_dir: str, flow_file: str, flow_name: str) -> type:
    """Import the flow module from the run's code snapshot under its stem name."""
    path = os.path.join(code_dir, flow_file)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = module_name_for(path)
    module = sys.modules.get(module_name)
    if module is None or os.path.abspath(getattr(module, "__file__", "")) != os.path.abspath(path):
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        with cli_dispatch_blocked():
            spec.loader.exec_module(module)
    return getattr(module, flow_name)
