"""``orch report FLOW[/RUN]``: write a run as one self-contained HTML file."""

from __future__ import annotations

import os

import click

from ..errors import OrchError, UsageError
from ..store.names import check_name
from ..ui.model import run_view
from ..ui.report import MAX_REPORT_CARDS, render_report
from .store_cmds import STORE_OPTION, open_store


@click.command()
@click.argument("run", metavar="FLOW[/RUN]")
@STORE_OPTION
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Output file [default: FLOW-RUN.html].")
@click.option("--cards/--no-cards", default=True, show_default=True, help="Embed the run's cards (@card).")
def report(run, store, out, cards):
    """Write FLOW/RUN (or FLOW's latest run) as a single HTML file: DAG, timeline, parameters, steps,
    environments and artifact summaries. It needs no network to open, so it can be shared or attached."""
    flow, _, run_id = run.partition("/")
    if "/" in run_id or not flow:
        raise UsageError("Give the run as FLOW/RUN or FLOW, not %r." % run, "e.g. orch report MyFlow/1712345678")
    check_name("flow", flow)
    _, backend, meta = open_store(store)
    if not run_id:
        run_id = meta.latest_run(flow)
        if run_id is None:
            raise OrchError("Flow %s has no runs in this store." % flow, "List flows' runs with: orch runs FLOW")
    view = run_view(meta, flow, check_name("run", run_id))
    if view is None:
        raise OrchError(
            "Run %s/%s does not exist in this store." % (flow, run_id), "List runs with: orch runs %s." % flow
        )
    out = out or "%s-%s.html" % (flow, run_id)
    temp = "%s.tmp-%d" % (out, os.getpid())
    with open(temp, "w", encoding="utf-8") as handle:
        embedded, total = _cards(backend, view) if cards else ([], 0)
        handle.write(render_report(view, cards=embedded, total_cards=total))
    os.replace(temp, out)
    click.echo("Wrote %s (%s/%s, %d tasks)" % (out, flow, run_id, len(view.tasks)))


def _cards(backend, view) -> tuple:
    """(task label, card name, HTML) of the run's first cards, in step order, and how many there are."""
    from ..store.cas import ContentAddressedStore

    cas = ContentAddressedStore(backend)
    found, total = [], 0
    for step in view.steps:
        for task in step.tasks:
            total += len(task.cards)
            if not task.cards or len(found) >= MAX_REPORT_CARDS:
                continue
            for record in task.cards:
                page = bytes(cas.load_blob(record.html, "card %s" % record.type)).decode("utf-8", "replace")
                found.append(("%s/%s" % (step.name, task.label), record.label, page))
    return found[:MAX_REPORT_CARDS], total


COMMANDS = (report,)
