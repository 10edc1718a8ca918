"""A task's ``TaskSpec``, from the graph, the run's shared context and the planned task. Pure.

The scheduler builds one per attempt it starts; a deployment (Step
Functions) builds one per step ahead of time, as the template its jobs
fill in with their run, task and inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from ..authoring.secret_sources import aws_sources
from ..defaults import MAX_NUM_SPLITS
from ..graph.model import Graph, StepType
from ..ids import loop_key
from ..plan import PlannedTask
from ..task.spec import TaskSpec


@dataclass(frozen=True)
class RunContext:
    """What every TaskSpec of a run shares."""

    flow: str
    run_id: str
    store_url: str
    code_dir: str
    flow_file: str
    username: str
    tags: Tuple[str, ...] = ()
    origin_run_id: Optional[str] = None
    max_num_splits: int = MAX_NUM_SPLITS
    log_dir: Optional[str] = None
    code_key: Optional[str] = None
    # @secrets values of the steps that run on this machine, fetched at run start: in memory only
    secrets: Mapping[str, Tuple[Tuple[str, str], ...]] = field(default_factory=dict, repr=False, compare=False)
    # The steps whose backend runs them elsewhere (AWS Batch): they do not count against --max-workers
    elsewhere: FrozenSet[str] = frozenset()
    placement: Mapping[str, Tuple[Tuple[str, str], ...]] = field(default_factory=dict)  # step → its backend's


def branch_order(graph: Graph, join: str) -> Tuple[str, ...]:
    """A static join's incoming steps in the order of the split's branches (switches inside a
    branch give it several possible last steps)."""
    node = graph[join]
    split = graph[node.split_parents[-1]]

    def branch(step: str) -> int:
        lanes = graph[step].split_branches
        return split.out.index(lanes[-1]) if lanes and lanes[-1] in split.out else len(split.out)

    return tuple(sorted(node.in_funcs, key=branch))


def task_spec(
    graph: Graph,
    ctx: RunContext,
    planned: PlannedTask,
    task_id: str,
    cache: Optional[Dict[str, Any]] = None,
    control: Optional[str] = None,
) -> TaskSpec:
    """The first attempt's spec. ``cache``: the step's memo key, if cached; ``control``: a @parallel
    gang's control task id."""
    node = graph[planned.step]
    catch = node.decorator("catch")
    retry = node.decorator("retry")
    env = node.decorator("environment")
    timeout = node.decorator("timeout")
    secrets = node.decorator("secrets")
    join_order: Tuple[str, ...] = ()
    if node.type is StepType.JOIN and graph[node.split_parents[-1]].type is StepType.SPLIT:
        join_order = branch_order(graph, node.name)
    return TaskSpec(
        flow=ctx.flow,
        run_id=ctx.run_id,
        step=node.name,
        task_id=task_id,
        attempt=0,
        store_url=ctx.store_url,
        code_dir=ctx.code_dir,
        flow_file=ctx.flow_file,
        inputs=planned.inputs,
        foreach_stack=planned.foreach_stack,
        is_join=node.type is StepType.JOIN,
        next_steps=node.out,
        foreach_var=node.foreach_var,
        join_order=join_order,
        catch_var=catch.var if catch else None,
        catch_print=catch.print_exception if catch else True,
        last_attempt=not retry or retry.times == 0,
        origin_run_id=ctx.origin_run_id,
        username=ctx.username,
        tags=ctx.tags,
        log_dir=ctx.log_dir,
        env=(env.vars if env else ()) + tuple(ctx.secrets.get(node.name, ())),
        secret_sources=tuple(s.to_json() for s in aws_sources(secrets.sources)) if secrets else (),
        code_key=ctx.code_key,
        timeout=(timeout.hours, timeout.minutes, timeout.seconds) if timeout else None,
        loops=loop_key(planned.loops),
        switch=node.type is StepType.SWITCH,
        parallel_split=node.num_parallel is not None,
        parallel_control=control,
        cache=cache,
        cards=tuple(d.to_task() for d in node.decorators if d.NAME == "card"),
        placement=tuple(ctx.placement.get(node.name, ())),
    )
