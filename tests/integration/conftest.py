"""Helpers to run flows through the real CLI into a fresh store, and read them back with the client."""

from __future__ import annotations

import os

import pytest

from orchestrator import client
from orchestrator.cli.main import main
from tests.conftest import FLOWS


class Runner:
    def __init__(self, store: str, capsys) -> None:
        self.store = store
        self.capsys = capsys

    def __call__(self, command: str, flow: str, *args: str) -> tuple:
        """(exit code, stdout, stderr) of `orch COMMAND FLOW --store STORE ARGS` (ORCH_EXECUTOR=local by default)."""
        path = flow if os.path.isabs(flow) else str(FLOWS / "run" / flow)
        self.capsys.readouterr()
        code = main([command, path, "--store", self.store, *args])
        out = self.capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def orch(tmp_path, capsys):
    store = str(tmp_path / "store")
    client.metadata(store)
    client.namespace(None)
    yield Runner(store, capsys)
    client.reset()
