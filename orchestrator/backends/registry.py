"""The one table of backends and plugin decorators: orch's own, then those installed packages add.

orch's backends are listed in ``BUILTIN``. A package adds one by declaring
an entry point in the ``orch.backends`` group whose object is a ``Backend``
descriptor, and a step or flow decorator by one in ``orch.decorators``
whose object is a ``decorator_specs.Decorator`` subclass. They are read
once per process, and only when a name is not one of orch's own: reading
every installed package's entry points costs tens of milliseconds, which a
run that uses only orch's backends never pays. A plugin that fails to load
is reported by name, with the package it came from, instead of failing
later somewhere else. Everything else in orch asks this module which
backends exist and where each step runs.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ..authoring.decorator_specs import FLOW_DECORATORS, STEP_DECORATORS, Decorator
from ..errors import OrchError, UsageError
from .batch.decorator import Batch
from .batch.descriptor import BACKEND as BATCH
from .spec import NAME, Backend

LOCAL = Backend(
    name="local",
    summary="each task a process on this machine, in its step's own host environment",
    prepare="orchestrator.executors.local:prepare",
)
DOCKER = Backend(
    name="docker",
    summary="each task a hardened container of its step's image on this machine's Docker engine",
    prepare="orchestrator.executors.docker:prepare",
)
BUILTIN: Tuple[Backend, ...] = (LOCAL, DOCKER, BATCH)
BUILTIN_DECORATORS: Tuple[type, ...] = (Batch,)  # the backends' own step decorators

BACKEND_GROUP = "orch.backends"
DECORATOR_GROUP = "orch.decorators"


class PluginError(OrchError):
    """An installed orch plugin cannot be loaded, or clashes with another."""


def _entry_points(group: str) -> List[Any]:
    from importlib.metadata import entry_points

    found = entry_points()
    if hasattr(found, "select"):
        return sorted(found.select(group=group), key=lambda e: e.name)
    return sorted(found.get(group, []), key=lambda e: e.name)  # Python 3.8 and 3.9


def _load(entry: Any, group: str, kind: type) -> Any:
    """The object an entry point names, checked to be a ``kind``; a clear error otherwise."""
    source = getattr(getattr(entry, "dist", None), "name", None) or entry.value
    try:
        loaded = entry.load()
    except Exception as err:
        why = "%s: %s" % (type(err).__name__, err)
        raise PluginError(
            "The %s plugin '%s' (from %s) failed to load: %s" % (group, entry.name, source, why),
            "Fix or uninstall %s." % source,
        ) from None
    if not (isinstance(loaded, kind) or (isinstance(loaded, type) and issubclass(loaded, kind))):
        raise PluginError(
            "The %s plugin '%s' (from %s) is a %s, not a %s."
            % (group, entry.name, source, type(loaded).__name__, kind.__name__),
            "Point its entry point at a %s." % kind.__name__,
        )
    return loaded


@functools.lru_cache(maxsize=None)
def backends() -> Tuple[Backend, ...]:
    """Every backend: orch's own first, then the installed plugins' in name order."""
    found = list(BUILTIN)
    for entry in _entry_points(BACKEND_GROUP):
        backend = _load(entry, BACKEND_GROUP, Backend)
        if any(b.name == backend.name for b in found):
            raise PluginError("Two orch backends are named '%s'." % backend.name, "Uninstall one of their packages.")
        found.append(backend)
    return tuple(found)


@functools.lru_cache(maxsize=None)
def _plugin_decorators() -> Tuple[type, ...]:
    found = []
    for entry in _entry_points(DECORATOR_GROUP):
        spec = _load(entry, DECORATOR_GROUP, Decorator)
        if not NAME.match(spec.NAME or ""):
            raise PluginError("The decorator plugin '%s' has no valid NAME (%r)." % (entry.name, spec.NAME))
        found.append(spec)
    return tuple(found)


def step_decorator(name: str) -> Optional[type]:
    """The spec class of the step decorator called ``name``: orch's own, else a plugin's, else None."""
    return OWN_STEP_DECORATORS[name] if name in OWN_STEP_DECORATORS else step_decorators().get(name)


def plugin_decorator(name: str) -> Optional[type]:
    """The spec class a plugin registers as step or flow decorator ``name``; None for orch's own names."""
    if name in OWN_STEP_DECORATORS or name in FLOW_DECORATORS:
        return None
    return dict(step_decorators(), **flow_decorators()).get(name)


def step_decorators() -> Dict[str, type]:
    """Step decorator name → spec class, orch's own and the plugins'."""
    return _merged(STEP_DECORATORS, list(BUILTIN_DECORATORS) + [d for d in _plugin_decorators() if not d.IS_FLOW])


def flow_decorators() -> Dict[str, type]:
    """Flow decorator name → spec class, orch's own and the plugins'."""
    return _merged(FLOW_DECORATORS, [d for d in _plugin_decorators() if d.IS_FLOW])


def _merged(own: Mapping[str, type], more: Iterable[type]) -> Dict[str, type]:
    table = dict(own)
    for spec in more:
        if spec.NAME in table and table[spec.NAME] is not spec:
            raise PluginError("Two decorators are named '@%s'." % spec.NAME, "Uninstall one of their packages.")
        table[spec.NAME] = spec
    return table


OWN_STEP_DECORATORS = _merged(STEP_DECORATORS, BUILTIN_DECORATORS)  # orch's own, the backends' included


def get(name: str) -> Backend:
    """The backend called ``name``; a usage error listing the others when there is none."""
    for backend in BUILTIN + (() if any(b.name == name for b in BUILTIN) else backends()):
        if backend.name == name:
            return backend
    raise UsageError(
        "There is no backend named '%s'." % name, "Choose one of: %s." % ", ".join(b.name for b in backends())
    )


def here_choices(builtin: bool = False) -> Tuple[str, ...]:
    """What ``--executor`` may name: the backends on this machine that no step decorator selects
    (``builtin``: orch's own only, without reading the plugins)."""
    return tuple(b.name for b in (BUILTIN if builtin else backends()) if b.on_this_machine and b.decorator is None)


def placed(graph: Any) -> Dict[str, Backend]:
    """step → the backend its decorator places it on (``@batch``...), for the steps that carry one."""
    by_decorator = {b.decorator: b for b in BUILTIN if b.decorator}
    if any(d.NAME not in OWN_STEP_DECORATORS for node in graph for d in node.decorators):  # a plugin's is used
        by_decorator.update({b.decorator: b for b in backends() if b.decorator})
    found = {}
    for node in graph:
        chosen = [by_decorator[d.NAME] for d in node.decorators if d.NAME in by_decorator]
        if len(chosen) > 1:
            raise UsageError(
                "Step '%s' is placed on two backends (@%s and @%s)."
                % (node.name, chosen[0].decorator, chosen[1].decorator),
                "Keep one of the decorators.",
            )
        if chosen:
            found[node.name] = chosen[0]
    return found


def step_targets(graph: Any, here: Backend) -> Dict[str, Backend]:
    """Each step's backend: the one its decorator names (``--with batch`` adds ``@batch`` to every
    step), else ``here``, the run's backend on this machine."""
    chosen = placed(graph)
    return {node.name: chosen.get(node.name, here) for node in graph}


def in_use(targets: Mapping[str, Backend]) -> List[Backend]:
    """The distinct backends of a run, this machine's first: they are set up and named in that order."""
    return sorted(dict.fromkeys(targets.values()), key=lambda b: not b.on_this_machine)


def run_label(targets: Mapping[str, Backend]) -> str:
    """What the run record calls its executor: local, docker, batch, or e.g. local+batch."""
    return "+".join(b.name for b in in_use(targets))
