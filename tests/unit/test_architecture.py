"""Budgets the architecture keeps: no import cycle, layers that import only downwards, no use of another
module's private names, no module over 600 lines, and backends known only through their registry.

Imports are read from the source (every ``import`` and ``from ... import``,
at module level or inside functions, since a lazy import still ties two
modules together). The one allowed edge is the documented one by which
``FlowSpec()`` under ``__main__`` starts the CLI.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

from tests.conftest import ROOT

PACKAGE = ROOT / "orchestrator"
ALLOWED_EDGES = {("orchestrator.authoring.flowspec", "orchestrator.cli.flow_entry")}
MAX_LINES = 600
MAX_LOOSE = 12  # modules at orchestrator/'s root besides __init__ and __main__: the rest live in layers


def _modules() -> Dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _import_statements(name: str, path: Path) -> List[Tuple[str, List[str]]]:
    """(module, names imported from it) of every import, at module level or inside functions (a lazy
    import still ties two modules together); relative ones resolved against the package."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: List[Tuple[str, List[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            found.append((".".join(base + ([node.module] if node.module else [])), [a.name for a in node.names]))
    return found


def _imports(name: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    targets: Set[str] = set()
    for module, names in _import_statements(name, path):
        targets.add(module)
        targets.update("%s.%s" % (module, imported) for imported in names)
    return {t for t in targets if t in modules and t != name and (name, t) not in ALLOWED_EDGES}


def import_graph() -> Dict[str, Set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_orch_modules():
    graph = import_graph()
    assert "orchestrator.cli.flow_entry" in graph and graph["orchestrator.runtime.launch"]  # it read them
    assert cycles(graph) == []


def test_no_module_is_over_the_line_budget():
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# (importer prefix, imported prefixes it must never reach): data flows one way, and what runs in a task
# container (task/, store/, the authoring layer) never loads the orchestrating side.
ORCHESTRATING = ("orchestrator.runtime", "orchestrator.executors", "orchestrator.cli", "orchestrator.ui")
LAYERS = [
    ("orchestrator.task", ORCHESTRATING + ("orchestrator.client", "orchestrator.runner")),
    ("orchestrator.store", ORCHESTRATING + ("orchestrator.task", "orchestrator.client", "orchestrator.backends")),
    ("orchestrator.graph", ORCHESTRATING + ("orchestrator.task", "orchestrator.store")),
    ("orchestrator.plan", ORCHESTRATING + ("orchestrator.task", "orchestrator.store")),
    ("orchestrator.backends.spec", ("orchestrator.",)),
    ("orchestrator.executors", ("orchestrator.runtime", "orchestrator.cli", "orchestrator.ui")),
    ("orchestrator.runtime", ("orchestrator.cli", "orchestrator.ui")),
    ("orchestrator.authoring", ORCHESTRATING + ("orchestrator.client", "orchestrator.runner")),
]
ALLOWED_LAYER_EDGES = {
    ("orchestrator.authoring.flowspec", "orchestrator.cli.flow_entry"),  # FlowSpec() under __main__ starts the CLI
    ("orchestrator.authoring.current", "orchestrator.client"),  # current.run and current.task, lazily
    ("orchestrator.authoring.current", "orchestrator.client.triggered"),  # current.trigger, lazily
}
# Who may name Batch's modules: its own, the registry that lists it, the decorators orch exports, and the
# Step Functions deployer, whose every step is a Batch job.
BATCH = "orchestrator.backends.batch"
BATCH_NAMERS = {"orchestrator.backends.registry", "orchestrator.authoring.decorators"}
BATCH_NAMERS |= {"orchestrator.deployers.step_functions." + m for m in ("deploy", "machines", "publish")}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".") or (prefix.endswith(".") and module.startswith(prefix))


def test_layers_import_only_downwards():
    graph = import_graph()
    wrong = sorted(
        (importer, target)
        for importer, targets in graph.items()
        for layer, banned in LAYERS
        if _under(importer, layer)
        for target in targets
        if any(_under(target, b) for b in banned) and (importer, target) not in ALLOWED_LAYER_EDGES
    )
    assert wrong == []


def test_the_layer_rule_sees_a_violation():
    banned = dict(LAYERS)["orchestrator.task"]
    assert any(_under("orchestrator.runtime.scheduler", b) for b in banned)
    assert not any(_under("orchestrator.store.records", b) for b in banned)


def test_batch_is_named_only_by_its_registry_and_exports():
    graph = import_graph()
    namers = {m for m, targets in graph.items() if not _under(m, BATCH) and any(_under(t, BATCH) for t in targets)}
    assert namers <= BATCH_NAMERS


SLURM = "orchestrator.backends.slurm"


def test_slurm_is_a_plugin_no_other_module_names():
    """orch's Slurm backend is found through its entry points (pyproject.toml), as a third party's is."""
    graph = import_graph()
    namers = {m for m, targets in graph.items() if not _under(m, SLURM) and any(_under(t, SLURM) for t in targets)}
    assert namers == set()
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'slurm = "orchestrator.backends.slurm.descriptor:BACKEND"' in pyproject
    assert 'slurm = "orchestrator.backends.slurm.decorator:Slurm"' in pyproject


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    found = sorted(
        (name, module, imported)
        for name, path in modules.items()
        for module, names in _import_statements(name, path)
        for imported in names
        if imported.startswith("_") and not imported.startswith("__") and module != name
    )
    assert found == []


def test_every_relative_import_names_a_module_that_exists():
    """A module moved without its lazy imports fixed fails here, not in a user's Batch job."""
    modules = _modules()
    missing = sorted(
        (name, module)
        for name, path in modules.items()
        for module, names in _import_statements(name, path)
        if module.startswith("orchestrator") and module not in modules
        and not all("%s.%s" % (module, n) in modules for n in names)
    )  # fmt: skip
    assert missing == []


def test_at_most_a_dozen_loose_modules_at_the_package_root():
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(loose) <= MAX_LOOSE, loose


PATHSPEC_BY_HAND = re.compile(r"""["']%s/%s/%s/%s|(Run|Step|Task)\(["']%s/%s""")


def test_pathspecs_are_formatted_only_in_ids():
    """Flow/run/step/task paths are built by ``ids.Pathspec`` (``run_path``, ``task_path``), not by hand."""
    found = sorted(
        "%s:%d" % (name, number)
        for name, path in _modules().items()
        if name != "orchestrator.ids"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PATHSPEC_BY_HAND.search(line)
    )
    assert found == []
