"""``--with NAME[:key=value,...]``: add a step decorator to every step that lacks it, as Metaflow does.

``orch run flow.py --with batch`` runs every step on AWS Batch;
``--with retry:times=2`` retries every step. Steps that already carry the
decorator keep their own arguments. Pure: a Graph in, a Graph out.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any, Dict, Iterable

from ..authoring.decorators import build_spec
from ..backends.registry import step_decorator, step_decorators
from ..errors import FlowDefinitionError, UsageError
from .model import Graph


def _value(text: str) -> Any:
    """``2`` → 2, ``1.5`` → 1.5, ``true`` → True, ``'a'``/``a`` → 'a'."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def parse_with(option: str) -> Any:
    """One ``--with`` value → a validated decorator spec."""
    name, _, rest = option.partition(":")
    name = name.strip()
    spec_class = step_decorator(name)
    if spec_class is None:
        known = step_decorators()
        raise UsageError(
            "--with %s: there is no step decorator named '%s'." % (option, name),
            "Choose one of: %s." % ", ".join(sorted(known)),
        )
    kwargs: Dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, equals, value = part.partition("=")
        if not equals:
            raise UsageError(
                "--with %s: '%s' is not key=value." % (option, part), "Write it as --with %s:key=value." % name
            )
        kwargs[key.strip()] = _value(value)

    class _Target:  # what build_spec names in its errors
        __name__ = "--with"

    try:
        return build_spec(spec_class, kwargs, _Target())
    except FlowDefinitionError as err:
        raise UsageError(err.headline.replace(" on flow --with", " in --with"), err.hint) from None


def apply_with(graph: Graph, specs: Iterable[Any]) -> Graph:
    specs = list(specs)
    if not specs:
        return graph
    steps = []
    for node in graph.steps:
        added = tuple(spec for spec in specs if node.decorator(spec.NAME) is None)
        steps.append(replace(node, decorators=node.decorators + added) if added else node)
    return replace(graph, steps=tuple(steps), _index={})
