"""Commands that read or maintain the store: ``runs``, ``logs``, ``fsck``, ``gc``."""

from __future__ import annotations

import datetime as dt

import click

from ..config import Config
from ..errors import OrchError, UsageError
from ..ids import in_order
from ..store.backend import MissingKey
from ..store.factory import open_backend
from ..store.maintenance import fsck as fsck_store
from ..store.maintenance import gc as gc_store
from ..store.metadata import MetadataStore, attempt_log_key
from ..store.names import check_name
from .common import echo_marked, quiet, store_backend, task_pathspec

STORE_OPTION = click.option(
    "--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE; default ./.orch]."
)


def open_store(store):
    config = Config.from_env(store=store)
    backend = open_backend(config.store_url)
    return config, backend, MetadataStore(backend)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (count, unit)
        count /= 1000.0
    return "%d B" % count


@click.command()
@click.argument("flow")
@STORE_OPTION
@click.option("--limit", type=int, default=20, show_default=True, help="Show at most this many runs, newest first.")
def runs(flow, store, limit):
    """List the runs of FLOW (a flow class name) with their status."""
    check_name("flow", flow)
    config, _, meta = open_store(store)
    ids = meta.runs_in_order(flow, newest_first=True)
    if not ids:
        raise OrchError(
            "Flow %s has no runs in %s." % (flow, config.store_url), "Check the flow's class name, or pass --store."
        )
    click.echo("%-18s %-10s %-19s %9s  %s" % ("RUN", "STATUS", "CREATED", "DURATION", "TAGS"))
    for run_id in ids[:limit]:
        record = meta.run_record(flow, run_id)
        if record is None:
            continue
        end = meta.run_end(flow, run_id)
        created = record.created_at
        when = dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M:%S") if created else "?"
        took = "%.1fs" % (end.finished_at - created) if end and created else ""
        origin = "  (resumed from %s)" % record.origin_run_id if record.origin_run_id else ""
        if end is not None and end.tasks_cached:
            total = end.tasks_run + end.tasks_cloned + end.tasks_cached
            origin += "  (%d of %d tasks cached)" % (end.tasks_cached, total)
        status = end.status.value if end else "running"
        tags = ",".join(sorted(meta.user_tags(flow, run_id, record)))
        click.echo("%-18s %-10s %-19s %9s  %s%s" % (run_id, status, when, took, tags, origin))


@click.command()
@click.argument("words", nargs=-1, required=True, metavar="[show] [FLOW/]RUN/STEP[/TASK]")
@STORE_OPTION
@click.option("--stdout/--no-stdout", default=False, help="Show stdout.")
@click.option("--stderr/--no-stderr", default=False, help="Show stderr.")
@click.option("--both/--no-both", default=True, show_default=True, help="Show stdout, then stderr.")
@click.option("--timestamps/--no-timestamps", default=False, help="Not available: orch records no per-line times.")
@click.option("--attempt", type=int, default=None, help="Which attempt [default: the latest].")
@click.option("--flow-file", default=None, hidden=True)  # set by python flow.py logs ...
@click.pass_context
def logs(ctx, words, store, stdout, stderr, both, timestamps, attempt, flow_file):
    """Print the logs of FLOW/RUN/STEP[/TASK] (every task of the step when TASK is left out).

    As Metaflow's ``logs``: stdout and stderr by default, or one of them with
    --stdout / --stderr. The log text goes to stdout; the headers naming each
    task and stream go to stderr (none with --quiet before the command).
    """
    if words[:1] == ("show",):  # Metaflow's logs group: ``logs show PATH`` is the default command
        words = words[1:]
    if len(words) != 1:
        raise UsageError("Give one task path: [FLOW/]RUN/STEP or [FLOW/]RUN/STEP/TASK.")
    if timestamps:
        raise UsageError("--timestamps is not available: orch records a task's log without per-line times.")
    flow, run, step, task_id = task_pathspec(ctx, words[0], flow_file)
    _, backend = store_backend(ctx, store)
    meta = MetadataStore(backend)
    streams = [name for name, wanted in (("stdout", stdout), ("stderr", stderr)) if wanted]
    streams = streams or (["stdout", "stderr"] if both else ["stdout"])
    latest = meta.latest_attempts(flow, run, step)
    tasks = in_order(t for (s, t) in latest if s == step)
    if task_id is not None:
        tasks = [t for t in tasks if t == task_id]
    if not tasks:
        raise OrchError("No task matches %s in this store." % words[0], "List runs with: orch runs %s." % flow)
    silent = quiet(ctx)
    for task in tasks:
        number = latest[(step, task)].attempt if attempt is None else attempt
        end = meta.attempt_end(flow, run, step, task, number)
        if not silent:  # Metaflow's header, on stderr
            echo_marked("Dumping logs of run_id=*%s* step=*%s* task_id=*%s*" % (run, step, task), err=True)
        for stream in streams:
            if not silent:
                click.echo(stream, err=True)
            try:
                text = bytes(backend.get(attempt_log_key(flow, run, step, task, number, end, stream)))
            except MissingKey:
                continue
            click.echo(text.decode("utf-8", "replace"), nl=False)


@click.command()
@STORE_OPTION
def fsck(store):
    """Verify every blob's hash and every run record; exit 1 if anything is missing or corrupt."""
    config, backend, _ = open_store(store)
    report = fsck_store(backend)
    for problem in report.problems:
        click.echo(problem, err=True)
    entries = " and %d cache entries" % report.cache_entries if report.cache_entries else ""
    click.echo(
        "%s: checked %d blobs and %d runs%s: %s."
        % (
            config.store_url,
            report.blobs,
            report.records,
            entries,
            "%d problem%s" % (len(report.problems), "" if len(report.problems) == 1 else "s")
            if report.problems
            else "all intact",
        )
    )
    if report.problems:
        raise click.exceptions.Exit(1)


@click.command()
@STORE_OPTION
@click.option("--keep-last", type=int, default=None, help="Keep the N newest runs of each flow.")
@click.option("--keep-days", type=float, default=None, help="Keep runs created in the last D days.")
@click.option(
    "--keep-cache",
    "keep_cache",
    type=float,
    default=None,
    metavar="DAYS",
    help="Keep the data of cache entries younger than DAYS, even when their runs go.",
)
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
def gc(store, keep_last, keep_days, keep_cache, dry_run):
    """Remove old runs and the blobs no kept run references.

    A run is kept if any --keep option keeps it, or if it is still running.
    Without --keep options no run is removed; only unreferenced blobs and
    temp files left by killed writers are. Blobs younger than an hour are
    never removed, so gc is safe beside live runs. The cache entries of
    removed runs go too, unless --keep-cache keeps them (and their data).
    """
    config, backend, _ = open_store(store)
    report = gc_store(backend, keep_last=keep_last, keep_days=keep_days, dry_run=dry_run, keep_cache_days=keep_cache)
    verb = "Would remove" if dry_run else "Removed"
    for run in report.runs_removed:
        click.echo("%s run %s" % ("would remove" if dry_run else "removed", run))
    click.echo(
        "%s %d runs, %d blobs, %d temp files and %d cache entries (%s); kept %d runs."
        % (
            verb,
            len(report.runs_removed),
            report.blobs_removed,
            report.temp_files_removed,
            report.cache_entries_removed,
            _size(report.bytes_freed),
            report.runs_kept,
        )
    )


COMMANDS = (runs, logs, fsck, gc)
