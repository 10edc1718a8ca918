"""``current``: what the running task knows about itself.

Inside a task, ``current.flow_name``, ``current.run_id``, ``current.step_name``,
``current.task_id``, ``current.retry_count`` and ``current.origin_run_id`` are
set by the task runtime before the step runs. Outside a task every field is
``None`` and ``current.is_running_flow`` is False, as in Metaflow.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, NamedTuple, Optional, Set


class Parallel(NamedTuple):
    """``current.parallel`` in a ``@parallel`` task, as Metaflow's (field order included)."""

    main_ip: str
    num_nodes: int
    node_index: int
    control_task_id: Optional[str]


_FIELDS = (
    "flow_name",
    "run_id",
    "step_name",
    "task_id",
    "retry_count",
    "origin_run_id",
    "namespace",
    "username",
    "tags",
    "parameter_names",
    "project_name",
    "branch_name",
    "project_flow_name",
    "is_production",
    "is_user_branch",
    "store_url",  # where the task's run lives, for current.task and current.run
    "is_parallel",
    "card",  # @card: the step's CardCollector
    "trigger_record",  # what started a deployed run (@trigger, @trigger_on_finish), as its run record says
)


class Current:
    """A read-only view of the running task's identity."""

    def __init__(self) -> None:
        self._values: Dict[str, Any] = {}

    def _set(self, **values: Any) -> None:
        """Called by the task runtime only."""
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise AttributeError("current has no field(s) %s" % ", ".join(sorted(unknown)))
        self._values = dict(values)

    def _update(self, **values: Any) -> None:
        """Add fields once they are known (the parameter names, after the flow is imported)."""
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise AttributeError("current has no field(s) %s" % ", ".join(sorted(unknown)))
        self._values.update(values)

    def _clear(self) -> None:
        self._values = {}

    @property
    def is_running_flow(self) -> bool:
        return bool(self._values)

    @property
    def flow_name(self) -> Optional[str]:
        return self._values.get("flow_name")

    @property
    def run_id(self) -> Optional[str]:
        return self._values.get("run_id")

    @property
    def step_name(self) -> Optional[str]:
        return self._values.get("step_name")

    @property
    def task_id(self) -> Optional[str]:
        return self._values.get("task_id")

    @property
    def retry_count(self) -> Optional[int]:
        return self._values.get("retry_count")

    @property
    def origin_run_id(self) -> Optional[str]:
        return self._values.get("origin_run_id")

    @property
    def namespace(self) -> Optional[str]:
        return self._values.get("namespace")

    @property
    def username(self) -> Optional[str]:
        return self._values.get("username")

    @property
    def tags(self) -> Set[str]:
        """The run's user tags, as a set (Metaflow's type: flows call ``.update`` on it)."""
        return set(self._values.get("tags") or ())

    @property
    def parameter_names(self) -> List[str]:
        return list(self._values.get("parameter_names") or ())

    # @project: None when the flow has no @project
    @property
    def project_name(self) -> Optional[str]:
        return self._values.get("project_name")

    @property
    def branch_name(self) -> Optional[str]:
        return self._values.get("branch_name")

    @property
    def project_flow_name(self) -> Optional[str]:
        return self._values.get("project_flow_name")

    @property
    def is_production(self) -> Optional[bool]:
        return self._values.get("is_production")

    @property
    def is_user_branch(self) -> Optional[bool]:
        return self._values.get("is_user_branch")

    @property
    def parallel(self) -> Parallel:
        """In a ``@parallel`` task: the gang's size, this task's index, the control task and the
        address workers reach it at. Read from ``MF_PARALLEL_*``, as Metaflow does, so frameworks
        that read those variables see the same values."""
        return Parallel(
            main_ip=os.environ.get("MF_PARALLEL_MAIN_IP", "127.0.0.1"),
            num_nodes=int(os.environ.get("MF_PARALLEL_NUM_NODES", "1")),
            node_index=int(os.environ.get("MF_PARALLEL_NODE_INDEX", "0")),
            control_task_id=os.environ.get("MF_PARALLEL_CONTROL_TASK_ID"),
        )

    @property
    def trigger(self) -> Any:
        """The event or finished run that started this run, when a deployment's rule did; else None,
        as in Metaflow for a run started by hand."""
        record = self._values.get("trigger_record")
        if not record:
            return None
        from ..client import Run
        from ..client.triggered import Trigger

        return Trigger(record, Run, self._values.get("store_url"))

    @property
    def is_parallel(self) -> bool:
        return bool(self._values.get("is_parallel"))

    @property
    def pathspec(self) -> Optional[str]:
        if not self._values:
            return None
        return "/".join(str(self._values.get(k)) for k in ("flow_name", "run_id", "step_name", "task_id"))

    @property
    def task(self) -> Any:
        """The running task as a client ``Task`` (None outside a task), as Metaflow's ``current.task``."""
        if not self._values:
            return None
        from ..client import Task, use_store

        use_store(self._values.get("store_url"))
        return Task(self.pathspec)

    @property
    def run(self) -> Any:
        """The running task's run as a client ``Run`` (None outside a task); not held to the namespace."""
        if not self._values:
            return None
        from ..client import Run, use_store
        from ..ids import run_path

        use_store(self._values.get("store_url"))
        return Run(str(run_path(self.flow_name, self.run_id)), _check_namespace=False)

    @property
    def card(self) -> Any:
        """``current.card``: add components to the step's cards (``append``, ``["id"]``, ``refresh()``).
        Without @card on the step it accepts the calls, does nothing, and says so once on stderr."""
        found = self._values.get("card")
        if found is None:
            from ..cards.collector import CardCollector

            found = self.__dict__.get("_idle_card")
            if found is None:
                found = self.__dict__["_idle_card"] = CardCollector(None, [])
        return found

    @property
    def tempdir(self) -> str:
        """A directory for temporary files: ORCH_TEMPDIR or METAFLOW_TEMPDIR, else the working
        directory, as in Metaflow (its TEMPDIR defaults to ".")."""
        return os.environ.get("ORCH_TEMPDIR") or os.environ.get("METAFLOW_TEMPDIR") or "."

    def get(self, key: str, default: Any = None) -> Any:
        """``current.get("project_name")``: the attribute, or ``default`` when it is missing or None."""
        value = getattr(self, key, None)
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None

    def __repr__(self) -> str:
        return "current(%s)" % (self.pathspec or "not in a running task")


current = Current()
