"""The authoring layer runs inside task containers: standard library only, Python >= 3.8."""

from __future__ import annotations

import ast
import glob
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# What a container imports: the package root and what `from orchestrator import ...` pulls in.
TASK_SIDE = [
    "__init__",
    "authoring/__init__",
    "authoring/argcheck",
    "authoring/current",
    "authoring/decorators",
    "errors",
    "authoring/flowspec",
    "authoring/parameters",
    "authoring/decorator_base",
    "authoring/event_specs",
    "task/codepkg",
    "task/__init__",
    "task/__main__",
    "task/spec",
    "task/runner",
    "task/inputs",
    "task/capture",
    "task/supervise",
    "backends/__init__",
    "backends/spec",
    "backends/registry",
    "backends/batch/__init__",
    "backends/batch/descriptor",
    "backends/batch/decorator",
    "backends/batch/entry",
    "backends/slurm/__init__",
    "backends/slurm/descriptor",
    "backends/slurm/decorator",
    "backends/slurm/entry",
    "task/job",
    "store/__init__",
    "store/backend",
    "store/local",
    "store/s3",
    "store/cas",
    "store/artifacts",
    "store/metadata",
    "store/names",
    "store/records",
    "cards/__init__",
    "cards/base",
    "cards/builtin",
    "cards/collector",
    "cards/components",
    "cards/live",
    "cards/markdown",
    "cards/page",
    "cards/registry",
    "cards/session",
    "cards/task_view",
    "plugins/__init__",
    "plugins/cards/__init__",
    "plugins/cards/card_modules/__init__",
    "plugins/cards/card_modules/test_cards",
]


@pytest.mark.parametrize("module", TASK_SIDE)
def test_parses_as_python_38(module):
    source = (ROOT / "orchestrator" / (module + ".py")).read_text()
    ast.parse(source, feature_version=(3, 8))


def _stdlib_only_import(python: str) -> subprocess.CompletedProcess:
    # -S: no site-packages, so any third-party import fails; -E: ignore PYTHON* variables.
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import orchestrator\n"
        "from orchestrator import FlowSpec, step, retry, conda, Parameter, IncludeFile, current\n"
        "import orchestrator.task.runner, orchestrator.store.s3, orchestrator.task.codepkg\n"
        "import orchestrator.cards, orchestrator.cards.session, orchestrator.plugins.cards.card_modules.test_cards\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names"
        " and m.split('.')[0] not in ('orchestrator', '__main__')) if hasattr(sys, 'stdlib_module_names') else []\n"
        "assert not bad, bad\n"
        "assert 'click' not in sys.modules\n"
        "print('ok', sys.version_info[:2])\n" % str(ROOT)
    )
    return subprocess.run([python, "-S", "-E", "-c", code], capture_output=True, text=True, timeout=60)


def test_imports_with_standard_library_only():
    result = _stdlib_only_import(sys.executable)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def _oldest_python() -> str | None:
    """python3.8 (or 3.9) from PATH or a pyenv install, if this machine has one."""
    for version in ("3.8", "3.9"):
        candidates = [shutil.which("python" + version)]
        candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s*/bin/python%s" % (version, version))))
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
                return found
    return None


def test_imports_on_the_oldest_available_python():
    python = _oldest_python()
    if python is None:
        pytest.skip("no python3.8/3.9 interpreter on this machine; syntax is still checked by test_parses_as_python_38")
    result = _stdlib_only_import(python)
    assert result.returncode == 0, result.stderr
    assert "ok (3, %s)" % python.rsplit("python3.", 1)[1] in result.stdout
