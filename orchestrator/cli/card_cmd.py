"""``orch card list|get|view FLOW[/RUN[/STEP[/TASK]]]`` and Metaflow's ``python flow.py card ...``.

With a flow file the pathspec is Metaflow's: ``STEP`` (the latest run),
``RUN/STEP`` or ``RUN/STEP/TASK``. ``--type``, ``--id`` and ``--hash`` (a
prefix) narrow the cards. ``get`` writes one card's HTML to a file or
stdout and, when several match, lists them instead, as Metaflow does; a
query that matches no card fails with "Card not found in datastore".
"""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional, Tuple

import click

from ..envs.lock import write_atomic
from ..errors import OrchError, UsageError
from .common import load, quiet, store_config


def _narrowing(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--hash", "card_hash", default=None, help="The card's hash, or its first characters."),
            click.option("--type", "card_type", default=None, help="Only cards of this type."),
            click.option("--id", "card_id", default=None, help="Only the card with this id."),
            click.option("--follow-resumed/--no-follow-resumed", default=True, help="Accepted for Metaflow's sake."),
            click.option("--store", "sub_store", default=None, help="Store directory or s3://bucket/prefix."),
        ]
    ):
        func = option(func)
    return func


@click.group()
@click.option("--store", default=None, help="Store directory or s3://bucket/prefix [env ORCH_STORE].")
@click.option("--flow-file", default=None, hidden=True)  # set by python flow.py card ...
def card(store: Optional[str], flow_file: Optional[str]) -> None:
    """List, save or open the cards (@card) of tasks."""


def _tasks(ctx: click.Context, pathspec: Optional[str]) -> Tuple[str, List[Any]]:
    """(what was asked for, the tasks it names), newest run's when only a step is given."""
    from ..client import Flow, Run, Step, Task, metadata, namespace
    from ..client.state import ClientError, MissingChild
    from ..store.names import check_name

    store = ctx.params.get("sub_store") or ctx.parent.params["store"]
    flow_file = ctx.parent.params["flow_file"]
    metadata(store_config(ctx, store).store_url)
    namespace(None)  # as Metaflow's card commands: any run in the store
    parts = [p for p in (pathspec or "").strip("/").split("/") if p]
    try:
        if flow_file:
            flow = load(ctx, flow_file).name
            if len(parts) > 3:
                raise UsageError("Give STEP, RUN/STEP or RUN/STEP/TASK, not %r." % pathspec)
            if len(parts) <= 1:
                latest = Flow(flow).latest_run
                if latest is None:
                    raise OrchError("Flow %s has no runs yet." % flow, "Run it first: python %s run" % flow_file)
                parts = [latest.id] + parts
            parts = [flow] + parts
        elif not parts:
            raise UsageError("Give FLOW[/RUN[/STEP[/TASK]]], e.g. orch card list MyFlow (its latest run).")
        elif len(parts) == 1:
            check_name("flow", parts[0])
            latest = Flow(parts[0]).latest_run
            if latest is None:
                raise OrchError("Flow %s has no runs yet." % parts[0])
            parts = [parts[0], latest.id]
        for kind, value in zip(("flow", "run", "step", "task"), parts):
            check_name(kind, value)
        asked = "/".join(parts)
        if len(parts) == 4:
            return asked, [Task(asked, _namespace_check=False)]
        if len(parts) == 3:
            return asked, list(Step(asked))
        return asked, [t for s in Run(asked, _check_namespace=False) for t in s]
    except (ClientError, MissingChild) as err:
        raise OrchError(err.headline, "`orch runs` lists runs; `orch card list FLOW/RUN` lists their cards.") from None


def _cards(
    ctx: click.Context,
    pathspec: Optional[str],
    card_type: Optional[str],
    card_id: Optional[str],
    card_hash: Optional[str],
) -> Tuple[str, List[Tuple[Any, List[Any]]]]:
    from ..cards.client import get_cards
    from ..cards.errors import CardNotPresentException

    asked, tasks = _tasks(ctx, pathspec)
    found = []
    for task in tasks:
        try:
            listed = get_cards(task, id=card_id, type=card_type)
        except CardNotPresentException:
            continue
        cards = [c for c in listed if card_hash is None or c.hash.startswith(card_hash)]
        if cards:
            found.append((task, cards))
    if not found:
        raise CardNotPresentException(asked, card_type=card_type, card_hash=card_hash, card_id=card_id)
    return asked, found


def _listing(task: Any, cards: List[Any]) -> dict:
    return {
        "pathspec": task.pathspec,
        "cards": [{"id": c.id, "hash": c.hash, "type": c.type, "filename": c.path.rsplit("/", 1)[-1]} for c in cards],
    }


def _show(found: List[Tuple[Any, List[Any]]]) -> None:
    for task, cards in found:
        click.echo("%s: %d card%s" % (task.pathspec, len(cards), "" if len(cards) == 1 else "s"))
        for c in cards:
            notes = [" (live)" if c.live else "", " (render failed: error card)" if c.error else ""]
            click.echo("  type=%-16s id=%-10s hash=%s%s" % (c.type, c.id or "-", c.hash[:12], "".join(notes)))


@card.command("list")
@click.argument("pathspec", required=False)
@_narrowing
@click.option("--as-json", is_flag=True, help="Print the cards as JSON (Metaflow's form).")
@click.option("--file", "out_file", type=click.Path(dir_okay=False), default=None, help="Write the list here.")
@click.pass_context
def list_cards(ctx, pathspec, card_hash, card_type, card_id, follow_resumed, sub_store, as_json, out_file):
    """The cards of a task, a step or a run."""
    asked, found = _cards(ctx, pathspec, card_type, card_id, card_hash)
    if not as_json:
        _show(found)
        return
    one_task = len(asked.split("/")) == 4
    listing = _listing(*found[0]) if one_task else [_listing(t, c) for t, c in found]
    text = json.dumps(listing, indent=4)
    if out_file:
        write_atomic(out_file, text)
    else:
        click.echo(text)


def _one(
    ctx: click.Context,
    pathspec: str,
    card_hash: Optional[str],
    card_type: Optional[str],
    card_id: Optional[str],
    verb: str,
) -> Optional[Any]:
    """The one card the query names; when several match, they are listed and None is returned."""
    asked, found = _cards(ctx, pathspec, card_type, card_id, card_hash)
    cards = [c for _, cs in found for c in cs]
    if len(cards) == 1:
        return cards[0]
    _show(found)
    click.echo("%d cards match; pick one with --type, --id or --hash to %s it." % (len(cards), verb), err=True)
    return None


@card.command()
@click.argument("pathspec")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@_narrowing
@click.pass_context
def get(ctx, pathspec, path, card_hash, card_type, card_id, follow_resumed, sub_store):
    """Write a card's HTML to PATH (or print it)."""
    found = _one(ctx, pathspec, card_hash, card_type, card_id, "get")
    if found is None:
        return
    html = found.get()
    if path:
        write_atomic(path, html)
        if not quiet(ctx):
            click.echo("Card %s of %s written to %s" % (found.type, found._task.pathspec, path), err=True)
    else:
        click.echo(html)


@card.command()
@click.argument("pathspec")
@_narrowing
@click.pass_context
def view(ctx, pathspec, card_hash, card_type, card_id, follow_resumed, sub_store):
    """Open a card in the web browser."""
    import webbrowser

    from ..config import Config

    found = _one(ctx, pathspec, card_hash, card_type, card_id, "view")
    if found is None:
        return
    path = os.path.join(Config.from_env().cache_dir, "cards", "%s.html" % found.hash)
    write_atomic(path, found.get())
    click.echo("Opening %s" % path, err=True)
    webbrowser.open("file://" + path)


COMMANDS = (card,)
