"""Render a ``Graph`` as text for people, or JSON and Graphviz DOT for machines. Pure."""

from __future__ import annotations

import json
import textwrap
from typing import Any, List, Tuple

from ..envs.spec import step_env
from .model import Graph, StepNode, StepType


def _env_text(graph: Graph, node: StepNode) -> str:
    env = step_env(graph.flow_decorators, node.decorators)
    return env.describe() if env else "default image"


def _transition_text(node: StepNode) -> str:
    if node.type is StepType.END:
        return "(end of flow)"
    if node.foreach_var:
        return "→ %s  (foreach over self.%s)" % (", ".join(node.out), node.foreach_var)
    if node.num_parallel is not None:
        return "→ %s  (num_parallel=%s)" % (", ".join(node.out), node.num_parallel)
    if node.is_switch:
        cases = ", ".join("%s: %s" % (case, target) for case, target in node.switch_cases)
        loops = "; loops back to %s" % ", ".join(node.loops_to) if node.loops_to else ""
        return "→ {%s}  (switch on self.%s%s)" % (cases, node.condition, loops)
    if not node.out:
        return "→ (missing self.next)"
    return "→ " + ", ".join(node.out)


def to_text(graph: Graph) -> str:
    lines = ["Flow %s  (%s:%d)" % (graph.name, graph.file, graph.line)]
    if graph.doc:
        lines += textwrap.indent(graph.doc, "    ").splitlines()
    for deco in graph.flow_decorators:
        lines.append("    " + deco.describe())
    if graph.parameters:
        lines += ["", "Parameters"]
        for p in graph.parameters:
            extra = "required" if p.required else "default: %r" % (p.default,)
            lines.append("  --%-18s %-11s %s" % (p.name, p.type_name, extra))
            if p.help:
                lines.append("        " + p.help)
    lines += ["", "Steps"]
    for node in graph:
        decos = " ".join(d.describe() for d in node.decorators)
        lines.append("  %s  (%s, line %d)%s" % (node.name, node.type, node.line, "  " + decos if decos else ""))
        if node.doc:
            lines += textwrap.indent(node.doc, "      ").splitlines()
        lines.append("      env: " + _env_text(graph, node))
        lines.append("      " + _transition_text(node))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def metaflow_order(graph: Graph) -> List[str]:
    """Steps in the order Metaflow's ``show`` lists them: depth first from ``start``, children in
    ``self.next`` order, a step reached again moving to the end (so a join follows all its branches)."""
    order: List[str] = []

    def visit(name: str, seen: Tuple[str, ...]) -> None:
        if name in order:
            order.remove(name)
        order.append(name)
        for child in graph[name].out:
            if child not in seen and child in graph:
                visit(child, seen + (child,))

    if "start" in graph:
        visit("start", ())
    return order


def to_metaflow_text(graph: Graph) -> List[Tuple[str, bool]]:
    """``python flow.py show`` as Metaflow prints it: (line, to stderr) pairs. The flow's docstring and the
    blank lines between steps go to stderr; each step's decorators, name, docstring (or ``?``) and
    ``=> next, steps`` go to stdout."""
    lines = [("\n" + graph.doc, True)]
    for name in metaflow_order(graph):
        node = graph[name]
        lines.append(("", True))
        lines += [("@%s" % deco.NAME, False) for deco in reversed(node.decorators)]  # applied bottom-up
        lines.append(("Step %s" % node.name, False))
        lines.append(("\n".join("    " + line for line in (node.doc or "?").splitlines()), False))
        if node.type is not StepType.END:
            lines.append(("    => %s" % ", ".join(node.out), False))
    lines.append(("", True))
    return lines


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def to_json(graph: Graph) -> str:
    def step_json(node: StepNode) -> dict:
        env = step_env(graph.flow_decorators, node.decorators)
        return {
            "name": node.name,
            "type": node.type.value,
            "line": node.line,
            "doc": node.doc,
            "next": list(node.out),
            "foreach": node.foreach_var,
            "num_parallel": node.num_parallel,
            "condition": node.condition,
            "switch_cases": [[case, target] for case, target in node.switch_cases],
            "loops_to": list(node.loops_to),
            "in": list(node.in_funcs),
            "split_parents": list(node.split_parents),
            "matching_join": node.matching_join,
            "decorators": [{"name": d.NAME, "attributes": _jsonable(d.attributes())} for d in node.decorators],
            "environment": env.to_json() if env else None,
        }

    document = {
        "flow": graph.name,
        "file": graph.file,
        "line": graph.line,
        "doc": graph.doc,
        "decorators": [{"name": d.NAME, "attributes": _jsonable(d.attributes())} for d in graph.flow_decorators],
        "parameters": [
            {
                "name": p.name,
                "attribute": p.attr,
                "type": p.type_name,
                "default": _jsonable(p.default),
                "required": p.required,
                "help": p.help,
                "is_file": p.is_file,
            }
            for p in graph.parameters
        ],
        "steps": [step_json(n) for n in graph],
    }
    return json.dumps(document, indent=2) + "\n"


_SHAPES = {
    StepType.START: "oval",
    StepType.END: "oval",
    StepType.SPLIT: "diamond",
    StepType.FOREACH: "parallelogram",
    StepType.JOIN: "invtriangle",
    StepType.LINEAR: "box",
    StepType.SWITCH: "hexagon",
}


def _dot_quote(text: str) -> str:
    return '"%s"' % text.replace('"', '\\"')  # labels keep their \\n line breaks


def to_dot(graph: Graph) -> str:
    lines = ["digraph %s {" % _dot_quote(graph.name), '  node [fontname="Helvetica", style=rounded];']
    for node in graph:
        label = "%s\\n(%s)" % (node.name, node.type)
        lines.append("  %s [shape=%s, label=%s];" % (_dot_quote(node.name), _SHAPES[node.type], _dot_quote(label)))
    for node in graph:
        cases: dict = {}
        for case, target in node.switch_cases:
            cases.setdefault(target, []).append(case)
        for target in node.out:
            attrs = ""
            if node.foreach_var:
                attrs = " [style=dashed, label=%s]" % _dot_quote("foreach " + node.foreach_var)
            elif node.num_parallel is not None:
                attrs = " [style=dashed, label=%s]" % _dot_quote("num_parallel=" + node.num_parallel)
            elif target in cases:
                attrs = " [label=%s]" % _dot_quote(" | ".join(cases[target]))
            lines.append("  %s -> %s%s;" % (_dot_quote(node.name), _dot_quote(target), attrs))
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": to_text, "json": to_json, "dot": to_dot}
