"""Shared fixtures: paths to the flow corpora and the examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "tests" / "data" / "flows"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def in_root(monkeypatch):
    """Run with the repository as the working directory, so paths print as in the corpus."""
    monkeypatch.chdir(ROOT)
    return ROOT


def rel(path: Path) -> str:
    return os.path.relpath(path, ROOT)
