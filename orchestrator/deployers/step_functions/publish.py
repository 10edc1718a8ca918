"""``publish_event``: send the event a deployed flow's ``@trigger`` waits for, from Python or the shell.

The event goes to the account's default EventBridge bus with source
``orch`` and the event's name as its detail-type; every deployed flow whose
``@trigger`` names it starts, its parameters set from the payload.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ...backends.batch.executor import aws_client
from ...config import Config
from ...errors import UsageError
from .events import publish

NAME_PATTERN = r"^[A-Za-z0-9_.\-:/]{1,128}$"


def publish_event(name: str, payload: Optional[Mapping[str, Any]] = None, config: Optional[Config] = None) -> str:
    """Publish event ``name`` with ``payload`` (a JSON-able dict); returns EventBridge's event id."""
    import json
    import re

    if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
        raise UsageError(
            "%r is not an event name." % (name,), "Use letters, digits and . _ - : / (at most 128 characters)."
        )
    payload = dict(payload or {})
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as err:
        raise UsageError("The payload of event %s is not JSON: %s" % (name, err), "Give strings, numbers, lists.")
    from botocore.exceptions import ClientError

    config = config or Config.from_env()
    try:
        return publish(aws_client("events", config.aws), name, payload)
    except (ClientError, RuntimeError) as err:
        raise UsageError(
            "EventBridge did not take event %s: %s" % (name, err),
            "Check the region (orch configure aws --region) and that you may call events:PutEvents.",
        ) from None
