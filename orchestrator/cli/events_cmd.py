"""``orch events publish NAME [--payload key=value ...]``: start the deployed flows that ``@trigger`` on NAME."""

from __future__ import annotations

import json

import click

from ..errors import UsageError


def _payload(pairs: tuple) -> dict:
    """``key=value`` pairs; a value that reads as JSON (a number, a list) is taken as such."""
    payload = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise UsageError("--payload %r is not key=value." % pair, "Give it as --payload rows=1000.")
        try:
            payload[key] = json.loads(value)
        except ValueError:
            payload[key] = value
    return payload


@click.group()
def events() -> None:
    """Events that start deployed flows (@trigger)."""


@events.command()
@click.argument("name")
@click.option("--payload", "pairs", multiple=True, metavar="KEY=VALUE", help="A payload field (repeatable).")
def publish(name: str, pairs: tuple) -> None:
    """Publish event NAME to EventBridge; flows deployed with @trigger(event=NAME) start."""
    from ..deployers.step_functions.publish import publish_event

    event_id = publish_event(name, _payload(pairs))
    click.echo("Published event %s (id %s)." % (name, event_id))


COMMANDS = [events]
