"""``orch dump FLOW/RUN/STEP[/TASK]`` and Metaflow's ``python flow.py dump RUN/STEP[/TASK]``.

Prints a task's artifacts, one line each, or with ``--file`` writes them as a
pickle of ``{"RUN/STEP/TASK": {name: value}}`` (Metaflow's format, which its
``CliCheck`` reads). Headers go to stderr, as Metaflow's do, so stdout holds
only the artifacts.
"""

from __future__ import annotations

import os
import pickle

import click

from ..errors import OrchError
from ..ids import Pathspec
from .common import echo_marked, quiet, store_config, task_pathspec

DEFAULT_MAX_VALUE_SIZE = 1000  # bytes, as Metaflow's dump


@click.command()
@click.argument("input_path", metavar="[FLOW/]RUN/STEP[/TASK]")
@click.option("--include", default="", help="Only these artifacts (comma-separated names).")
@click.option("--private/--no-private", default=False, help="Also artifacts whose names start with '_'.")
@click.option(
    "--max-value-size",
    type=int,
    default=DEFAULT_MAX_VALUE_SIZE,
    show_default=True,
    help="Show values up to this many bytes (pickled); larger ones show as <artifact too large>.",
)
@click.option("--file", "out_file", type=click.Path(dir_okay=False), default=None, help="Write a pickle here.")
@click.option("--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE].")
@click.option("--flow-file", default=None, hidden=True)  # set by python flow.py dump ...
@click.pass_context
def dump(ctx, input_path, include, private, max_value_size, out_file, store, flow_file):
    """Show the artifacts of every task of a step, or of one task."""
    from ..client import Step, metadata, namespace
    from ..client.dump import dumpable_tasks, format_task, task_values

    flow, run, step, task_id = task_pathspec(ctx, input_path, flow_file)
    metadata(store_config(ctx, store).store_url)
    namespace(None)  # as Metaflow's dump: the store is read directly, whoever ran it
    try:
        tasks = list(dumpable_tasks(Step(str(Pathspec(flow, run, step))), task_id))
    except KeyError:
        tasks = []
    missing = "No finished task at %s/%s/%s%s." % (flow, run, step, "/" + task_id if task_id else "")
    if not tasks and getattr(ctx.find_root().obj, "script", False):
        # python flow.py dump: Metaflow's prints nothing and exits 0 for a step with no finished task (a
        # failed run's end step); scripts that read its stdout get the same, people still get the reason
        click.echo(missing, err=True)
        return
    if not tasks:
        raise OrchError(
            missing,
            "List the run's steps with: orch runs %s, or look at it in orch ui." % flow,
        )
    names = frozenset(name for name in include.split(",") if name)
    limit = None if out_file else max_value_size  # as Metaflow: a file holds every value
    echo = _echo(ctx)
    output = {}
    for task in tasks:
        echo("Dumping output of run_id=*%s* step=*%s* task_id=*%s*" % (run, step, task.id))
        values = task_values(task, names, private, limit)
        if out_file:
            output[Pathspec(flow, run, step, task.id).in_run] = values
        else:
            for line in format_task(task, values):
                click.echo(line)
    if out_file:
        _write_pickle(out_file, output)
        echo("Artifacts written to *%s*" % out_file)


def _echo(ctx: click.Context):
    silent = quiet(ctx)

    def echo(line: str) -> None:
        if not silent:
            echo_marked(line, err=True)

    return echo


def _write_pickle(path: str, output: dict) -> None:
    """Atomically: a reader never sees half a pickle."""
    temp = "%s.tmp-%d" % (path, os.getpid())
    with open(temp, "wb") as handle:
        pickle.dump(output, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temp, path)


COMMANDS = (dump,)
