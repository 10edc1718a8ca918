"""@parallel gangs as one unit of retry and @catch, as Metaflow runs them.

In Metaflow a gang is its control task (node 0): it starts the workers, waits
for them, and fails if any of them failed. So the runtime retries the *gang*:
every member runs again at the next attempt, even one that succeeded. Once
retries are used up, a ``@catch`` fallback runs on the control task alone,
and the join after the gang receives the control task only (Metaflow's
``_control_mapper_tasks`` becomes the control task itself). Workers keep
their failed last attempt and get no fallback.

orch starts the members as separate tasks, so the scheduler gathers their
outcomes here and decides only once every member of the attempt has ended.
This module is pure bookkeeping: it never talks to an executor or a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from ..executors.base import TaskState
from ..plan import Finished, PlannedTask
from ..store.records import ExceptionInfo
from ..task.spec import TaskSpec

GangKey = Tuple[str, tuple, tuple, tuple]


def gang_key(planned: PlannedTask) -> GangKey:
    """The gang a @parallel task belongs to: its step, its parents and where it sits around the gang's frame."""
    return planned.step, planned.inputs, planned.foreach_stack[:-1], planned.loops[:-1]


@dataclass(frozen=True)
class Settled:
    """One member's attempt, ended: ``finished`` when it succeeded, else why it failed."""

    planned: PlannedTask
    spec: TaskSpec
    finished: Optional[Finished] = None
    died: bool = False  # the process ended without recording its end (no user exception)
    message: str = ""
    state: TaskState = TaskState.SUCCEEDED
    exception: Optional[ExceptionInfo] = None  # what the step raised

    @property
    def succeeded(self) -> bool:
        return self.finished is not None

    @property
    def node(self) -> int:
        return self.planned.foreach_stack[-1].index


@dataclass
class _Gang:
    size: int
    settled: Dict[int, Settled] = field(default_factory=dict)
    collapsed: bool = False  # the @catch fallback runs on the control task alone


@dataclass(frozen=True)
class GangDecision:
    """What the scheduler does once a gang's attempt has ended; nothing at all while members still run.

    - ``proceed``: the members' successes, handed to the planner (the join fires once all are in);
    - ``retry``: every member, to submit again at the next attempt;
    - ``fallback``: the control task's last attempt, whose successor runs the @catch fallback;
    - ``failed``: the member whose failure fails the run.
    """

    proceed: Tuple[Finished, ...] = ()
    retry: Tuple[Settled, ...] = ()
    fallback: Optional[Settled] = None
    fallback_reason: str = ""
    failed: Optional[Settled] = None


class Gangs:
    """The gangs of a run whose current attempt has not fully ended."""

    def __init__(self) -> None:
        self._gangs: Dict[GangKey, _Gang] = {}

    def settle(self, member: Settled, retries_left: bool, can_catch: bool) -> Optional[GangDecision]:
        """Record one member's end; return the decision once the whole attempt has ended."""
        key = gang_key(member.planned)
        gang = self._gangs.setdefault(key, _Gang(member.planned.foreach_stack[-1].num_splits))
        if gang.collapsed:  # the control's fallback attempt: the gang is the control task alone now
            del self._gangs[key]
            if member.finished is None:
                return GangDecision(failed=member)
            frame = member.finished.foreach_stack[-1]._replace(num_splits=1)
            only = Finished(
                member.finished.step,
                member.finished.ref,
                member.finished.foreach_stack[:-1] + (frame,),
                member.finished.num_splits,
                member.finished.loops,
                member.finished.chosen,
            )
            return GangDecision(proceed=(only,))
        gang.settled[member.node] = member
        if len(gang.settled) < gang.size:
            return None
        members = [gang.settled[i] for i in sorted(gang.settled)]
        gang.settled = {}
        failures = [m for m in members if not m.succeeded]
        if not failures:
            del self._gangs[key]
            return GangDecision(proceed=tuple(m.finished for m in members if m.finished is not None))
        if retries_left:
            return GangDecision(retry=tuple(members))
        control = members[0]
        if can_catch:
            gang.collapsed = True
            first = failures[0]
            reason = "%s: %s" % (first.state.value, first.message)
            if first is not control:
                reason = "gang member %d (task %s) %s" % (first.node, first.spec.task_id, reason)
            return GangDecision(fallback=control, fallback_reason=reason)
        del self._gangs[key]
        return GangDecision(failed=failures[0])
