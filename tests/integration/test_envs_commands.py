"""orch build-envs, envs list, envs prune against a real engine."""

from __future__ import annotations

import re
import shutil

from click.testing import CliRunner

from orchestrator.cli.main import cli
from tests.conftest import EXAMPLES


def test_build_list_and_prune(engine, offline_pypi, tmp_path, monkeypatch):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    monkeypatch.chdir(demo)
    runner = CliRunner()
    first = runner.invoke(cli, ["build-envs", "pypi_flow.py"])
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if line.startswith(("start ", "upgrade ", "end "))]
    assert len(lines) == 3 and all("orch-env:" in line for line in lines)
    again = runner.invoke(cli, ["build-envs", "pypi_flow.py"])
    assert again.exit_code == 0 and again.output.count("cached") == 3  # warm: nothing built
    assert "3 steps, 3 environments" in again.output
    tags = [re.search(r"orch-env:\w+", line).group(0) for line in lines]

    listing = runner.invoke(cli, ["envs", "list"])
    assert listing.exit_code == 0 and all(tag in listing.output for tag in tags)

    dry = runner.invoke(cli, ["envs", "prune", "pypi_flow.py", "--dry-run"])
    assert dry.exit_code == 0 and not any(tag in dry.output for tag in tags)  # needed by the flow: kept
    everything = runner.invoke(cli, ["envs", "prune", "--dry-run"])
    assert all(tag in everything.output for tag in tags)
