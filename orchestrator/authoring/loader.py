"""Load a flow file: import it, find its flow class, build and lint its graph.

This is the edge where user code runs (the module is imported, as Metaflow
does, so decorator and parameter errors surface). Everything that can go
wrong becomes a located ``Problem``; ``load_flow`` raises them all at once
as a ``FlowCheckError``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from typing import Optional

from ..errors import FlowCheckError, FlowDefinitionError, OrchError
from ..graph.build import build_graph
from ..graph.lint import lint
from ..graph.model import Graph, ParameterInfo, Problem
from ..graph.parse import ClassFacts, ModuleFacts, parse_module
from .decorators import bind_configs as bind
from .flowgraph import class_graph, merged_facts, remember_facts
from .flowmodule import module_name_for
from .flowspec import FlowSpec, cli_dispatch_blocked
from .user_configs import ConfigInputs, compute_values


@dataclass(frozen=True)
class LoadedFlow:
    """A valid flow: its class, its graph, and where it came from."""

    path: str  # as the user gave it
    abspath: str
    module: types.ModuleType
    cls: type
    graph: Graph

    @property
    def name(self) -> str:
        return self.cls.__name__


def import_flow_module(abspath: str) -> types.ModuleType:
    """Import a flow file by path, with its folder first on sys.path."""
    name = module_name_for(abspath)
    folder = os.path.dirname(abspath)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, abspath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with cli_dispatch_blocked():
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_problem(path: str, abspath: str, exc: BaseException) -> Problem:
    if isinstance(exc, OrchError):
        return Problem(exc.file or path, exc.line or 1, exc.headline, exc.hint or "")
    import traceback  # only on errors: keeps every command's start-up lean

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == abspath]
    line = frames[-1].lineno if frames else 1
    hint = "Fix the error, or run with --debug to see the traceback."
    if isinstance(exc, ModuleNotFoundError):
        hint = "Install it on the host, or import it inside the step that uses it."
    detail = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    return Problem(path, line or 1, "Importing the flow failed with %s." % detail, hint)


def _flow_classes(module: types.ModuleType) -> list[type]:
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec and v.__module__ == module.__name__
    ]
    # A class that another flow in the file extends is a base, not a flow of its own.
    return [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]


def _static_parameter_infos(facts: ClassFacts) -> tuple[ParameterInfo, ...]:
    return tuple(
        ParameterInfo(p.attr, p.name or p.attr, "?", None, False, None, p.kind == "IncludeFile", p.line)
        for p in facts.params
    )


def _select_class(path: str, facts: ModuleFacts, module: Optional[types.ModuleType]) -> tuple:
    """(class or None, ClassFacts or None, problems) for the one flow of the file."""
    problems = []
    if module is not None:
        flows = _flow_classes(module)
        flow_names = {c.__name__ for c in flows}
        for klass in facts.classes:
            live = getattr(module, klass.name, None)
            if klass.steps and not (isinstance(live, type) and issubclass(live, FlowSpec)):
                problems.append(
                    Problem(
                        path,
                        klass.line,
                        "Class %s has @step methods but does not inherit from FlowSpec." % klass.name,
                        "Declare it as 'class %s(FlowSpec):'." % klass.name,
                    )
                )
        chosen = [facts.find(c.__name__) for c in flows]
        chosen = [c for c in chosen if c is not None and c.name in flow_names]
        live_by_name = {c.__name__: c for c in flows}
    else:
        chosen = [c for c in facts.classes if any(b.split(".")[-1] == "FlowSpec" for b in c.bases)]
        live_by_name = {}
    if not chosen:
        if not problems:
            problems.append(
                Problem(
                    path,
                    1,
                    "No flow found in %s." % path,
                    "Define a class that inherits from FlowSpec, e.g. 'class MyFlow(FlowSpec):'.",
                )
            )
        return None, None, problems
    if len(chosen) > 1:
        chosen.sort(key=lambda c: c.line)
        names = ", ".join("%s (line %d)" % (c.name, c.line) for c in chosen)
        problems.append(
            Problem(
                path,
                chosen[1].line,
                "%s defines %d flows: %s." % (path, len(chosen), names),
                "Put each flow in its own file.",
            )
        )
        return None, None, problems
    return live_by_name.get(chosen[0].name), chosen[0], problems


def _bind_configs(cls: type, abspath: str, configs: Optional[ConfigInputs]) -> None:
    """Give the flow class its config values (what the user gave, over the environment's, over the
    defaults) and build the decorators that use them. A bad value raises ``ConfigError``."""
    given = ConfigInputs.from_env(os.environ).merged(configs or ConfigInputs())
    user = os.environ.get("ORCH_USER") or os.environ.get("METAFLOW_USER") or os.environ.get("USER") or ""
    bind(cls, compute_values(cls, given, user, os.path.dirname(abspath)))


def check_flow(
    path: str, module: Optional[types.ModuleType] = None, configs: Optional[ConfigInputs] = None
) -> tuple[Optional[LoadedFlow], list[Problem]]:
    """Import, parse and lint a flow file. Returns the loaded flow (when valid) and every problem.
    ``configs``: the config values given on the command line."""
    abspath = os.path.abspath(path)
    if not os.path.isfile(abspath):
        raise OrchError("%s: no such flow file." % path, "Give the path of a Python file that defines a flow.")
    with open(abspath, encoding="utf-8") as handle:
        source = handle.read()
    facts = parse_module(source, path)
    remember_facts(abspath, facts)
    if facts.syntax_error:
        line, message = facts.syntax_error
        return None, [Problem(path, line, "Syntax error: %s." % message, "Fix the Python syntax.")]
    problems: list[Problem] = []
    if module is None:
        try:
            module = import_flow_module(abspath)
        except Exception as exc:  # user code: any error becomes a located problem
            problems.append(_import_problem(path, abspath, exc))
            module = None
    cls, class_facts, selection_problems = _select_class(path, facts, module)
    problems += selection_problems
    if class_facts is None:
        return None, problems
    if cls is not None:
        try:
            _bind_configs(cls, abspath, configs)
        except FlowDefinitionError as err:  # a decorator argument built from a config is bad
            return None, problems + [
                Problem(err.file or path, err.line or class_facts.line, err.headline, err.hint or "")
            ]
        merged = merged_facts(cls, class_facts, FlowSpec)
        graph = class_graph(cls, merged, path)
    else:
        merged = class_facts
        graph = build_graph(
            merged.name, path, merged.line, merged.doc, merged.steps, parameters=_static_parameter_infos(merged)
        )
    problems += lint(graph, {s.name: s for s in merged.steps}, merged)
    if problems or cls is None:
        return None, problems
    return LoadedFlow(path, abspath, module, cls, graph), []


def load_flow(
    path: str, module: Optional[types.ModuleType] = None, configs: Optional[ConfigInputs] = None
) -> LoadedFlow:
    """A valid flow, or a ``FlowCheckError`` listing every problem."""
    loaded, problems = check_flow(path, module, configs)
    if problems:
        raise FlowCheckError(problems)
    assert loaded is not None
    return loaded
