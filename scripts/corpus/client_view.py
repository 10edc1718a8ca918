"""What a notebook sees of a flow's latest run, through either client: run under Metaflow's or orch's Python.

Usage: python client_view.py metaflow|orchestrator FLOW_NAME [--store S] [--unstable a,b]   (cwd: where it ran)

Prints one JSON document: the run's and every task's state (``successful``,
``finished``, whether ``finished_at`` is set), artifacts (private ones and
Metaflow's internal ones left out), stdout, exception, the run's user tags,
the types and ids of each task's cards, and how the client answers the questions notebooks ask of missing things
(``getattr(task.data, "x", default)``, ``hasattr(run.data, "x")``,
``run["nope"]``, ``Flow("Nope")``). Run ids, times and paths are masked, so
the two documents compare equal when the clients agree; ``--unstable``
names artifacts the flow itself makes random, shown by name only. Standard
library only besides the client under test.
"""

from __future__ import annotations

import importlib
import json
import re
import sys

MASKS = [
    (re.compile(r"\b1\d{15}\b"), "<run-id>"),  # orch's and Metaflow's local run ids
    (re.compile(r"/tmp/[^\s'\"]+"), "<path>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?\b"), "<time>"),
]


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def plain(value):
    """A value as JSON: containers recursively, a caught exception by its type and message, anything
    else by its masked ``repr``."""
    if hasattr(value, "exception") and hasattr(value, "type") and hasattr(value, "stacktrace"):
        return {"caught": type(value).__name__, "type": str(value.type).split(".")[-1], "message": value.exception}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return mask(value) if isinstance(value, str) else value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return mask(repr(value))


def error_of(call):
    """The exception classes a call raises, as names a notebook would catch it by."""
    try:
        call()
    except Exception as exc:
        kinds = [k.__name__ for k in type(exc).__mro__ if k.__name__ in CATCHABLE]
        return sorted(set(kinds))
    return None


CATCHABLE = {"KeyError", "AttributeError", "MetaflowNotFound", "MetaflowNamespaceMismatch", "Exception"}


def cards_of(library: str, task) -> list:
    try:
        get_cards = importlib.import_module(library + ".cards").get_cards
        return sorted([card.type, card.id] for card in get_cards(task))
    except Exception as exc:  # a task with no card: Metaflow raises here, and so may orch
        return [type(exc).__name__] if "NotPresent" not in type(exc).__name__ else []


def task_view(library: str, task, unstable=()) -> dict:
    exception = task.exception
    data = task.data
    return {
        "successful": task.successful,
        "finished": task.finished,
        "finished_at_set": task.finished_at is not None,
        "artifacts": {
            a.id: "<unstable>" if a.id in unstable else plain(a.data) for a in task if not a.id.startswith("_")
        },
        "cards": cards_of(library, task),
        "stdout": mask(task.stdout or "").splitlines(),
        "exception": None if exception is None else str(exception.type).split(".")[-1],
        "missing_attr_default": getattr(data, "no_such_artifact", "DEFAULT"),
        "missing_item_error": error_of(lambda: task["no_such_artifact"]),
    }


def main(library: str, flow_name: str, store: str = "", unstable=()) -> dict:
    client = importlib.import_module(library)
    if store:
        client.metadata(store)
    client.namespace(None)
    try:
        run = client.Flow(flow_name).latest_run
    except Exception:
        return {"run": None, "flow_error": error_of(lambda: client.Flow(flow_name))}
    view = {
        "run": {
            "id": run.id,
            "successful": run.successful,
            "finished": run.finished,
            "finished_at_set": run.finished_at is not None,
            "user_tags": sorted(run.user_tags),
            "data_is_none": run.data is None,
            "hasattr_missing": None if run.data is None else hasattr(run.data, "no_such_artifact"),
            "missing_step_error": error_of(lambda: run["no_such_step"]),
            "missing_flow_error": error_of(lambda: client.Flow("NoSuchFlowAnywhere")),
        },
        "steps": {},
    }
    for step in run:
        tasks = sorted(step, key=lambda t: [frame[1] for frame in _stack(t)])
        view["steps"][step.id] = [task_view(library, task, unstable) for task in tasks]
    return view


def _stack(task):
    """(step, index) of each enclosing foreach, from either client."""
    if hasattr(task, "foreach_stack") and not callable(task.foreach_stack):  # orch
        return [(frame[0], frame[1]) for frame in task.foreach_stack]
    if "_foreach_stack" in task:  # Metaflow keeps it as an artifact
        return [(frame.step, frame.index) for frame in task["_foreach_stack"].data]
    return []


def _arguments(argv: list) -> dict:
    given = {"library": argv[0], "flow_name": argv[1]}
    options = dict(zip(argv[2::2], argv[3::2]))
    given["store"] = options.get("--store", "")
    given["unstable"] = tuple(filter(None, options.get("--unstable", "").split(",")))
    return given


if __name__ == "__main__":
    print(json.dumps(main(**_arguments(sys.argv[1:])), indent=1, sort_keys=True, ensure_ascii=False))
