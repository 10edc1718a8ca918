"""The static graph of a flow class: its source facts (steps inherited from base flows merged in),
its decorators and parameters, built into a ``Graph``.

Shared by the loader (which lints the result) and by ``FlowSpec._graph`` (a flow's own graph at
run time, as Metaflow's ``flow._graph``). It is given the FlowSpec class rather than importing it,
so neither of those imports the other through it.
"""

from __future__ import annotations

import inspect
from typing import Optional

from ..graph.build import build_graph
from ..graph.model import Graph, ParameterInfo
from ..graph.parse import ClassFacts, ModuleFacts, StepFacts, parse_module
from .decorators import flow_decorators, is_step, step_decorators
from .parameters import flow_parameters

_facts_cache: dict[str, ModuleFacts] = {}


def facts_for_file(path: str) -> Optional[ModuleFacts]:
    if path not in _facts_cache:
        try:
            with open(path, encoding="utf-8") as handle:
                _facts_cache[path] = parse_module(handle.read(), path)
        except OSError:
            return None
    return _facts_cache[path]


def merged_facts(cls: type, own: ClassFacts, base: type) -> ClassFacts:
    """The flow class's facts with steps inherited from base flow classes (below ``base``, FlowSpec)
    merged in."""
    steps: dict[str, StepFacts] = {}
    params, others = [], []
    for klass in reversed(cls.__mro__):
        if klass in (base, object) or not issubclass(klass, base):
            continue
        facts = own if klass is cls else None
        if facts is None:
            try:
                module_facts = facts_for_file(inspect.getsourcefile(klass) or "")
            except TypeError:
                module_facts = None
            facts = module_facts.find(klass.__name__) if module_facts else None
        if facts is None:
            continue
        steps.update({s.name: s for s in facts.steps})
        params += facts.params
        others += facts.other_methods
    live = {name for name in steps if is_step(getattr(cls, name, None))}
    return ClassFacts(
        own.name,
        own.line,
        own.bases,
        own.doc,
        tuple(s for n, s in steps.items() if n in live),
        tuple(params),
        own.decorators,
        tuple(others),
        own.duplicate_steps,
    )


def _parameter_infos(cls: type, facts: ClassFacts) -> tuple[ParameterInfo, ...]:
    lines = {p.attr: p.line for p in facts.params}
    return tuple(
        ParameterInfo(
            attr,
            p.name,
            _type_label(p),
            p.default,
            p.required,
            p.help,
            p.IS_FILE,
            lines.get(attr, p.line or facts.line),
        )
        for attr, p in flow_parameters(cls)
    )


def _type_label(param) -> str:
    if param.IS_FILE:
        return "text file" if param.is_text else "binary file"
    return param.type_name


def remember_facts(path: str, facts: ModuleFacts) -> None:
    """Keep the facts the loader parsed, so a base class in the same file is not parsed twice."""
    _facts_cache[path] = facts


def class_graph(cls: type, merged: ClassFacts, path: str) -> Graph:
    """The graph of a flow class from its merged facts: decorators and parameters read off the class."""
    decorators = {s.name: step_decorators(getattr(cls, s.name)) for s in merged.steps}
    return build_graph(
        cls.__name__,
        path,
        merged.line,
        merged.doc,
        merged.steps,
        decorators,
        _parameter_infos(cls, merged),
        tuple(flow_decorators(cls).values()),
    )


def graph_of(cls: type, base: type) -> Optional[Graph]:
    """The graph of a flow class read from its own source file, or None when the source is gone."""
    try:
        path = inspect.getsourcefile(cls) or ""
    except TypeError:
        return None
    module_facts = facts_for_file(path)
    own = module_facts.find(cls.__name__) if module_facts else None
    if own is None:
        return None
    return class_graph(cls, merged_facts(cls, own, base), path)
