"""Run inside Metaflow's venv: dump every task's artifacts of a flow's latest run, normalised, as a pickle.

Usage: python dump_metaflow.py FLOW_NAME OUT.pickle   (cwd: the folder holding .metaflow)
"""

import pickle
import sys

from metaflow import Flow, namespace


def normalise(value):
    if hasattr(value, "exception") and hasattr(value, "type") and hasattr(value, "stacktrace"):
        return ("caught", str(value.type).split(".")[-1], str(value.exception))
    return value


def main(flow_name, out):
    namespace(None)
    run = Flow(flow_name).latest_run
    dump = {"successful": run.successful}
    tasks = {}
    for step in run:
        for task in step:
            stack = task["_foreach_stack"].data if "_foreach_stack" in task else []
            key = (step.id, tuple(frame.index for frame in stack))
            artifacts = {a.id: normalise(a.data) for a in task if not a.id.startswith("_")}  # name included
            tasks.setdefault(key, []).append(artifacts)  # recursion: one key, a task per iteration
    for key in tasks:
        tasks[key].sort(key=lambda artifacts: repr(sorted(artifacts.items())))
    dump["tasks"] = tasks
    with open(out, "wb") as handle:
        pickle.dump(dump, handle, protocol=4)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
