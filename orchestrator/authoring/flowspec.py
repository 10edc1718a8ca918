"""``FlowSpec``: the base class users subclass to write a flow.

A flow is a class whose ``@step`` methods each end in ``self.next(...)``.
The class itself does no I/O: the static graph is read from its source,
and at run time the task runtime sets the foreach state and reads the
transition that ``self.next`` records. Running ``python flow.py <command>``
instantiates the class at the bottom of the file, which hands over to the
CLI exactly as Metaflow does.

Task-side code: standard library only, Python 3.8 compatible.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from ..errors import OrchError
from ..exception import (  # noqa: F401 (CaughtException: stored @catch values unpickle by this path)
    FAILURE_HANDLED_BY_CATCH,
    CaughtException,
    MetaflowException,
    MissingInMergeArtifactsException,
    UnhandledInMergeArtifactsException,
)
from ..graph.model import RESERVED_NAMES
from ..ids import PARALLEL_VAR

_cli_blocked = 0


@contextmanager
def cli_dispatch_blocked() -> Iterator[None]:
    """While importing a flow module, ``MyFlow()`` at module level must not start the CLI."""
    global _cli_blocked
    _cli_blocked += 1
    try:
        yield
    finally:
        _cli_blocked -= 1


_LAZY = object()


class ForeachFrame(NamedTuple):
    """One level of foreach nesting: which split step and variable, how many splits, which index, the item.

    The fields and their order are Metaflow's (``self._foreach_stack`` yields
    these). In a task the item is read from the split's artifact only when
    asked for (``value`` is left lazy), so tasks that never touch
    ``self.input`` never load the foreach list.
    """

    step: str
    var: str
    num_splits: int
    index: int
    value: Any = _LAZY


class Transition(NamedTuple):
    """What ``self.next(...)`` asked for; checked by the task runtime against the graph. For a
    switch, ``steps`` is the one case chosen."""

    steps: Tuple[str, ...]
    foreach: Optional[str]
    num_parallel: Optional[int] = None


class SwitchCaseError(OrchError, RuntimeError):
    """A switch's condition has a value that no case names (a ``RuntimeError`` too, as in Metaflow)."""


def _step_name(target: Any) -> str:
    name = getattr(target, "__name__", None)
    if name is None or not callable(target):
        raise OrchError("self.next() takes steps such as self.%s, not %r." % (name or "step_name", target))
    return name


class MergeArtifactsError(OrchError, MetaflowException):
    """merge_artifacts was called wrongly (outside a join, or with both include= and exclude=)."""


class MergeConflictError(OrchError, UnhandledInMergeArtifactsException):
    """merge_artifacts found an artifact with different values in different branches (Metaflow's
    ``UnhandledInMergeArtifactsException`` too, so code that catches that ports unchanged)."""


class MergeMissingError(OrchError, MissingInMergeArtifactsException):
    """merge_artifacts(include=...) named artifacts that no branch has."""


class FlowSpec:
    """Base class of every flow. Subclass it and add ``@step`` methods."""

    # Names a step or parameter may not take, because FlowSpec uses them.
    _RESERVED = RESERVED_NAMES

    def __init__(self, use_cli: bool = True) -> None:
        self._orch_foreach: Tuple[ForeachFrame, ...] = ()
        self._orch_transition: Optional[Transition] = None
        if use_cli and not _cli_blocked:
            from ..cli.flow_entry import run_as_script  # host side only: click lives there

            run_as_script(type(self))

    def __setattr__(self, name: str, value: Any) -> None:
        """Parameters and class-level constants are read-only in steps, as in Metaflow."""
        if name[:1] != "_" and name in _read_only_names(type(self)):
            raise AttributeError("Flow level attributes and Parameters are not modifiable")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """Inherited artifacts load on first read (normal attribute lookup failed)."""
        if name.startswith("_"):
            raise AttributeError(name)
        source = self.__dict__.get("_orch_source")
        if source is not None and name in source and name not in self.__dict__.get("_orch_deleted", ()):
            value = source.load(name)
            self.__dict__[name] = value
            self.__dict__.setdefault("_orch_loaded", set()).add(name)
            return value
        raise AttributeError("Flow %s has no artifact or attribute '%s'." % (type(self).__name__, name))

    def __delattr__(self, name: str) -> None:
        """``del self.x`` drops artifact x from this task onwards, inherited or not."""
        source = self.__dict__.get("_orch_source")
        inherited = source is not None and name in source
        if name not in self.__dict__ and not inherited:
            raise AttributeError(name)
        self.__dict__.pop(name, None)
        if inherited:
            self.__dict__.setdefault("_orch_deleted", set()).add(name)

    @property
    def name(self) -> str:
        """The flow's name: its class name."""
        return type(self).__name__

    @property
    def _graph(self) -> Any:
        """The flow's static graph, as Metaflow's ``flow._graph``: ``graph[step].type``, ``.out_funcs``,
        ``.in_funcs``... Built from the class's source once, and kept on the class."""
        cls = type(self)
        graph = cls.__dict__.get("_orch_graph")
        if graph is None:
            from .flowgraph import graph_of

            graph = graph_of(cls, FlowSpec)
            if graph is None:
                raise AttributeError("The source of flow %s cannot be read to build its graph." % cls.__name__)
            type.__setattr__(cls, "_orch_graph", graph)
        return graph

    @property
    def _steps(self) -> List[Any]:
        """The step functions (each has ``.name``), in name order: Metaflow's graph lists its nodes
        as ``inspect.getmembers`` finds them, alphabetically, and ``for step in flow`` follows it."""
        return [getattr(type(self), name) for name in sorted(node.name for node in self._graph)]

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the flow's steps, as Metaflow's (legacy) ``for step in flow``."""
        return iter(self._steps)

    @property
    def _foreach_stack(self) -> List[ForeachFrame]:
        """Metaflow's frames of the enclosing foreaches, outermost first, with their values. As in
        Metaflow, a frame's ``step`` is the first step inside the foreach (the split's target)."""
        frames = []
        for frame in self._orch_foreach:
            body = self._graph[frame.step].out[0] if frame.step in self._graph else frame.step
            frames.append(frame._replace(step=body, value=_frame_text(self._orch_frame_value(frame))))
        return frames

    @property
    def script_name(self) -> str:
        import os
        import sys

        module = sys.modules.get(type(self).__module__)
        return os.path.basename(getattr(module, "__file__", "") or "")

    def next(
        self,
        *steps: Any,
        foreach: Optional[str] = None,
        num_parallel: Optional[int] = None,
        condition: Optional[str] = None,
    ) -> None:
        """Say which step(s) run after this one; must be the step's last statement.

        ``self.next(self.a)`` continues linearly, ``self.next(self.a, self.b)``
        splits into branches, ``self.next(self.a, foreach='items')`` runs ``a``
        once per element of ``self.items``, ``self.next(self.train,
        num_parallel=4)`` starts four ``@parallel`` tasks together, and
        ``self.next({"x": self.a, "y": self.b}, condition='mode')`` runs the one
        step that the value of ``self.mode`` names (a switch; a case may lead
        back to this step or an earlier one).
        """
        if self._orch_transition is not None:
            raise OrchError("self.next() was called twice in one step.", "Call it once, as the last line.")
        if condition is not None or (len(steps) == 1 and isinstance(steps[0], dict)):
            self._orch_transition = Transition((self._switch_case(steps, condition, foreach, num_parallel),), None)
            return
        names = [_step_name(target) for target in steps]
        if num_parallel is not None:
            if foreach is not None or len(names) != 1:
                raise OrchError("self.next(num_parallel=...) takes exactly one step and no foreach=.")
            if isinstance(num_parallel, bool) or not isinstance(num_parallel, int) or num_parallel < 1:
                raise OrchError("num_parallel=%r must be a whole number of at least 1." % (num_parallel,))
            self._orch_transition = Transition(tuple(names), None, num_parallel)
            return
        self._orch_transition = Transition(tuple(names), foreach)

    def _switch_case(self, steps: Tuple[Any, ...], condition: Any, foreach: Any, num_parallel: Any) -> str:
        """The step a switch chose: the case that the value of ``self.<condition>`` names."""
        step = _current_step_name()
        if len(steps) != 1 or not isinstance(steps[0], dict) or not steps[0]:
            raise OrchError(
                "Step %s has an invalid self.next() transition: with condition=, the transition must be one "
                "non-empty dict mapping condition values to steps." % step,
                'Write self.next({"a": self.step_a, "b": self.step_b}, condition="attr").',
            )
        if condition is None:
            raise OrchError(
                "Step %s has an invalid self.next() transition: a dict of steps needs condition=." % step,
                "Name the artifact whose value picks the step, e.g. condition='mode'.",
            )
        if not isinstance(condition, str):
            raise OrchError("Step %s: condition= must name an artifact as a string, not %r." % (step, condition))
        if foreach is not None or num_parallel is not None:
            raise OrchError("Step %s: a switch cannot be combined with foreach= or num_parallel=." % step)
        cases = steps[0]
        try:
            value = getattr(self, condition)
        except AttributeError:
            raise OrchError(
                "Condition variable self.%s in step %s does not exist." % (condition, step),
                "Set self.%s in this step (or an earlier one) before self.next()." % condition,
            ) from None
        try:
            chosen = cases[value]
        except (KeyError, TypeError):
            raise SwitchCaseError(
                "Switch condition variable '%s' has value %r which is not in the available cases: %s."
                % (condition, value, list(cases)),
                "Give self.%s one of the case values, or add a case for %r." % (condition, value),
            ) from None
        return _step_name(chosen)

    def _orch_frame_value(self, frame: ForeachFrame) -> Any:
        if frame.value is not _LAZY:
            return frame.value
        if frame.var == PARALLEL_VAR:  # a @parallel task's input is its node index, as in Metaflow
            return frame.index
        cache = self.__dict__.setdefault("_orch_frame_values", {})
        if frame.step not in cache:
            if frame.var in self.__dict__:
                cache[frame.step] = self.__dict__[frame.var][frame.index]
            else:
                # Not cached as an attribute: the list is not re-saved by every foreach task. Only this
                # task's element counts as read (step memoization), not the whole list.
                source = self.__dict__.get("_orch_frame_source") or self.__dict__["_orch_source"]
                cache[frame.step] = source.element(frame.var, frame.index)
        return cache[frame.step]

    @property
    def input(self) -> Any:
        """In a foreach task: the element of the foreach list this task handles."""
        return self._orch_frame_value(self._orch_foreach[-1]) if self._orch_foreach else None

    @property
    def index(self) -> Optional[int]:
        """In a foreach task: the index of ``self.input`` in the foreach list."""
        return self._orch_foreach[-1].index if self._orch_foreach else None

    def __str__(self) -> str:
        """``<flow F step S[i,j] (input: x)>`` as Metaflow prints a flow: its step, the foreach indices
        and the input (cut at 20 characters), for messages such as @catch's."""
        step = self.__dict__.get("_current_step")
        if not step:
            return "<flow %s>" % self.name
        frames = self.__dict__.get("_orch_foreach") or ()
        if not frames:
            return "<flow %s step %s>" % (self.name, step)
        where = "<flow %s step %s[%s]" % (self.name, step, ",".join(str(f.index) for f in frames))
        value = self.input
        if value is None:
            return where + ">"
        text = str(value)
        return "%s (input: %s)>" % (where, text[:20] + "..." if len(text) > 20 else text)

    def foreach_stack(self) -> List[Tuple[int, int, Any]]:
        """(index, num_splits, value) for each enclosing foreach, outermost first."""
        return [(f.index, f.num_splits, self._orch_frame_value(f)) for f in self._orch_foreach]

    def merge_artifacts(
        self,
        inputs: Iterable[Any],
        exclude: Optional[Sequence[str]] = None,
        include: Optional[Sequence[str]] = None,
    ) -> None:
        """Copy artifacts from the branches of a join into this step.

        An artifact is copied when every branch that has it agrees on its value
        (compared by content hash, so nothing is loaded to compare). It is left
        alone when this step already set it. Branches that disagree raise an
        error listing the artifacts to set explicitly first.
        """
        is_join = self.__dict__.get("_orch_is_join")
        if is_join is False:
            raise MergeArtifactsError(
                "merge_artifacts can only be called in a join and step %s is not a join." % _current_step_name(),
                "Call it in a step that takes inputs: def join(self, inputs).",
            )
        if exclude and include:
            raise MergeArtifactsError("merge_artifacts() takes exclude= or include=, not both.")
        inputs = list(inputs)
        digests: List[Dict[str, str]] = [_artifact_digests(inp) for inp in inputs]
        available = set().union(*digests) if digests else set()
        wanted = set(include) if include else available - set(exclude or ())
        missing = sorted(set(include or ()) - available)
        if missing:
            raise MergeMissingError(
                "merge_artifacts(include=...) names artifacts that no branch has: %s." % ", ".join(missing),
                "Check the names, or drop them from include.",
            )
        conflicts, merged = [], {}
        fixed = _read_only_names(type(self)) | {"name"}  # parameters, constants, the flow's name: set already
        for name in sorted(wanted):
            if name.startswith("_") or name in self.__dict__ or name in fixed:
                continue
            owners = [i for i, d in enumerate(digests) if name in d]
            if len({digests[i][name] for i in owners}) > 1:
                conflicts.append(name)
            else:
                merged[name] = owners[0]
        if not conflicts:  # all or nothing, as in Metaflow: a conflict leaves this step's artifacts as they were
            for name, owner in merged.items():
                setattr(self, name, getattr(inputs[owner], name))
        else:
            raise MergeConflictError(
                "Step %s cannot merge the following artifacts due to them having conflicting values: [%s]."
                % (_current_step_name(), ", ".join(conflicts)),
                "To remedy this issue, be sure to explicitly set those artifacts (using self.<artifact_name> = ...) "
                "prior to calling merge_artifacts.",
            )


def _frame_text(item: Any) -> str:
    """How Metaflow's private foreach frames show an item: ``str`` of a primitive, else a ``reprlib``
    repr, cut to 30 characters (its MAXIMUM_FOREACH_VALUE_CHARS)."""
    if isinstance(item, (str, int, float, bool)):
        return str(item)[:30]
    import reprlib

    return reprlib.Repr().repr(item)[:30]


def _read_only_names(cls: type) -> frozenset:
    """A flow class's parameters, configs and class-level constants, computed once and kept on the class."""
    cached = cls.__dict__.get("_orch_read_only")
    if cached is None:
        from .parameters import flow_constants, flow_parameters
        from .user_configs import flow_configs

        names = [a for a, _ in flow_parameters(cls)] + [a for a, _ in flow_constants(cls, FlowSpec)]
        names += [a for a, _ in flow_configs(cls)]
        cached = frozenset(names)
        type.__setattr__(cls, "_orch_read_only", cached)
    return cached


def _artifact_digests(branch: Any) -> Dict[str, str]:
    """name → content digest of a join input, provided by the task runtime."""
    getter = getattr(branch, "_orch_artifact_digests", None)
    if getter is None:
        raise MergeArtifactsError("merge_artifacts() must be given the inputs of a join step.")
    return dict(getter())


def _current_step_name() -> str:
    from .current import current

    return current.step_name or "?"
