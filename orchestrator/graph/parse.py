"""Read facts about flow classes off their source, with ``ast``.

This module records what the source says and never judges it: a step with
no ``self.next()``, a foreach over a non-string, a syntax error, all become
facts. ``lint`` turns facts into problems, so every problem in a flow can be
reported at once. Pure functions of source text; no imports of user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class NextFacts:
    """The ``self.next(...)`` call that ends a step."""

    line: int
    targets: tuple[str, ...]  # names from self.<name> arguments
    bad_args: tuple[str, ...]  # source of arguments that are not self.<name>
    foreach: Optional[str] = None  # the literal string given as foreach=
    foreach_bad: Optional[str] = None  # source of a foreach= that is not a string literal
    bad_keywords: tuple[str, ...] = ()
    # a switch: self.next({"case": self.step, ...}, condition="attr")
    switch: Optional[tuple[tuple[str, str], ...]] = None  # (case as written, step) in source order
    switch_bad: tuple[str, ...] = ()  # source of cases whose value is not self.<step>
    condition: Optional[str] = None  # the literal string given as condition=
    condition_bad: Optional[str] = None  # source of a condition= that is not a string literal
    num_parallel: Optional[str] = None  # source of num_parallel=, for @parallel


@dataclass(frozen=True)
class StepFacts:
    name: str
    line: int  # the def line
    args: tuple[str, ...]  # positional parameter names, self included
    has_varargs: bool
    doc: str
    decorators: tuple[str, ...]  # decorator names as written (last dotted part)
    tail: Optional[NextFacts]  # None when the last statement is not self.next(...)
    stray_next_lines: tuple[int, ...]  # self.next() calls anywhere but the last statement


@dataclass(frozen=True)
class ParamFacts:
    attr: str
    line: int
    kind: str  # 'Parameter' or 'IncludeFile'
    name: Optional[str]  # the literal first argument, if it is one


@dataclass(frozen=True)
class ClassFacts:
    name: str
    line: int
    bases: tuple[str, ...]  # dotted names as written
    doc: str
    steps: tuple[StepFacts, ...]
    params: tuple[ParamFacts, ...]
    decorators: tuple[str, ...]
    other_methods: tuple[str, ...]  # methods without @step, for "did you forget @step?" hints
    duplicate_steps: tuple[tuple[str, int], ...]  # (name, line) of a redefined step

    @property
    def looks_like_flow(self) -> bool:
        """True when the source says it is a flow: a FlowSpec base, or @step methods."""
        return any(b.split(".")[-1] == "FlowSpec" for b in self.bases) or bool(self.steps)


@dataclass(frozen=True)
class ModuleFacts:
    file: str
    classes: tuple[ClassFacts, ...]
    syntax_error: Optional[tuple[int, str]] = None

    def find(self, name: str) -> Optional[ClassFacts]:
        return next((c for c in self.classes if c.name == name), None)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return "%s.%s" % (_dotted(node.value), node.attr)
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ast.unparse(node) if hasattr(ast, "unparse") else "?"


def _decorator_name(node: ast.AST) -> str:
    return _dotted(node).split(".")[-1]


def _is_self_next(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "next"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    )


def _next_facts(call: ast.Call) -> NextFacts:
    targets, bad = [], []
    switch = None
    switch_bad: list[str] = []
    args = list(call.args)
    if len(args) == 1 and isinstance(args[0], ast.Dict):
        switch, switch_bad = _switch_cases(args[0])
        targets = list(dict.fromkeys(step for _, step in switch))
        args = []
    for arg in args:
        if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
            targets.append(arg.attr)
        else:
            bad.append(ast.unparse(arg))
    foreach = foreach_bad = condition = condition_bad = num_parallel = None
    bad_keywords = []
    for keyword in call.keywords:
        value = keyword.value
        literal = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
        if keyword.arg == "foreach":
            foreach, foreach_bad = literal, None if literal is not None else ast.unparse(value)
        elif keyword.arg == "condition":
            condition, condition_bad = literal, None if literal is not None else ast.unparse(value)
        elif keyword.arg == "num_parallel":
            num_parallel = ast.unparse(value)
        else:
            bad_keywords.append(keyword.arg or "**")
    return NextFacts(
        call.lineno,
        tuple(targets),
        tuple(bad),
        foreach,
        foreach_bad,
        tuple(bad_keywords),
        tuple(switch) if switch is not None else None,
        tuple(switch_bad),
        condition,
        condition_bad,
        num_parallel,
    )


def _switch_cases(node: ast.Dict) -> tuple[list[tuple[str, str]], list[str]]:
    """The cases of a switch dict as (key source, step name), and the sources of bad values."""
    cases, bad = [], []
    for key, value in zip(node.keys, node.values):
        key_text = ast.unparse(key) if key is not None else "**"
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
            cases.append((key_text, value.attr))
        else:
            bad.append("%s: %s" % (key_text, ast.unparse(value)))
    return cases, bad


def _step_facts(func: ast.FunctionDef) -> StepFacts:
    body = func.body
    last = body[-1] if body else None
    tail = None
    if isinstance(last, ast.Expr) and _is_self_next(last.value):
        tail = _next_facts(last.value)
    stray = sorted(
        node.lineno for node in ast.walk(func) if _is_self_next(node) and (tail is None or node is not last.value)
    )
    positional = [a.arg for a in func.args.posonlyargs + func.args.args]
    return StepFacts(
        name=func.name,
        line=func.lineno,
        args=tuple(positional),
        has_varargs=func.args.vararg is not None,
        doc=(ast.get_docstring(func) or "").strip(),
        decorators=tuple(_decorator_name(d) for d in func.decorator_list),
        tail=tail,
        stray_next_lines=tuple(stray),
    )


def _param_facts(stmt: ast.stmt) -> Optional[ParamFacts]:
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return None
    target, value = stmt.targets[0], stmt.value
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
        return None
    kind = _dotted(value.func).split(".")[-1]
    if kind not in ("Parameter", "IncludeFile"):
        return None
    name = None
    if value.args and isinstance(value.args[0], ast.Constant) and isinstance(value.args[0].value, str):
        name = value.args[0].value
    for keyword in value.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            name = keyword.value.value
    return ParamFacts(target.id, stmt.lineno, kind, name)


def _class_facts(node: ast.ClassDef) -> ClassFacts:
    steps: dict[str, StepFacts] = {}
    duplicates, params, others = [], [], []
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if "step" in (_decorator_name(d) for d in stmt.decorator_list):
                if stmt.name in steps:
                    duplicates.append((stmt.name, stmt.lineno))
                steps[stmt.name] = _step_facts(stmt)
            else:
                others.append(stmt.name)
        else:
            param = _param_facts(stmt)
            if param is not None:
                params.append(param)
    return ClassFacts(
        name=node.name,
        line=node.lineno,
        bases=tuple(_dotted(b) for b in node.bases),
        doc=(ast.get_docstring(node) or "").strip(),
        steps=tuple(steps.values()),
        params=tuple(params),
        decorators=tuple(_decorator_name(d) for d in node.decorator_list),
        other_methods=tuple(others),
        duplicate_steps=tuple(duplicates),
    )


def parse_module(source: str, file: str) -> ModuleFacts:
    """Facts about every top-level class of a module's source."""
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as err:
        return ModuleFacts(file, (), (err.lineno or 1, err.msg or "invalid syntax"))
    classes = tuple(_class_facts(n) for n in tree.body if isinstance(n, ast.ClassDef))
    return ModuleFacts(file, classes)
