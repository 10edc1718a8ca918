"""Choosing the executor: auto falls back to local with a one-line notice; unknown names are refused;
planning places @batch steps on Batch and the rest here, and names the run's executor."""

from __future__ import annotations

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.backends.registry import BATCH, DOCKER, LOCAL, run_label, step_targets
from orchestrator.errors import UsageError
from orchestrator.executors.docker import container_limits as _limits
from orchestrator.executors.factory import resolve_here
from orchestrator.images import engine
from orchestrator.store.location import StoreLocation
from tests.conftest import FLOWS

LOCAL_STORE = StoreLocation.parse(".orch")


def resolve_executor_name(choice, notice, store=LOCAL_STORE):
    return resolve_here(choice, store, notice).name


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


def test_auto_with_an_s3_store_runs_here_as_local_processes(monkeypatch):
    monkeypatch.setattr(engine, "available", lambda: True)
    assert resolve_executor_name("auto", print, StoreLocation.parse("s3://bucket/prefix")) == "local"


def test_batch_steps_are_placed_on_batch_and_the_run_is_labelled_by_its_targets():
    graph = load_flow(str(FLOWS / "good" / "metaflow_port.py")).graph
    targets = step_targets(graph, DOCKER)
    on_batch = {step for step, target in targets.items() if target is BATCH}
    assert on_batch == {n.name for n in graph if n.decorator("batch") is not None} and on_batch
    assert set(targets.values()) == {DOCKER, BATCH}
    assert run_label(targets) == "docker+batch"
    assert run_label({"a": LOCAL}) == "local" and run_label({"a": BATCH}) == "batch"


def test_store_locations_are_parsed_once():
    assert StoreLocation.parse("s3://b/p/").url == "s3://b/p" and StoreLocation.parse("s3://b").is_s3
    local = StoreLocation.parse("file:///tmp/x")
    assert local.is_local and local.url == "/tmp/x"
    with pytest.raises(UsageError, match="Unsupported store URL 'gs://b'"):
        StoreLocation.parse("gs://b")


def test_a_backend_decorator_counts_with_resources_only_when_it_says_so():
    from dataclasses import dataclass, replace
    from typing import ClassVar, Optional

    from orchestrator.authoring.decorator_specs import Decorator
    from orchestrator.executors.base import resources_of

    @dataclass(frozen=True)
    class Big(Decorator):
        NAME: ClassVar[str] = "big"
        RESOURCES: ClassVar[bool] = True
        cpu: Optional[float] = 8

    @dataclass(frozen=True)
    class Note(Big):
        NAME: ClassVar[str] = "note"
        RESOURCES: ClassVar[bool] = False

    start = load_flow(str(FLOWS / "good" / "metaflow_port.py")).graph["start"]  # @resources(cpu=2)
    assert resources_of(start).cpu == 2
    assert resources_of(replace(start, decorators=start.decorators + (Big(),))).cpu == 8
    assert resources_of(replace(start, decorators=start.decorators + (Note(),))).cpu == 2
