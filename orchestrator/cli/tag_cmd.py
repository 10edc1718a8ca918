"""``orch tag add|remove|replace|list FLOW/RUN ...`` and Metaflow's ``python flow.py tag add --run-id ID ...``.

Tags change under Metaflow's rules (``orchestrator.client.tagging``): system tags
stay, a tag is 1 to 500 characters, a run has at most 50 user tags. Each
change is one write-once record, so concurrent changes never lose a tag.
"""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

import click

from ..client.tagging import mutate
from ..config import Config
from ..errors import UsageError
from ..ids import run_path
from ..store.metadata import MetadataStore
from ..store.names import check_name
from ..store.records import RunRecord
from .common import echo_marked, load, quiet, store_backend

_STORE = click.option("--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE].")
_RUN_ID = click.option("--run-id", default=None, help="The run (with python flow.py; else give FLOW/RUN).")
_NAMESPACE = click.option("--namespace", "user_namespace", default=None, help="Accepted for Metaflow scripts.")


@click.group("tag")
@click.option("--flow-file", default=None, hidden=True)  # set by python flow.py tag ...
@click.pass_context
def tag(ctx: click.Context, flow_file: Optional[str]) -> None:
    """Add, remove, replace or list a run's user tags."""
    ctx.meta["orch_flow_file"] = flow_file


def _open(ctx: click.Context, store: Optional[str]) -> Tuple[Config, MetadataStore]:
    config, backend = store_backend(ctx, store)
    return config, MetadataStore(backend)


def _run_of(ctx: click.Context, target: Optional[str], run_id: Optional[str], meta: MetadataStore) -> Tuple[str, str]:
    """(flow, run) from FLOW/RUN, or from the flow file and --run-id (Metaflow's form)."""
    flow_file = ctx.meta.get("orch_flow_file")
    if flow_file:
        flow = load(ctx, flow_file).name
        run = run_id or target
        if not run:
            latest = meta.latest_run(flow)
            hint = "Its latest run is %s." % latest if latest else "Run the flow before tagging it."
            raise UsageError("Please specify a run id using --run-id.", hint)
        return flow, check_name("run", run)
    if not target or target.count("/") != 1:
        raise UsageError("Give the run as FLOW/RUN_ID, e.g. orch tag add MyFlow/1700000000 nightly.")
    flow, run = target.split("/")
    return check_name("flow", flow), check_name("run", run)


def _record(meta: MetadataStore, flow: str, run: str) -> RunRecord:
    record = meta.run_record(flow, run)
    if record is None:
        raise UsageError(
            "Run %s/%s does not exist in this store." % (flow, run), "List runs with: orch runs %s." % flow
        )
    return record


def _show(
    ctx: click.Context,
    record: RunRecord,
    user_tags: Tuple[str, ...],
    group: str,
    flat: bool = False,
    hide_system: bool = False,
    err: bool = False,
) -> None:
    """A run's tags as Metaflow's ``tag`` commands print them: one per line with ``--flat``; ``GROUP ;
    SYSTEM ; USER`` (comma-separated, on stderr as Metaflow's) under the top-level ``--quiet``; else a grid."""
    user = set(user_tags)
    system = set() if hide_system else set(record.system_tags)
    if flat:
        for name in sorted(user | system):
            click.echo(name, err=err)
        return
    if quiet(ctx):
        click.echo(" ; ".join([group, ",".join(sorted(system)), ",".join(sorted(user - system))]), err=True)
        return
    header = ["", "System tags and *tags*; only *tags* can be modified", "-" * 56, ""]
    echo_marked("\n".join(header + tag_grid(user | system, system) + [""]))


def tag_grid(tags: Set[str], system: Set[str], width: int = 124) -> List[str]:
    """Metaflow's layout of a run's tags: sorted down columns as wide as the longest tag, 4 spaces apart,
    as many as fit in ``width``; a user tag is marked ``*tag*`` (its marks count in its column's width)."""
    longest = max((len(name) for name in tags), default=0)
    marked = [name if name in system else "*%s*" % name for name in sorted(tags)]
    columns = max(width // (longest + 4), 1)
    rows = (len(marked) + columns - 1) // columns
    marked += [" "] * (rows * columns - len(marked))
    lines = []
    for row in range(rows):
        cells = [marked[row + column * rows] for column in range(columns)]
        lines.append("    ".join(cell.ljust(longest + 2 if cell[0] == "*" else longest) for cell in cells))
    return lines


def _change(ctx: click.Context, target, run_id, store, add=(), remove=()) -> None:
    config, meta = _open(ctx, store)
    flow, run = _run_of(ctx, target, run_id, meta)
    record = _record(meta, flow, run)
    tags = mutate(meta, flow, run, add, remove, config.username, record)
    if not quiet(ctx):
        click.echo("Operation successful. New tags:", err=bool(remove))  # as Metaflow: add says it on stdout
    _show(ctx, record, tags, str(run_path(flow, run)))


def _one_way(name: str, doc: str) -> click.Command:
    """``tag add`` and ``tag remove``: FLOW/RUN TAG... (or --run-id ID TAG... from python flow.py)."""

    @click.argument("args", nargs=-1, required=True)
    @_RUN_ID
    @_NAMESPACE
    @_STORE
    @click.pass_context
    def command(ctx, args, run_id, user_namespace, store):
        target, tags = _split(ctx, args)
        _change(ctx, target, run_id, store, **{name: tags})

    command.__doc__ = doc
    return tag.command(name)(command)


add = _one_way("add", "Add tags to a run: FLOW/RUN TAG... (or --run-id ID TAG... from python flow.py).")
remove = _one_way("remove", "Remove user tags from a run (system tags cannot be removed).")


@tag.command("replace")
@click.argument("target", required=False)
@click.option("--add", "tags_to_add", multiple=True, help="A tag to add (repeatable).")
@click.option("--remove", "tags_to_remove", multiple=True, help="A tag to remove (repeatable).")
@_RUN_ID
@_NAMESPACE
@_STORE
@click.pass_context
def replace(ctx, target, tags_to_add, tags_to_remove, run_id, user_namespace, store):
    """Remove and add tags in one change: --remove OLD --add NEW."""
    if not tags_to_add or not tags_to_remove:
        raise UsageError("Give at least one --add and one --remove (or use tag add / tag remove).")
    _change(ctx, target, run_id, store, add=tags_to_add, remove=tags_to_remove)


@tag.command("list")
@click.argument("target", required=False)
@_RUN_ID
@_NAMESPACE
@click.option("--flat", is_flag=True, help="One tag per line.")
@click.option("--hide-system-tags", is_flag=True, help="Only user tags.")
@_STORE
@click.pass_context
def tag_list(ctx, target, run_id, user_namespace, flat, hide_system_tags, store):
    """List a run's tags (user tags are shown as *tag*)."""
    _, meta = _open(ctx, store)
    flow, run = _run_of(ctx, target, run_id, meta)
    record = _record(meta, flow, run)
    # python flow.py tag list --flat writes to stderr, after the banner, as Metaflow's does
    metaflow_form = bool(ctx.meta.get("orch_flow_file"))
    group = str(run_path(flow, run))  # Metaflow names the runs listed
    _show(ctx, record, meta.user_tags(flow, run, record), group, flat, hide_system_tags, err=metaflow_form)


def _split(ctx: click.Context, args: Tuple[str, ...]) -> Tuple[Optional[str], Tuple[str, ...]]:
    """FLOW/RUN and the tags: with python flow.py --run-id, every argument is a tag."""
    if ctx.meta.get("orch_flow_file"):
        return None, tuple(args)
    return args[0], tuple(args[1:])


COMMANDS = (tag,)
