"""Checks on a parsed flow. Each returns ``Problem``s; none raises.

Every check runs, so one ``orch check`` shows every problem in the flow,
each as ``FILE:LINE: what is wrong. How to fix it.`` Checks that need a
sound structure (a start step, known transitions) skip what they cannot
judge rather than repeat another check's complaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from .model import RESERVED_NAMES, Graph, Problem, StepType
from .parse import ClassFacts, StepFacts

_STEP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_STEP_NAMES = RESERVED_NAMES
# Parameter names that would collide with options of `orch run` / `orch resume`.
RESERVED_PARAMETER_NAMES = frozenset(
    {
        "debug",
        "executor",
        "help",
        "max-num-splits",
        "max-workers",
        "max_num_splits",
        "max_workers",
        "origin-run-id",
        "origin_run_id",
        "params",
        "run-id",
        "run-id-file",
        "run_id",
        "run_id_file",
        "store",
        "tag",
        "tags",
        "with",
        "namespace",
        "version",
    }
)
_SPLITS = (StepType.SPLIT, StepType.FOREACH)


@dataclass(frozen=True)
class LintContext:
    graph: Graph
    facts: Mapping[str, StepFacts]  # by step name, inherited steps included
    cls: ClassFacts

    def problem(self, line: int, message: str, hint: str = "") -> Problem:
        return Problem(self.graph.file, line or self.graph.line, message, hint)


Check = Callable[[LintContext], Iterable[Problem]]


def check_step_names(ctx: LintContext) -> Iterator[Problem]:
    for node in ctx.graph:
        if node.name in RESERVED_STEP_NAMES:
            yield ctx.problem(
                node.line, "Step name '%s' is reserved by FlowSpec." % node.name, "Choose another name for the step."
            )
        elif not _STEP_NAME.match(node.name):
            yield ctx.problem(
                node.line,
                "Step name '%s' is invalid." % node.name,
                "Use lowercase letters, digits and underscores, starting with a letter.",
            )


def check_start_and_end(ctx: LintContext) -> Iterator[Problem]:
    for name, example in (("start", "def start(self):"), ("end", "def end(self):")):
        if name not in ctx.graph:
            yield ctx.problem(
                ctx.graph.line,
                "Flow %s has no '%s' step." % (ctx.graph.name, name),
                "Add a step '@step %s'." % example,
            )


def check_arguments(ctx: LintContext) -> Iterator[Problem]:
    for node in ctx.graph:
        facts = ctx.facts[node.name]
        if not facts.args:
            yield ctx.problem(
                node.line,
                "Step '%s' is missing the 'self' argument." % node.name,
                "Declare it as 'def %s(self):'." % node.name,
            )
        elif len(facts.args) > 2 or facts.has_varargs:
            yield ctx.problem(
                node.line,
                "Step '%s' has too many arguments." % node.name,
                "Steps take only 'self'; join steps take 'self' and 'inputs'.",
            )
        elif node.type is StepType.JOIN and facts.tail and (len(facts.tail.targets) > 1 or facts.tail.foreach):
            yield ctx.problem(
                node.line,
                "Step '%s' is both a join (it takes inputs) and a split (it transitions to several steps)." % node.name,
                "Add a new step so that the join and the split are separate steps.",
            )
        elif len(facts.args) == 2 and node.name in ("start", "end"):
            yield ctx.problem(
                node.line,
                "The %s step cannot be a join: it must not take '%s'." % (node.name, facts.args[1]),
                "Declare it as 'def %s(self):'%s."
                % (node.name, " and add a join step before it" if node.name == "end" else ""),
            )


def check_transitions(ctx: LintContext) -> Iterator[Problem]:
    for node in ctx.graph:
        facts = ctx.facts[node.name]
        tail = facts.tail
        if node.name == "end":
            for line in ((tail.line,) if tail else ()) + facts.stray_next_lines:
                yield ctx.problem(line, "The end step must not call self.next().", "Remove the call.")
            continue
        for line in facts.stray_next_lines:
            yield ctx.problem(
                line,
                "Step '%s' calls self.next() before its last statement." % node.name,
                "A step ends with exactly one self.next(); make it the last line and remove the others.",
            )
        if tail is None:
            if not facts.stray_next_lines:
                yield ctx.problem(
                    node.line,
                    "Step '%s' is missing a self.next() transition to the next step." % node.name,
                    "Add a self.next() as the last line in the function.",
                )
            continue
        yield from _check_next_call(ctx, node.name, tail)


def _check_next_call(ctx: LintContext, name: str, tail) -> Iterator[Problem]:
    if tail.bad_args:
        yield ctx.problem(
            tail.line,
            "Step '%s' passes %s to self.next(); it takes steps." % (name, ", ".join(tail.bad_args)),
            "Write the target as an attribute of self, e.g. self.next(self.%s)." % _guess_target(tail.bad_args[0]),
        )
    elif not tail.targets and tail.switch is None:
        yield ctx.problem(
            tail.line,
            "Step '%s' calls self.next() with no step." % name,
            "Name the next step, e.g. self.next(self.end).",
        )
    for keyword in tail.bad_keywords:
        yield ctx.problem(
            tail.line,
            "self.next() in step '%s' got an unknown argument '%s'." % (name, keyword),
            "self.next() takes steps and an optional foreach='artifact_name' or num_parallel=N, "
            "or a dict of steps and condition='artifact_name'.",
        )
    yield from _check_switch(ctx, name, tail)
    if tail.foreach_bad is not None:
        yield ctx.problem(
            tail.line,
            "Step '%s' gives foreach=%s; foreach must name an artifact as a string." % (name, tail.foreach_bad),
            "Store the list in an artifact and name it, e.g. self.items = [...]; "
            "self.next(self.%s, foreach='items')." % (tail.targets[0] if tail.targets else "step"),
        )
    foreach_given = tail.foreach is not None or tail.foreach_bad is not None or tail.num_parallel is not None
    if foreach_given and len(tail.targets) != 1:
        yield ctx.problem(
            tail.line,
            "Step '%s' is a foreach with %d target steps; a foreach fans out to exactly one."
            % (name, len(tail.targets)),
            "Write self.next(self.step, foreach='items').",
        )
    if tail.foreach is not None and not tail.foreach.isidentifier():
        yield ctx.problem(
            tail.line,
            "foreach='%s' in step '%s' is not an artifact name." % (tail.foreach, name),
            "Name an artifact set in this step, e.g. foreach='items'.",
        )


def _check_switch(ctx: LintContext, name: str, tail) -> Iterator[Problem]:
    """A switch: ``self.next({"case": self.step, ...}, condition="artifact")``."""
    example = 'self.next({"a": self.step_a, "b": self.step_b}, condition="mode")'
    if tail.switch is None:
        if tail.condition is not None or tail.condition_bad is not None:
            yield ctx.problem(
                tail.line,
                "Step '%s' gives condition= but not a dict of cases to self.next()." % name,
                "Write the cases as a dict: %s." % example,
            )
        return
    if tail.condition is None and tail.condition_bad is None:
        yield ctx.problem(
            tail.line,
            "Step '%s' passes a dict of steps to self.next() without condition=." % name,
            "Name the artifact whose value picks the step: %s." % example,
        )
    if tail.condition_bad is not None:
        yield ctx.problem(
            tail.line,
            "Step '%s' gives condition=%s; the condition must name an artifact as a string."
            % (name, tail.condition_bad),
            "Store the value in an artifact and name it, e.g. self.mode = ...; %s." % example,
        )
    elif tail.condition is not None and not tail.condition.isidentifier():
        yield ctx.problem(
            tail.line, "condition='%s' in step '%s' is not an artifact name." % (tail.condition, name), example
        )
    for bad in tail.switch_bad:
        yield ctx.problem(
            tail.line,
            "Switch step '%s' has a case that is not a step: %s." % (name, bad),
            "Each case maps a value to a step of the flow, e.g. %s." % example,
        )
    if len(set(step for _, step in tail.switch)) + len(tail.switch_bad) < 2:
        yield ctx.problem(
            tail.line,
            "Step '%s' is a switch split but defines %d transition(s). Switch splits must define at least 2."
            % (name, len(tail.switch) + len(tail.switch_bad)),
            "Add another case, or use self.next(self.step) for a single transition.",
        )
    if tail.foreach is not None or tail.foreach_bad is not None or tail.num_parallel is not None:
        yield ctx.problem(
            tail.line,
            "Step '%s' combines a switch with foreach= or num_parallel=." % name,
            "Switch in one step and fan out in the step it leads to.",
        )


def _guess_target(source: str) -> str:
    word = re.sub(r"[^A-Za-z0-9_]", "", source.split(".")[-1])
    return word or "step_name"


def check_unknown_transitions(ctx: LintContext) -> Iterator[Problem]:
    steps = [n.name for n in ctx.graph]
    for node in ctx.graph:
        for target in node.out:
            if target in ctx.graph:
                continue
            if target in ctx.cls.other_methods:
                hint = "Method '%s' exists but is not a step: add @step above it." % target
            else:
                import difflib  # only for a typo, to suggest the step meant

                close = difflib.get_close_matches(target, steps, n=1)
                hint = "Did you mean self.%s?" % close[0] if close else "Define it as a @step method."
            yield ctx.problem(
                node.next_line, "Step '%s' transitions to an unknown step '%s'." % (node.name, target), hint
            )


def check_cycles(ctx: LintContext) -> Iterator[Problem]:
    graph = ctx.graph
    reported: set[frozenset] = set()
    state: dict[str, int] = {}  # 1 on the DFS path, 2 finished

    def visit(name: str, path: list[str]) -> Iterator[Problem]:
        state[name] = 1
        for target in graph[name].out:
            if target not in graph or target in graph[name].loops_to:  # recursion through a switch case
                continue
            if state.get(target) == 1:
                loop = path[path.index(target) :] + [target]
                key = frozenset(loop)
                if key not in reported:
                    reported.add(key)
                    yield ctx.problem(
                        graph[name].next_line,
                        "There is a loop in your flow: %s." % "->".join(loop),
                        "Break the loop by fixing self.next() transitions.",
                    )
            elif target not in state:
                yield from visit(target, path + [target])
        state[name] = 2

    for node in graph:
        if node.name not in state:
            yield from visit(node.name, [node.name])


def _reachable(graph: Graph) -> set[str]:
    seen, todo = set(), ["start"] if "start" in graph else []
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(t for t in graph[name].out if t in graph)
    return seen


def check_orphans(ctx: LintContext) -> Iterator[Problem]:
    if "start" not in ctx.graph:
        return
    reachable = _reachable(ctx.graph)
    for node in ctx.graph:
        if node.name not in reachable:
            yield ctx.problem(
                node.line,
                "Step '%s' is unreachable from the start step." % node.name,
                "Add self.next(self.%s) in another step or remove '%s'." % (node.name, node.name),
            )


def _after_switch(graph: Graph) -> set[str]:
    """Steps a switch case leads to (directly or further on): their several incoming steps are
    alternatives, of which one runs, so they need no join."""
    seen: set[str] = set()
    todo = [t for node in graph if node.is_switch for t in node.out]
    while todo:
        name = todo.pop()
        if name in graph and name not in seen:
            seen.add(name)
            todo.extend(graph[name].out)
    return seen


def check_split_join_balance(ctx: LintContext) -> Iterator[Problem]:
    """Walk from start with a stack of open splits, as Metaflow's linter does. A switch opens none:
    each case continues on the same stack."""
    graph = ctx.graph
    if "start" not in graph:
        return
    seen: set[tuple[str, tuple]] = set()
    found: dict[tuple, Problem] = {}
    alternatives = _after_switch(graph)
    todo = [("start", ())]
    while todo:
        name, stack = todo.pop()
        if (name, stack) in seen or len(seen) > 10000:
            continue
        seen.add((name, stack))
        node = graph[name]
        if node.type in _SPLITS:
            stack = stack + (name,)
        elif node.type is StepType.END and stack:
            split = graph[stack[-1]]
            what = "foreach" if split.type is StepType.FOREACH else "split"
            found[("end", split.name)] = ctx.problem(
                split.next_line,
                "The %s at step '%s' is never joined: step end is reached first." % (what, split.name),
                "Add a join step ('def join(self, inputs):') before end.",
            )
        elif node.type is StepType.JOIN:
            if not stack:
                found[("nosplit", name)] = ctx.problem(
                    node.line,
                    "Step '%s' takes an 'inputs' argument but is not preceded by a split." % name,
                    "Remove 'inputs' if it is not a join, or split upstream with self.next(self.a, self.b).",
                )
            else:
                problem = _check_join_inputs(ctx, name, graph[stack[-1]])
                if problem is not None:
                    found.setdefault(("join", name), problem)
                stack = stack[:-1]
        elif len(node.in_funcs) > 1 and node.name != "end" and name not in alternatives:
            found[("notjoin", name)] = ctx.problem(
                node.line,
                "Step '%s' is reached from several steps (%s) but does not take 'inputs'."
                % (name, ", ".join(node.in_funcs)),
                "Declare it as 'def %s(self, inputs):' to join the branches." % name,
            )
        todo.extend((t, stack) for t in reversed(node.out) if t in graph and t not in node.loops_to)
    yield from found.values()


def _check_join_inputs(ctx: LintContext, name: str, split) -> Problem | None:
    graph = ctx.graph
    node = graph[name]
    switches = [s for s in node.in_funcs if s in graph and graph[s].is_switch]
    if switches:
        return ctx.problem(
            node.line,
            "A conditional path cannot lead directly to a join step: switch step(s) %s lead to join '%s'."
            % (", ".join(switches), name),
            "Add an unconditional step on that path before the join.",
        )
    if split.type is StepType.FOREACH and split.out and split.out[0] == name:
        return ctx.problem(
            split.next_line,
            "Step '%s' is a foreach whose target is the join '%s' itself." % (split.name, name),
            "Add at least one step between the foreach split and the join.",
        )
    # Each incoming step resolved to the branch of the split it is on (a switch in a branch gives it
    # several possible last steps), as Metaflow's linter does.
    branches = {graph[s].split_branches[-1] if graph[s].split_branches else s for s in node.in_funcs}
    if branches != set(split.out):
        return ctx.problem(
            node.line,
            "Step '%s' joins %d branch(es) (%s), but the split at step '%s' opened %d (%s)."
            % (name, len(branches), ", ".join(sorted(branches)), split.name, len(split.out), ", ".join(split.out)),
            "Make every branch of '%s' end in self.next(self.%s), and join nested splits first." % (split.name, name),
        )

    def lineage(step: str) -> tuple:
        parents = graph[step].split_parents
        return parents[:-1] if graph[step].type is StepType.JOIN else parents

    if len({lineage(s) for s in node.in_funcs}) > 1:
        return ctx.problem(
            node.line,
            "Step '%s' joins steps from unrelated splits." % name,
            "Join each split's branches in their own join step before joining further out.",
        )
    return None


def check_parallel(ctx: LintContext) -> Iterator[Problem]:
    """``num_parallel`` leads to a ``@parallel`` step, which only it may lead to, and a join follows."""
    graph = ctx.graph
    for node in graph:
        if node.num_parallel is not None:
            for target in node.out:
                if target in graph and graph[target].decorator("parallel") is None:
                    yield ctx.problem(
                        node.next_line,
                        "Step '%s' is called with self.next(num_parallel=...) but does not have a @parallel "
                        "decorator." % target,
                        "Add @parallel above @step on '%s'." % target,
                    )
        if node.decorator("parallel") is None:
            continue
        callers = [n.name for n in graph if node.name in n.out and n.num_parallel is None]
        if callers:
            yield ctx.problem(
                node.line,
                "Step '%s' has a @parallel decorator, but is not called with self.next(num_parallel=...) "
                "from step '%s'." % (node.name, callers[0]),
                "Write self.next(self.%s, num_parallel=N) in '%s'." % (node.name, callers[0]),
            )
        if node.is_switch or (node.out and node.out[0] in graph and graph[node.out[0]].type is not StepType.JOIN):
            yield ctx.problem(
                node.line,
                "A @parallel step should be followed by a join step; step '%s' is not." % (node.out or ("?",))[0],
                "Make the step after '%s' a join: 'def %s(self, inputs):'." % (node.name, (node.out or ("join",))[0]),
            )


def check_parameters(ctx: LintContext) -> Iterator[Problem]:
    steps = {n.name for n in ctx.graph}
    # From the source: a step method defined after a parameter of the same
    # name silently replaces it on the class, so the class alone cannot tell.
    for fact in ctx.cls.params:
        clash = fact.attr if fact.attr in steps else fact.name if fact.name in steps else None
        if clash:
            yield ctx.problem(
                fact.line,
                "Parameter '%s' has the same name as step '%s'." % (fact.name or fact.attr, clash),
                "Rename the parameter or the step.",
            )
    seen: dict[str, int] = {}
    lines = {p.attr: p.line for p in ctx.cls.params}
    for param in ctx.graph.parameters:
        line = lines.get(param.attr, param.line)
        if param.name in RESERVED_PARAMETER_NAMES:
            yield ctx.problem(
                line,
                "Parameter name '%s' is reserved: it is an option of orch run." % param.name,
                "Choose another name, e.g. '%s_value'." % param.name.replace("-", "_"),
            )
        if param.attr in RESERVED_STEP_NAMES:
            yield ctx.problem(
                line, "Parameter attribute '%s' is reserved by FlowSpec." % param.attr, "Rename the attribute."
            )
        if param.name in seen:
            yield ctx.problem(
                line,
                "Parameter name '%s' is used twice (also at line %d)." % (param.name, seen[param.name]),
                "Give each parameter its own name.",
            )
        seen.setdefault(param.name, line)


def check_environments(ctx: LintContext) -> Iterator[Problem]:
    names = {d.NAME for d in ctx.graph.flow_decorators}
    if {"conda_base", "pypi_base"} <= names:
        yield ctx.problem(
            ctx.graph.line,
            "Flow %s uses both @conda_base and @pypi_base." % ctx.graph.name,
            "Choose one environment kind for the flow.",
        )
    for node in ctx.graph:
        kinds = {d.NAME for d in node.decorators}
        if {"conda", "pypi"} <= kinds:
            yield ctx.problem(
                node.line,
                "Step '%s' uses both @conda and @pypi." % node.name,
                "Choose one: @conda can list pip packages too, @pypi alone installs from PyPI.",
            )


def check_catch_placement(ctx: LintContext) -> Iterator[Problem]:
    """As Metaflow: @catch cannot carry a foreach split on, since the list to fan out over is unknown."""
    for node in ctx.graph:
        if node.type is StepType.FOREACH and node.decorator("catch") is not None:
            yield ctx.problem(
                node.line,
                "@catch is defined for the step '%s' but @catch is not supported in foreach split steps." % node.name,
                "Move the code that may fail into the steps the foreach runs, and put @catch there.",
            )


def check_duplicates(ctx: LintContext) -> Iterator[Problem]:
    for name, line in ctx.cls.duplicate_steps:
        yield ctx.problem(
            line,
            "Step '%s' is defined twice; the later definition replaces the first." % name,
            "Rename or remove one of them.",
        )


CHECKS: tuple[Check, ...] = (
    check_step_names,
    check_start_and_end,
    check_arguments,
    check_transitions,
    check_unknown_transitions,
    check_cycles,
    check_orphans,
    check_split_join_balance,
    check_parallel,
    check_parameters,
    check_environments,
    check_catch_placement,
    check_duplicates,
)


def lint(graph: Graph, facts: Mapping[str, StepFacts], cls: ClassFacts) -> list[Problem]:
    """Every problem found by every check, ordered by line."""
    ctx = LintContext(graph, facts, cls)
    problems = [p for check in CHECKS for p in check(ctx)]
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.message))
