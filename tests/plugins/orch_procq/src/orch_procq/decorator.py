"""``@procq(queue=, cpu=)``: run this step on the procq backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Optional

from orchestrator.authoring.argcheck import BadArgument, optional, positive_number, text
from orchestrator.authoring.decorator_specs import Decorator


@dataclass(frozen=True)
class Procq(Decorator):
    """Run this step as a procq child process, in ``queue`` (default: ``orch configure procq --queue``)."""

    NAME: ClassVar[str] = "procq"
    RESOURCES: ClassVar[bool] = True  # its cpu counts with @resources
    queue: Optional[str] = None
    cpu: Optional[float] = None  # counts with @resources: the larger wins

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        queue = text("queue", args["queue"])
        if queue is not None and not queue.replace("-", "").isalnum():
            raise BadArgument("queue", "queue=%r must be letters, digits and '-'." % queue)
        return {"queue": queue, "cpu": optional(positive_number)("cpu", args["cpu"])}
