"""Frozen data types of the static flow graph.

A ``Graph`` is what the planner consumes: every step with its type,
transitions, decorators and source line, plus the flow's parameters and
flow-level decorators. It is built once, from facts read off the source
(``parse``) and the imported class (``build``), and never mutated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

# Names a step or parameter may not take: FlowSpec's own attributes (``self.next``, ``self.input``...).
# Here, not in flowspec, so the graph checks need no import of the authoring class.
RESERVED_NAMES = frozenset({"name", "next", "input", "index", "cmd", "foreach_stack", "merge_artifacts", "script_name"})


class StepType(str, enum.Enum):
    START = "start"
    LINEAR = "linear"
    SPLIT = "split"  # a static branch: self.next(self.a, self.b)
    FOREACH = "foreach"  # self.next(self.a, foreach='items') or self.next(self.a, num_parallel=4)
    SWITCH = "split-switch"  # self.next({"x": self.a, "y": self.b}, condition='attr'): one case runs
    JOIN = "join"  # def step(self, inputs)
    END = "end"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow, located in its source, with how to fix it."""

    file: str
    line: int
    message: str
    hint: str = ""

    def format(self) -> str:
        text = self.message if not self.hint else "%s %s" % (self.message, self.hint)
        return "%s:%d: %s" % (self.file, self.line, text)


@dataclass(frozen=True)
class ParameterInfo:
    """A flow parameter as the graph knows it (the live object stays on the class)."""

    attr: str
    name: str
    type_name: str
    default: Any
    required: bool
    help: Optional[str]
    is_file: bool
    line: int


@dataclass(frozen=True)
class StepNode:
    name: str
    type: StepType
    line: int  # the ``def`` line
    doc: str
    out: tuple[str, ...]  # transitions, in self.next order
    next_line: int  # line of the tail self.next(), 0 when missing
    foreach_var: Optional[str] = None
    num_args: int = 1
    decorators: tuple[Any, ...] = ()  # frozen decorator specs
    in_funcs: tuple[str, ...] = ()
    split_parents: tuple[str, ...] = ()  # enclosing split steps, outermost first
    matching_join: Optional[str] = None  # for split and foreach steps
    split_branches: tuple[str, ...] = ()  # per enclosing split: the branch (its first step) this step is on
    condition: Optional[str] = None  # a switch: the artifact whose value picks the case
    switch_cases: tuple[tuple[str, str], ...] = ()  # a switch: (case as written, step)
    loops_to: tuple[str, ...] = ()  # switch targets that lead back (recursion): a new iteration starts
    num_parallel: Optional[str] = None  # self.next(..., num_parallel=N): the expression, as written

    def decorator(self, name: str) -> Optional[Any]:
        return next((d for d in self.decorators if d.NAME == name), None)

    @property
    def is_split(self) -> bool:
        return self.type in (StepType.SPLIT, StepType.FOREACH)

    @property
    def is_switch(self) -> bool:
        return self.type is StepType.SWITCH

    # Metaflow's DAGNode names for the same facts, for code that reads flow._graph
    @property
    def out_funcs(self) -> list:
        return list(self.out)

    @property
    def foreach_param(self) -> Optional[str]:
        return self.foreach_var

    @property
    def func_lineno(self) -> int:
        return self.line

    @property
    def parallel_step(self) -> bool:
        return self.decorator("parallel") is not None

    @property
    def parallel_foreach(self) -> bool:
        return self.num_parallel is not None

    @property
    def tail_next_lineno(self) -> int:
        return self.next_line


@dataclass(frozen=True)
class Graph:
    name: str  # the flow class name
    file: str
    line: int
    doc: str
    steps: tuple[StepNode, ...]  # in execution order (topological, start first)
    parameters: tuple[ParameterInfo, ...] = ()
    flow_decorators: tuple[Any, ...] = ()
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({s.name: s for s in self.steps})

    def __getitem__(self, name: str) -> StepNode:
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[StepNode]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def nodes(self) -> dict:
        """step name → node, as Metaflow's ``FlowGraph.nodes``."""
        return dict(self._index)

    @property
    def sorted_nodes(self) -> list:
        return [s.name for s in self.steps]

    def flow_decorator(self, name: str) -> Optional[Any]:
        return next((d for d in self.flow_decorators if d.NAME == name), None)
