"""Valid flows of every shape parse to the graph their footer describes."""

from __future__ import annotations

import re

import pytest

from orchestrator.authoring.loader import load_flow
from orchestrator.graph.model import StepType
from tests.conftest import EXAMPLES, FLOWS, rel

GOOD = sorted((FLOWS / "good").glob("*.py"))
STEP_LINE = re.compile(r"^# step: (\w+) (\w+) ->\s*([\w,]*)(.*)$")


def expected_steps(path):
    found = {}
    for text in path.read_text().splitlines():
        match = STEP_LINE.match(text)
        if not match:
            continue
        name, kind, targets, rest = match.groups()
        extras = dict(item.split("=", 1) for item in rest.split())
        found[name] = {
            "type": kind,
            "out": tuple(t for t in targets.split(",") if t),
            "foreach": extras.get("foreach"),
            "parents": tuple(p for p in extras.get("parents", "").split(",") if p),
            "join": extras.get("join"),
        }
    return found


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_shape(path, in_root):
    graph = load_flow(rel(path)).graph
    want = expected_steps(path)
    assert want, "%s has no '# step:' footer" % path.name
    got = {
        node.name: {
            "type": node.type.value,
            "out": node.out,
            "foreach": node.foreach_var,
            "parents": node.split_parents,
            "join": node.matching_join,
        }
        for node in graph
    }
    assert got == want
    assert graph.steps[0].name == "start" and graph.steps[-1].name == "end"


def test_linear_article_example(in_root):
    graph = load_flow(rel(EXAMPLES / "linear_flow.py")).graph
    assert [(n.name, n.type, n.out) for n in graph] == [
        ("start", StepType.START, ("process_message",)),
        ("process_message", StepType.LINEAR, ("end",)),
        ("end", StepType.END, ()),
    ]


def test_genre_stats_article_example(in_root):
    graph = load_flow(rel(EXAMPLES / "genre_stats_flow.py")).graph
    assert [(n.name, n.type.value, n.out) for n in graph] == [
        ("start", "foreach", ("compute_statistics",)),
        ("compute_statistics", "linear", ("join",)),
        ("join", "join", ("end",)),
        ("end", "end", ()),
    ]
    assert graph["start"].foreach_var == "genres"
    assert graph["start"].matching_join == "join"
    compute = graph["compute_statistics"]
    assert compute.decorator("catch").var == "compute_failed"
    assert compute.decorator("retry").times == 1
    assert compute.doc == "Compute gross quartiles of one genre."
    (param,) = graph.parameters
    assert (param.name, param.is_file, param.type_name) == ("movie_data", True, "text file")


def test_inherited_parameters_and_steps(in_root):
    graph = load_flow(rel(FLOWS / "good" / "inherited.py")).graph
    assert graph.name == "InheritedFlow"
    assert [p.name for p in graph.parameters] == ["scale"]


def test_port_records_decorators_and_environments(in_root):
    from orchestrator.envs.spec import step_env

    graph = load_flow(rel(FLOWS / "good" / "metaflow_port.py")).graph
    start = graph["start"]
    assert [d.NAME for d in start.decorators] == ["catch", "retry", "timeout", "resources"]
    assert start.decorator("timeout").total_seconds == 300
    train_env = step_env(graph.flow_decorators, graph["train"].decorators)
    assert train_env.python == "3.10"
    assert dict(train_env.packages) == {"numpy": "1.26.4", "pandas": "1.5.3"}
    evaluate_env = step_env(graph.flow_decorators, graph["evaluate"].decorators)
    assert dict(evaluate_env.packages) == {"numpy": "1.26.4", "pandas": "2.2.2"}
    assert evaluate_env.python == "3.11"
    assert step_env(graph.flow_decorators, graph["join"].decorators) is None
    assert graph["evaluate"].decorator("batch").queue == "gpu-queue"
    assert dict(graph["evaluate"].decorator("batch").extra) == {"iam_role": "arn:aws:iam::1:role/x"}
    types = {p.name: p.type_name for p in graph.parameters}
    assert types == {
        "alpha": "float",
        "config": "JSON",
        "data": "binary file",
        "epochs": "int",
        "run-name": "str",
        "verbose": "bool",
    }
