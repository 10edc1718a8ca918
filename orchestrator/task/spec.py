"""``TaskSpec``: everything one task attempt needs, frozen and JSON-serialisable.

The planner builds it on the host; the task runtime reads it in a process,
a container or a Batch job. It carries identity, inputs, the foreach stack
and what the static graph expects of the step, never live objects.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, Optional, Tuple

from ..ids import AttemptRef, Frame, Pathspec, foreach_key, task_path
from ..store.backend import Backend
from ..store.metadata import log_files


@dataclass(frozen=True)
class TaskSpec:
    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    store_url: str
    code_dir: str  # folder holding the run's code snapshot
    flow_file: str  # path of the flow file inside code_dir
    inputs: Tuple[AttemptRef, ...] = ()  # the parent tasks' committed attempts
    foreach_stack: Tuple[Frame, ...] = ()
    is_join: bool = False
    next_steps: Tuple[str, ...] = ()  # what self.next must name, from the static graph
    foreach_var: Optional[str] = None
    join_order: Tuple[str, ...] = ()  # for static joins: the branch steps in split order
    catch_var: Optional[str] = None
    catch_print: bool = True
    last_attempt: bool = True  # @catch applies only once retries are used up
    fallback_reason: Optional[str] = None  # set: the step is not run; @catch records this failure
    origin_run_id: Optional[str] = None
    username: str = ""
    tags: Tuple[str, ...] = ()
    log_dir: Optional[str] = None  # local folder for stdout/stderr when the store is not local
    # from @environment and @secrets: sent with the task on stdin, never stored (repr hides them too)
    env: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    code_key: Optional[str] = None  # the code package's blob, for tasks that fetch it (Batch)
    timeout: Optional[Tuple[int, int, int]] = None  # @timeout: (hours, minutes, seconds), raised in the step
    code_env: bool = False  # a stored spec (Batch): env is empty, take @environment and inline @secrets from the code
    secret_sources: Tuple[Dict[str, Any], ...] = ()  # @secrets fetched where the task runs (Batch): ids, no values
    loops: Tuple[int, ...] = ()  # recursion iterations (see plan); () when nothing looped
    switch: bool = False  # the step is a switch: self.next picks one of next_steps
    parallel_split: bool = False  # self.next(..., num_parallel=N): N gang tasks follow
    parallel_control: Optional[str] = None  # a @parallel task: the task id of node 0, the control task
    cache: Optional[Dict[str, Any]] = None  # a cached step: its static key (memo.key.StaticKey.to_json())
    cards: Tuple[Dict[str, Any], ...] = ()  # @card: each card's arguments (decorator_specs.Card.to_task())
    # Where it runs, as its backend says to record it: (metadata key, environment variable) pairs
    placement: Tuple[Tuple[str, str], ...] = ()

    @property
    def path(self) -> Pathspec:
        return task_path(self.flow, self.run_id, self.step, self.task_id)

    @property
    def pathspec(self) -> str:
        return str(self.path)

    @property
    def foreach_key(self) -> Tuple[int, ...]:
        return foreach_key(self.foreach_stack)

    def with_attempt(self, attempt: int, last_attempt: bool) -> TaskSpec:
        return replace(self, attempt=attempt, last_attempt=last_attempt)

    @property
    def ref(self) -> AttemptRef:
        return AttemptRef(self.step, self.task_id, self.attempt)

    def log_files(self, backend: Backend) -> Tuple[str, str]:
        """Where this attempt's stdout and stderr go (see ``store.metadata.log_files``)."""
        return log_files(backend, self.flow, self.run_id, self.step, self.task_id, self.attempt, self.log_dir)

    def to_json(self) -> str:
        data = asdict(self)
        data["inputs"] = [str(ref) for ref in self.inputs]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TaskSpec:
        data: Dict[str, Any] = json.loads(text)
        for name in ("next_steps", "join_order", "tags", "loops", "secret_sources", "cards"):
            data[name] = tuple(data.get(name) or ())
        data["inputs"] = tuple(AttemptRef.parse(ref) for ref in data.get("inputs") or ())
        data["foreach_stack"] = tuple(Frame.from_json(f) for f in data.get("foreach_stack") or ())
        data["env"] = tuple(tuple(p) for p in data.get("env") or ())
        data["placement"] = tuple(tuple(p) for p in data.get("placement") or ())
        data["timeout"] = tuple(data["timeout"]) if data.get("timeout") else None
        return cls(**data)
