"""The live console's table and the planner's join bookkeeping, without running anything."""

from __future__ import annotations

import io

from rich.console import Console

from orchestrator.authoring.loader import load_flow
from orchestrator.executors.base import TaskResult, TaskState
from orchestrator.plan import Finished, Planner
from orchestrator.runtime.console import PlainConsole, RichConsole
from orchestrator.task.spec import TaskSpec
from tests.conftest import FLOWS, rel


def _spec(step: str, task_id: str) -> TaskSpec:
    return TaskSpec("F", "7", step, task_id, 0, "/s", "/c", "f.py")


def test_rich_console_counts_tasks(in_root):
    graph = load_flow(rel(FLOWS / "good" / "foreach.py")).graph
    console = RichConsole(graph, "ForeachFlow/7")
    try:
        console.task_started(_spec("start", "1"))
        console.task_finished(_spec("start", "1"), TaskResult("h", TaskState.SUCCEEDED, 0), "")
        for i in range(3):
            console.task_started(_spec("square", str(i + 2)))
        console.task_finished(_spec("square", "2"), TaskResult("h", TaskState.FAILED, 1, "boom"), "retrying")
        console.task_cloned("square", "x")
        out = io.StringIO()
        Console(file=out, width=100).print(console._render())
    finally:
        console.close()
    text = out.getvalue()
    assert "run ForeachFlow/7" in text
    square = next(line for line in text.splitlines() if "square" in line)
    assert square.split("│")[2].strip() == "0" and square.split("│")[3].strip() == "2"
    assert square.split("│")[5].strip() == "1"


def test_plain_console_lines():
    graph = load_flow(str(FLOWS / "good" / "linear.py")).graph
    out, err = io.StringIO(), io.StringIO()
    console = PlainConsole(graph, "L/1", out=out, err=err)
    console.task_started(_spec("a", "2"))
    console.log("7/a/2", "stdout", "hello")
    console.task_finished(
        _spec("a", "2"), TaskResult("h", TaskState.TIMED_OUT, None, "timed out after 1 seconds"), False
    )
    assert out.getvalue().splitlines() == ["[7/a/2] started", "[7/a/2] hello"]
    assert err.getvalue().strip() == "[7/a/2] failed (timed_out): timed out after 1 seconds"


def test_planner_fans_out_and_joins_once():
    graph = load_flow(str(FLOWS / "good" / "nested_foreach.py")).graph
    planner = Planner(graph)
    (start,) = planner.start()
    outer = planner.on_success(Finished("start", "start/1/0", (), 2))
    assert [p.foreach_stack for p in outer] == [(("start", "rows", 0, 2),), (("start", "rows", 1, 2),)]
    inner = planner.on_success(Finished("outer", "outer/2/0", outer[0].foreach_stack, 3))
    assert len(inner) == 3 and inner[2].foreach_stack[-1] == ("outer", "cols", 2, 3)
    ready = []
    for i, task in enumerate(reversed(inner)):  # finishing out of order
        ready += planner.on_success(Finished("inner", "inner/%d/0" % i, task.foreach_stack))
    (join,) = ready
    assert join.step == "inner_join" and join.foreach_stack == outer[0].foreach_stack
    assert join.inputs == ("inner/2/0", "inner/1/0", "inner/0/0")  # ordered by foreach index
