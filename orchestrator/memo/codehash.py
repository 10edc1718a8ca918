"""What code a step's result depends on: its function, and every definition of the flow's own files
that it reaches, followed transitively. Pure: it reads source files and returns digests.

A step's fingerprint hashes the AST of its function (comments and formatting
do not count, and neither do its decorators: ``@retry`` or ``@resources``
change nothing it computes) and of each module-level definition it names:
a helper it calls, the constant that helper uses, a class it builds, a
function of a module in the flow's folder it imports (``helpers.clean`` or
``from helpers import clean``), a non-step method or class constant it
reads through ``self``. Editing one step leaves the others' fingerprints
alone, and editing a helper changes only the steps that reach it. Names from
installed packages are not followed: the environment's lock covers them.
Parameters and configs are not code here: their values are read, and the
read set covers them.
"""

from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set, Tuple

_VALUES = {"Parameter", "IncludeFile", "Config"}  # class attributes whose *values* are read at run time


@dataclass(frozen=True)
class StepCode:
    """A step's code fingerprint, and the definitions it is made of (name → digest), for ``orch why``."""

    digest: str
    parts: Tuple[Tuple[str, str], ...]
    texts: Tuple[Tuple[str, str], ...] = ()  # part → its source text, for the diffs of ``orch why``


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Module:
    def __init__(self, name: str, path: str, tree: ast.Module, source: str = "") -> None:
        self.name, self.path, self.tree, self.source = name, path, tree, source
        self.defs: Dict[str, List[ast.AST]] = {}
        self.imports: Dict[str, Tuple[str, Optional[str]]] = {}  # alias → (module, attribute or None)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defs.setdefault(node.name, []).append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    for name in _target_names(target):
                        self.defs.setdefault(name, []).append(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = (alias.name, None)
                    else:
                        self.imports[alias.name.split(".")[0]] = (alias.name.split(".")[0], None)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node.module or "", node.level)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)

    def _absolute(self, module: str, level: int) -> str:
        """``from .x import y`` inside this module → the absolute name of ``.x``."""
        if not level:
            return module
        parts = self.name.split(".")
        if not self.path.endswith("__init__.py"):
            parts = parts[:-1]  # a plain module's package is its parent
        parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
        return ".".join([p for p in parts if p] + ([module] if module else []))


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for item in target.elts:
            yield from _target_names(item)


class _References(ast.NodeVisitor):
    """Name chains a piece of code reads: ``x``, ``helpers.clean``, ``self.limit``."""

    def __init__(self) -> None:
        self.chains: List[Tuple[str, ...]] = []

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = [node.attr]
        base: ast.AST = node.value
        while isinstance(base, ast.Attribute):
            parts.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name):
            self.chains.append(tuple([base.id] + parts[::-1]))
        else:
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.chains.append((node.id,))


def _chains(node: ast.AST) -> List[Tuple[str, ...]]:
    visitor = _References()
    visitor.visit(node)
    return visitor.chains


def _is_value_attribute(node: ast.AST) -> bool:
    """``alpha = Parameter(...)`` in a flow class: its value is read at run time, not code."""
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in _VALUES


def _is_step(node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    return any(
        (isinstance(d, ast.Name) and d.id == "step") or (isinstance(d, ast.Attribute) and d.attr == "step")
        for d in decorators
    )


class CodeIndex:
    """The Python files of a flow's folder, parsed on demand (a run parses each once)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._modules: Dict[str, Optional[_Module]] = {}

    def module(self, dotted: str) -> Optional[_Module]:
        if dotted not in self._modules:
            found = None
            base = os.path.join(self.root, *dotted.split("."))
            for path in (base + ".py", os.path.join(base, "__init__.py")):
                if dotted and os.path.isfile(path):
                    with open(path, "rb") as handle:
                        text = handle.read().decode("utf-8", "replace")
                    found = _Module(dotted, path, ast.parse(text, path), text)
                    break
            self._modules[dotted] = found
        return self._modules[dotted]

    def module_of(self, path: str) -> _Module:
        relative = os.path.relpath(os.path.abspath(path), self.root)
        dotted = relative[: -len(".py")].replace(os.sep, ".")
        if dotted.endswith(".__init__"):
            dotted = dotted[: -len(".__init__")]
        found = self.module(dotted)
        if found is None:
            raise FileNotFoundError(path)
        return found

    def steps(self, flow_file: str, class_name: str) -> Dict[str, StepCode]:
        """step name → its code fingerprint, for every @step method of ``class_name`` in ``flow_file``."""
        module = self.module_of(flow_file)
        flow_class = next((n for n in module.defs.get(class_name, []) if isinstance(n, ast.ClassDef)), None)
        if flow_class is None:
            return {}
        members = {}
        for node in flow_class.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                members[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not _is_value_attribute(node):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    for name in _target_names(target):
                        members[name] = node
        found = {}
        for name, node in members.items():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_step(node):
                found[name] = self._fingerprint(module, class_name, members, node)
        return found

    def _fingerprint(self, module: _Module, class_name: str, members: Dict[str, ast.AST], step: ast.AST) -> StepCode:
        bare = ast.FunctionDef(**{**step.__dict__, "decorator_list": []})  # type: ignore[arg-type]
        own = "%s.%s" % (class_name, step.name)  # type: ignore[attr-defined]
        parts: Dict[str, str] = {own: _sha(ast.dump(bare))}
        texts: Dict[str, str] = {own: ast.get_source_segment(module.source, step) or ""}
        seen: Set[Tuple[str, str]] = set()
        todo: List[Tuple[_Module, Tuple[str, ...], bool]] = [(module, c, True) for c in _chains(bare)]
        while todo:
            where, chain, in_class = todo.pop()
            for key, node, home, member in self._resolve(where, chain, in_class, members, class_name):
                if (home.name, key) in seen:
                    continue
                seen.add((home.name, key))
                parts["%s:%s" % (home.name, key)] = _sha(ast.dump(node))
                texts["%s:%s" % (home.name, key)] = ast.get_source_segment(home.source, node) or ""
                todo.extend((home, c, member) for c in _chains(node))
        digest = _sha("\n".join("%s=%s" % item for item in sorted(parts.items())))
        return StepCode(digest, tuple(sorted(parts.items())), tuple(sorted(texts.items())))

    def _resolve(
        self, module: _Module, chain: Tuple[str, ...], in_class: bool, members: Dict[str, ast.AST], class_name: str
    ) -> Iterator[Tuple[str, ast.AST, _Module, bool]]:
        """(name, definition, its module, inside the flow class) for what ``chain`` names, if it is ours."""
        first, rest = chain[0], chain[1:]
        if first == "self" and in_class and rest:
            node = members.get(rest[0])
            if node is not None and not _is_step(node):
                yield "%s.%s" % (class_name, rest[0]), node, module, True
            return
        if first in module.defs:
            for node in module.defs[first]:
                if not (isinstance(node, ast.ClassDef) and node.name == class_name):
                    yield first, node, module, False
            return
        if first not in module.imports:
            return
        target, attribute = module.imports[first]
        names = list(rest[:1])
        if attribute is not None:
            submodule = self.module("%s.%s" % (target, attribute) if target else attribute)
            if submodule is None:
                found = self.module(target)
                if found is not None:
                    yield from self._resolve(found, (attribute,), False, members, class_name)
                return
            target, found = submodule.name, submodule
        else:
            found = self.module(target)
        if found is None:
            return
        if names:
            yield from self._resolve(found, tuple(names), False, members, class_name)
        else:  # the module itself is used as a value: all of it counts
            yield "<module>", found.tree, found, False
