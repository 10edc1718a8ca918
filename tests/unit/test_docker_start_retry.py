"""A container start that failed on the client side is tried again; a stopped engine or an ending
run is not (the Docker executor against a fake starter, no engine needed)."""

from __future__ import annotations

from orchestrator.executors.docker import ENGINE_DOWN, DockerExecutor
from orchestrator.executors.docker_pool import ENDING, Started
from orchestrator.task.spec import TaskSpec


class FakeContainers:
    engine = None
    options: dict = {}

    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def start(self, step, flow, run_id):
        self.calls += 1
        return self.outcomes.pop(0)


def _executor(outcomes):
    containers = FakeContainers(outcomes)
    return DockerExecutor(containers, lambda spec: ("/dev/null", "/dev/null")), containers


SPEC = TaskSpec("F", "1", "work", "7", 0, "/s", "/c", "f.py")


def test_a_client_side_failure_is_tried_again():
    box = object()
    executor, containers = _executor(
        [Started(None, "AttributeError: 'NoneType' object has no attribute 'raw'"), Started(box)]
    )
    assert executor._container_for(SPEC) == (box, "") and containers.calls == 2


def test_retries_give_up_with_the_last_reason():
    executor, containers = _executor([Started(None, "APIError: %d" % i) for i in range(3)])
    assert executor._container_for(SPEC) == (None, "APIError: 2") and containers.calls == 3


def test_a_stopped_engine_or_an_ending_run_is_not_retried():
    for reason in (ENGINE_DOWN, ENDING):
        executor, containers = _executor([Started(None, reason)])
        assert executor._container_for(SPEC) == (None, reason) and containers.calls == 1
