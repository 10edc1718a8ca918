"""A flow graph as an Amazon States Language definition. Pure: no AWS call, no clock.

Every step is a ``batch:submitJob.sync`` Task of its step's job definition.
The state data is small and the same everywhere: ``run`` (the execution's
name), ``foreach`` (the foreach indices so far, ``-2-0``) and, for ``start``,
the execution's ``input``. A job derives everything else from the store and
the deployment record, so a state never passes artifacts or task ids:

- a task's id is its step's ordinal plus its foreach indices (``3-2-0``),
  so a join knows its inputs without a side database;
- a static split is a ``Parallel`` state with one branch per split branch;
- a foreach is a *distributed* ``Map`` whose items the split task wrote to
  the store (an ``ItemReader``): each iteration is a child execution with its
  own event history, so a wide foreach neither meets the 25,000-event limit
  of one execution nor ``States.ArrayRange``'s 1,000 items. Nested foreaches
  nest Maps.

``@retry`` runs in the job itself: a failed attempt is followed at once by
the next in the same container, as Metaflow's Batch-level retries are (a
``Retry`` on the Task would hold a slot between attempts for nothing, and
moto cannot run one). ``@timeout`` is the task's own alarm and the job's
Batch timeout, and ``--workflow-timeout`` the machine's ``TimeoutSeconds``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...graph.model import Graph, StepType

INIT = "orch-init"  # the first state: sets run, foreach and input (step names are identifiers: no clash)
BRANCHES = "%s-branches"
MAP = "%s-foreach"


@dataclass(frozen=True)
class StepJob:
    """What a step's Task state submits: a registered job definition on a queue."""

    definition: str  # job definition name (or ARN), made by ``deploy``
    queue: str
    timeout: Optional[int] = None  # seconds: the Batch job's attemptDurationSeconds backstop


@dataclass(frozen=True)
class Machine:
    """Everything the definition needs besides the graph."""

    flow: str
    deployment: str  # the deployment record's blob key
    bucket: str  # the S3 store's bucket
    runs_prefix: str  # key prefix of the flow's runs in it, e.g. "orch/flows/MyFlow/runs"
    environment: Tuple[Tuple[str, str], ...]  # what every job is told (store, region...): never a secret
    steps: Mapping[str, StepJob]
    max_workers: int = 100
    timeout: Optional[int] = None  # --workflow-timeout, seconds


def ordinals(graph: Graph) -> Dict[str, int]:
    """Each step's number, 1 for ``start``, in the graph's order: the head of its tasks' ids."""
    return {node.name: number for number, node in enumerate(graph, start=1)}


def task_id(ordinal: int, foreach: str) -> str:
    """``3`` for step 3 outside any foreach, ``3-2-0`` for index 0 of a foreach inside index 2 of another."""
    return "%d%s" % (ordinal, foreach)


def foreach_items_key(runs_prefix: str, run_id: str, split_task: str) -> str:
    """Where a foreach split's task writes the items its Map reads (a JSON array of indices)."""
    return "%s/%s/sfn/foreach/%s.json" % (runs_prefix, run_id, split_task)


def _format_literal(text: str) -> str:
    """Text inside a ``States.Format`` template: quotes, braces and backslashes escaped."""
    return re.sub(r"([\\'{}])", r"\\\1", text)


def definition(graph: Graph, machine: Machine) -> Dict[str, Any]:
    numbers = ordinals(graph)
    states: Dict[str, Any] = {
        INIT: {
            "Type": "Pass",
            "Parameters": {"run.$": "$$.Execution.Name", "foreach": "", "input.$": "States.JsonToString($)"},
            "Next": "start",
        }
    }
    _chain(graph, machine, numbers, "start", None, states)
    body: Dict[str, Any] = {"Comment": "orch: flow %s" % machine.flow, "StartAt": INIT, "States": states}
    if machine.timeout:
        body["TimeoutSeconds"] = int(machine.timeout)
    return body


def _chain(
    graph: Graph, machine: Machine, numbers: Mapping[str, int], step: str, stop: Optional[str], states: Dict[str, Any]
) -> None:
    """The states from ``step`` up to (not including) ``stop``; the last one ends its (sub)workflow.
    A split's states lead to its join, which is always before ``stop`` (splits nest)."""
    while True:
        node = graph[step]
        state = _task(node.name, numbers[node.name], machine)
        states[step] = state
        if node.type is StepType.END:
            state["End"] = True
            return
        if node.type is StepType.SPLIT:
            join = node.matching_join
            state["Next"] = BRANCHES % step
            states[BRANCHES % step] = {
                "Type": "Parallel",
                "Branches": [_sub(graph, machine, numbers, branch, join) for branch in node.out],
                "ResultPath": None,
                "Next": join,
            }
            step = join
        elif node.type is StepType.FOREACH:
            join = node.matching_join
            state["Next"] = MAP % step
            states[MAP % step] = _map(graph, machine, numbers, node.name, node.out[0], join)
            step = join
        else:
            step = node.out[0]
        if step == stop:  # the end of a branch or a foreach body: its join follows outside
            state["End"] = True
            return
        if not node.is_split:
            state["Next"] = step


def _sub(graph: Graph, machine: Machine, numbers: Mapping[str, int], first: str, stop: Optional[str]) -> Dict[str, Any]:
    states: Dict[str, Any] = {}
    _chain(graph, machine, numbers, first, stop, states)
    return {"StartAt": first, "States": states}


def _map(
    graph: Graph, machine: Machine, numbers: Mapping[str, int], split: str, first: str, join: Optional[str]
) -> Dict[str, Any]:
    """A distributed Map over the items the split task wrote; each child gets ``run`` and ``foreach``."""
    key = foreach_items_key(_format_literal(machine.runs_prefix), "sfn-{}", "%d{}" % numbers[split])
    processor = _sub(graph, machine, numbers, first, join)
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": machine.bucket, "Key.$": "States.Format('%s', $.run, $.foreach)" % key},
        },
        "ItemSelector": {
            "run.$": "$.run",
            "foreach.$": "States.Format('{}-{}', $.foreach, $$.Map.Item.Value)",
            "input": "",
        },
        "ItemProcessor": processor,
        "MaxConcurrency": machine.max_workers,
        "Label": re.sub(r"[^A-Za-z0-9_]", "", split)[:40] or "foreach",
        "ResultPath": None,
        "Next": join,
    }


def _environment(node: str, machine: Machine) -> List[Dict[str, str]]:
    fixed = [{"Name": k, "Value": v} for k, v in machine.environment]
    fixed += [{"Name": "ORCH_SFN_DEPLOYMENT", "Value": machine.deployment}, {"Name": "ORCH_SFN_STEP", "Value": node}]
    return fixed + [
        {"Name": "ORCH_SFN_RUN", "Value.$": "$.run"},
        {"Name": "ORCH_SFN_FOREACH", "Value.$": "$.foreach"},
        {"Name": "ORCH_SFN_ATTEMPT", "Value.$": "States.Format('{}', $$.State.RetryCount)"},
        {"Name": "ORCH_SFN_INPUT", "Value.$": "$.input"},
    ]


def _task(step: str, number: int, machine: Machine) -> Dict[str, Any]:
    job = machine.steps[step]
    parameters: Dict[str, Any] = {
        "JobName.$": "States.Format('%s-{}-%d{}', $.run, $.foreach)" % (_job_name_part(machine.flow, step), number),
        "JobQueue": job.queue,
        "JobDefinition": job.definition,
        "ContainerOverrides": {"Environment": _environment(step, machine)},
    }
    if job.timeout:
        parameters["Timeout"] = {"AttemptDurationSeconds": max(60, int(job.timeout) + 60)}
    state: Dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": parameters,
        "ResultPath": None,
    }
    return state


def _job_name_part(flow: str, step: str) -> str:
    """Batch job names allow letters, digits, - and _ (128 at most; the run id and task id follow)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", "%s-%s" % (flow, step))[:60]
