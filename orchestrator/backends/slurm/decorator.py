"""``@slurm``: the step decorator that places a step on a Slurm cluster, and the job shape it asks for.

Task-side code (flows import it in their containers): standard library
only, Python 3.8 compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Optional

from ...authoring.argcheck import BadArgument, megabytes, optional, positive_number, text, whole
from ...authoring.decorator_specs import Decorator

# Slurm's --time forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
_TIME = r"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$"
_WORD = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"  # partition, account and QOS names
_CONSTRAINT = r"^[A-Za-z0-9_.\-&|\[\]*:!() ]+$"


def slurm_time(name: str, value: Any) -> str:
    """A time limit: whole minutes (an int) or one of Slurm's ``--time`` forms ("1:30:00", "2-00")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(whole(name, value, 1))
    if isinstance(value, str) and re.match(_TIME, value.strip()):
        return value.strip()
    raise BadArgument(name, "%s=%r is not a time limit: give minutes (90) or Slurm's form ('1:30:00')." % (name, value))


def word(name: str, value: Any, pattern: str = _WORD) -> Optional[str]:
    """A name that reaches ``sbatch``'s command line: checked, so it cannot carry another option."""
    found = text(name, value)
    if found is not None and not re.match(pattern, found):
        raise BadArgument(name, "%s=%r has characters Slurm does not allow in it." % (name, found))
    return found


@dataclass(frozen=True)
class Slurm(Decorator):
    """Run this step as Slurm jobs. ``None`` means: from ``@resources``, ``orch configure slurm``, or Slurm."""

    NAME: ClassVar[str] = "slurm"
    RESOURCES: ClassVar[bool] = True  # its cpu, memory and gpu count with @resources: the larger wins
    partition: Optional[str] = None
    cpu: Optional[float] = None
    memory: Optional[int] = None  # MiB
    gpu: Optional[int] = None
    time: Optional[str] = None  # Slurm's --time; by default @timeout's, plus a minute, else the partition's
    account: Optional[str] = None
    qos: Optional[str] = None
    constraint: Optional[str] = None
    image: Optional[str] = None  # a prebuilt image to run instead of the step's own
    max_concurrent: Optional[int] = None  # the %N of a foreach's job array; default --max-workers

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "partition": word("partition", args["partition"]),
            "cpu": optional(positive_number)("cpu", args["cpu"]),
            "memory": optional(megabytes)("memory", args["memory"]),
            "gpu": optional(whole)("gpu", args["gpu"]),
            "time": optional(slurm_time)("time", args["time"]),
            "account": word("account", args["account"]),
            "qos": word("qos", args["qos"]),
            "constraint": word("constraint", args["constraint"], _CONSTRAINT),
            "image": text("image", args["image"]),
            "max_concurrent": optional(whole)("max_concurrent", args["max_concurrent"], 1),
        }
