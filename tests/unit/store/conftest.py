"""Stores written by earlier releases (``tests/data/stores/vN``), copied so a test may change them."""

from __future__ import annotations

import shutil

import pytest

from orchestrator import client


@pytest.fixture
def store(tmp_path, request):
    """A copy of the module's ``FIXTURE`` store, which the client reads, in every namespace."""
    copy = tmp_path / "store"
    shutil.copytree(request.module.FIXTURE, copy)
    client.metadata(str(copy))
    client.namespace(None)
    yield copy
    client.reset()
