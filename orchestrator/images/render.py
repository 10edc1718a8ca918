"""Render a build folder for an ``ImageSpec``: the Dockerfile and everything it copies. No Docker here.

Kept pure of the engine so it is unit-tested directly: given the spec and
the prepared inputs (lock, verified wheelhouse or staged conda env, runtime
copy), the folder it writes is the whole build context.
"""

from __future__ import annotations

import os
import shutil
import string
from typing import Optional

from .spec import ImageSpec, template_text


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _copy_tree(source: str, target: str) -> None:
    shutil.copytree(source, target, symlinks=True, copy_function=lambda s, d: _link_or_copy(s, d))


def render_context(
    spec: ImageSpec,
    folder: str,
    runtime: str,
    lock_path: Optional[str] = None,
    wheelhouse: Optional[str] = None,
    uv_binary: Optional[str] = None,
    conda_env: Optional[str] = None,
) -> str:
    """Write ``folder``/Dockerfile and its inputs; returns the Dockerfile text."""
    os.makedirs(folder, exist_ok=True)
    dockerfile = string.Template(template_text(spec.kind)).substitute(base=spec.base_image)
    with open(os.path.join(folder, "Dockerfile"), "w", encoding="utf-8") as handle:
        handle.write(dockerfile)
    _copy_tree(os.path.join(runtime), os.path.join(folder, "runtime"))
    if spec.kind == "pypi":
        assert lock_path and wheelhouse and uv_binary, "a PyPI image needs its lock, wheelhouse and uv"
        shutil.copyfile(lock_path, os.path.join(folder, "lock.txt"))
        os.makedirs(os.path.join(folder, "wheels"))
        for name in sorted(os.listdir(wheelhouse)):
            if name.endswith(".whl"):
                _link_or_copy(os.path.join(wheelhouse, name), os.path.join(folder, "wheels", name))
        shutil.copy2(uv_binary, os.path.join(folder, "uv"))
    elif spec.kind == "conda":
        assert conda_env, "a conda image needs its staged env"
        _copy_tree(conda_env, os.path.join(folder, "env"))
    return dockerfile
