"""Hybrid runs: each step's attempts go to the executor placed for it, e.g. ``@batch`` steps to AWS Batch
and the rest to local processes. Handles are prefixed with the executor's position so they never clash."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Dict, List, Mapping

from ..task.spec import TaskSpec
from .base import Executor, TaskResult, TaskState

SLICE_SECONDS = 0.05  # how long one executor's poll may block while others wait their turn


class RoutingExecutor(Executor):
    name = "hybrid"

    def __init__(self, routes: Mapping[str, Executor], default: Executor) -> None:
        self.routes = dict(routes)
        self.default = default
        self.executors: List[Executor] = [default] + [
            e for e in dict.fromkeys(self.routes.values()) if e is not default
        ]

    def _for(self, step: str) -> Executor:
        return self.routes.get(step, self.default)

    def submit(self, spec: TaskSpec) -> str:
        executor = self._for(spec.step)
        return "%d:%s" % (self.executors.index(executor), executor.submit(spec))

    def _split(self, handle: str) -> tuple:
        index, _, inner = handle.partition(":")
        return self.executors[int(index)], inner

    def poll(self, timeout: float) -> List[TaskResult]:
        deadline = time.monotonic() + timeout
        while True:
            out = []
            for index, executor in enumerate(self.executors):
                wait = min(SLICE_SECONDS, max(0.0, deadline - time.monotonic())) if index == 0 else 0.0
                out += [replace(r, handle="%d:%s" % (index, r.handle)) for r in executor.poll(wait)]
            if out or time.monotonic() >= deadline:
                return out

    def cancel(self, handle: str, state: TaskState = TaskState.KILLED, message: str = "") -> None:
        executor, inner = self._split(handle)
        executor.cancel(inner, state, message)

    def flush(self) -> None:
        for executor in self.executors:
            executor.flush()

    def stats(self) -> Dict[str, Any]:
        merged: Dict[str, Any] = {}
        for executor in self.executors:
            merged.update(executor.stats())
        return merged

    def prepare(self, steps: List[str], flow: str) -> None:
        for executor in self.executors:
            mine = [s for s in steps if self._for(s) is executor]
            if mine:
                executor.prepare(mine, flow)

    def close(self) -> None:
        for executor in self.executors:
            executor.close()
