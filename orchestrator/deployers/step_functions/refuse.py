"""What a Step Functions deployment cannot run, said at ``create`` with the flow's file and line.

- A switch (``self.next({...}, condition=...)``): the case it takes is
  decided by the task, and orch does not yet carry that choice to a
  ``Choice`` state; recursion (a switch looping back) all the more.
- ``@parallel`` and ``num_parallel``: they need a Batch multi-node job.
- ``@schedule(timezone=...)``: EventBridge rules run in UTC.
- ``@trigger`` or ``@trigger_on_finish`` whose names are functions: they
  are named at deploy time by Metaflow's Argo path only.

Pure: it reads the graph only.
"""

from __future__ import annotations

from ...errors import FlowDefinitionError
from ...graph.model import Graph, StepType


def _refuse(graph: Graph, line: int, headline: str, hint: str) -> FlowDefinitionError:
    return FlowDefinitionError(headline, hint, file=graph.file, line=line)


def refuse(graph: Graph) -> None:
    """Raise the first thing in ``graph`` that cannot run on Step Functions."""
    for node in graph:
        if node.type is StepType.SWITCH:
            looping = " and loops back to an earlier step" if node.loops_to else ""
            raise _refuse(
                graph,
                node.next_line or node.line,
                "Step '%s' is a switch%s, which orch cannot deploy to AWS Step Functions yet." % (node.name, looping),
                "Run it with orch run --with batch, or make the choice inside one step.",
            )
        if node.num_parallel is not None or node.decorator("parallel") is not None:
            raise _refuse(
                graph,
                node.line,
                "Step '%s' uses @parallel, which needs a Batch multi-node job: orch cannot deploy it "
                "to AWS Step Functions." % node.name,
                "Run the flow with orch run instead.",
            )
    schedule = graph.flow_decorator("schedule")
    if schedule is not None and schedule.timezone:
        raise _refuse(
            graph,
            graph.line,
            "@schedule(timezone=%r): AWS Step Functions schedules (EventBridge rules) run in UTC." % schedule.timezone,
            "Remove timezone= and write the cron in UTC.",
        )
    for name in ("trigger", "trigger_on_finish"):
        spec = graph.flow_decorator(name)
        items = (spec.events if name == "trigger" else spec.flows) if spec is not None else ()
        if any(callable(item) or callable(getattr(item, "name", None)) for item in items):
            raise _refuse(
                graph,
                graph.line,
                "@%s names its events with a function, which only a deployment to Argo evaluates." % name,
                "Give the names as strings.",
            )
