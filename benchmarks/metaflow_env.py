"""Metaflow, installed from PyPI into its own venv, to measure orch against side by side."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

METAFLOW_VERSION = "2.19.39"
# What flows of the benchmarks and the differential corpus import besides Metaflow (the corpus's
# notebooks plot with matplotlib); bump EXTRAS_VERSION when the list changes, so venvs catch up.
EXTRAS = ("numpy", "matplotlib")
EXTRAS_VERSION = 2
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / "metaflow-venv"


def metaflow_python(install: bool = True) -> str:
    """The venv's python, creating the venv and installing Metaflow on first use (unless ``install`` is off)."""
    python = VENV / "bin" / "python"
    marker = VENV / (".installed-%s-%s" % (METAFLOW_VERSION, EXTRAS_VERSION))
    if not marker.exists() and not install:
        raise FileNotFoundError("Metaflow %s is not installed in %s" % (METAFLOW_VERSION, VENV))
    if not marker.exists():
        print("installing metaflow==%s into %s ..." % (METAFLOW_VERSION, VENV), file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "metaflow==" + METAFLOW_VERSION, *EXTRAS], check=True
        )
        marker.touch()
    return str(python)


def to_metaflow(source: str) -> str:
    """Port an orch flow back to Metaflow: the import line is the only difference."""
    return re.sub(r"^from orchestrator import", "from metaflow import", source, flags=re.M)


def metaflow_env() -> dict:
    """Metaflow refuses to run without a user name; keep its config out of the home folder."""
    env = dict(os.environ, USERNAME="bench", USER="bench")
    env.pop("METAFLOW_PROFILE", None)
    # Metaflow's local @parallel starts its workers with the `python` on PATH: make that its venv's.
    try:
        env["PATH"] = os.pathsep.join([str(Path(metaflow_python(install=False)).parent), env.get("PATH", "")])
    except FileNotFoundError:
        pass  # not installed yet: the caller installs it before running Metaflow
    return env
