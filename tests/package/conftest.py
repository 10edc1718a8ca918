"""The release ``make dist`` built: its sdist, its wheel and the fresh venv the wheel is installed in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT


@dataclass(frozen=True)
class Release:
    wheel: Path
    sdist: Path
    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


@pytest.fixture(scope="session")
def release() -> Release:
    """What ``scripts/release.py`` left in ``ORCH_RELEASE_DIR`` (default ``.release``); missing is a failure."""
    out = Path(os.environ.get("ORCH_RELEASE_DIR") or ROOT / ".release")
    wheels, sdists = sorted(out.glob("dist/*.whl")), sorted(out.glob("dist/*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1 or not (out / "venv" / "bin" / "orch").exists():
        pytest.fail("No built release in %s: run 'make dist' (make test does)." % out)
    return Release(wheels[0], sdists[0], out / "venv")
