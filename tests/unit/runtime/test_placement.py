"""Choosing the executor: auto falls back to local with a one-line notice; unknown names are refused."""

from __future__ import annotations

import pytest

from orchestrator.errors import UsageError
from orchestrator.images import engine
from orchestrator.loader import load_flow
from orchestrator.runtime.placement import _limits, resolve_executor_name
from tests.conftest import FLOWS


def test_auto_uses_docker_when_an_engine_answers(monkeypatch):
    monkeypatch.setattr(engine, "available", lambda: True)
    notices = []
    assert resolve_executor_name("auto", notices.append) == "docker" and notices == []


def test_auto_falls_back_to_local_with_a_notice(monkeypatch):
    monkeypatch.setattr(engine, "available", lambda: False)
    notices = []
    assert resolve_executor_name("auto", notices.append) == "local"
    assert notices == [
        "No Docker engine is reachable: running each task as a local process instead (--executor local)."
    ]


def test_explicit_and_unknown_executors():
    assert resolve_executor_name("local", print) == "local"
    with pytest.raises(UsageError, match="Unknown executor 'k8s'"):
        resolve_executor_name("k8s", print)


def test_resources_and_batch_become_container_limits():
    graph = load_flow(str(FLOWS / "good" / "metaflow_port.py")).graph
    assert _limits(graph["start"]) == {"nano_cpus": 2_000_000_000, "mem_limit": "8192m", "memswap_limit": "8192m"}
    assert _limits(graph["evaluate"]) == {"nano_cpus": 4_000_000_000, "mem_limit": "16000m", "memswap_limit": "16000m"}
    assert _limits(graph["join"]) == {}
