"""Commands that read or maintain the store: ``runs``, ``logs``, ``fsck``, ``gc``."""

from __future__ import annotations

import datetime as dt

import click

from ..config import Config
from ..errors import OrchError, UsageError
from ..store.backend import MissingKey
from ..store.factory import open_backend
from ..store.maintenance import fsck as fsck_store
from ..store.maintenance import gc as gc_store
from ..store.metadata import MetadataStore, attempt_log_key
from ..store.names import check_name

STORE_OPTION = click.option(
    "--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE; default ./.orch]."
)


def _open(store):
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
    config, _, meta = _open(store)
    ids = sorted(meta.runs(flow), key=lambda r: (len(r), r), reverse=True)
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
        status = end.status.value if end else "running"
        tags = ",".join(sorted(meta.user_tags(flow, run_id, record)))
        click.echo("%-18s %-10s %-19s %9s  %s%s" % (run_id, status, when, took, tags, origin))


@click.command()
@click.argument("pathspec")
@STORE_OPTION
@click.option("--stderr", "stream", flag_value="stderr", help="Show stderr instead of stdout.")
@click.option("--stdout", "stream", flag_value="stdout", default=True, hidden=True)
@click.option("--attempt", type=int, default=None, help="Which attempt [default: the latest].")
def logs(pathspec, store, stream, attempt):
    """Print the logs of FLOW/RUN/STEP[/TASK] (every task of the step when TASK is left out)."""
    parts = pathspec.strip("/").split("/")
    if len(parts) not in (3, 4):
        raise UsageError("Give the logs to show as FLOW/RUN/STEP or FLOW/RUN/STEP/TASK, not %r." % pathspec)
    flow, run, step = parts[:3]
    for kind, value in zip(("flow", "run", "step"), parts):
        check_name(kind, value)
    _, backend, meta = _open(store)
    latest = meta.latest_attempts(flow, run, step)
    tasks = sorted((t for (s, t) in latest if s == step), key=lambda t: (len(t), t))
    if len(parts) == 4:
        tasks = [t for t in tasks if t == parts[3]]
    if not tasks:
        raise OrchError("No task matches %s in this store." % pathspec, "List runs with: orch runs %s." % flow)
    for task in tasks:
        number = latest[(step, task)].attempt if attempt is None else attempt
        end = meta.attempt_end(flow, run, step, task, number)
        key = attempt_log_key(flow, run, step, task, number, end, stream)
        if len(tasks) > 1:
            click.echo("--- %s/%s/%s/%s (attempt %d) ---" % (flow, run, step, task, number))
        try:
            click.echo(bytes(backend.get(key)).decode("utf-8", "replace"), nl=False)
        except MissingKey:
            pass


@click.command()
@STORE_OPTION
def fsck(store):
    """Verify every blob's hash and every run record; exit 1 if anything is missing or corrupt."""
    config, backend, _ = _open(store)
    report = fsck_store(backend)
    for problem in report.problems:
        click.echo(problem, err=True)
    click.echo(
        "%s: checked %d blobs and %d runs: %s."
        % (
            config.store_url,
            report.blobs,
            report.records,
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
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
def gc(store, keep_last, keep_days, dry_run):
    """Remove old runs and the blobs no kept run references.

    A run is kept if any --keep option keeps it, or if it is still running.
    Without --keep options no run is removed; only unreferenced blobs and
    temp files left by killed writers are. Blobs younger than an hour are
    never removed, so gc is safe beside live runs.
    """
    config, backend, _ = _open(store)
    report = gc_store(backend, keep_last=keep_last, keep_days=keep_days, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for run in report.runs_removed:
        click.echo("%s run %s" % ("would remove" if dry_run else "removed", run))
    click.echo(
        "%s %d runs, %d blobs and %d temp files (%s); kept %d runs."
        % (
            verb,
            len(report.runs_removed),
            report.blobs_removed,
            report.temp_files_removed,
            _size(report.bytes_freed),
            report.runs_kept,
        )
    )


COMMANDS = (runs, logs, fsck, gc)
