"""``@batch``: the step decorator that places a step on AWS Batch, and the job shape it asks for.

Task-side code (flows import it in their containers): standard library
only, Python 3.8 compatible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Optional, Tuple

from ...authoring.argcheck import megabytes, optional, positive_number, text, whole
from ...authoring.decorator_specs import Decorator

# Metaflow's other @batch arguments: accepted, so ported flows import, and recorded in ``extra``.
PASSTHROUGH = tuple(
    """iam_role execution_role shared_memory max_swap swappiness inferentia trainium efa host_volumes efs_volumes
    use_tmpfs tmpfs_tempdir tmpfs_size tmpfs_path ephemeral_storage log_driver log_options aws_batch_tags
    privileged""".split()
)


@dataclass(frozen=True)
class Batch(Decorator):
    """Run this step on AWS Batch. ``None`` means: take it from ``@resources`` or the default."""

    NAME: ClassVar[str] = "batch"
    PASSTHROUGH: ClassVar[Tuple[str, ...]] = PASSTHROUGH
    RESOURCES: ClassVar[bool] = True
    cpu: Optional[float] = None
    gpu: Optional[int] = None
    memory: Optional[int] = None
    image: Optional[str] = None
    queue: Optional[str] = None
    extra: Tuple[Tuple[str, Any], ...] = field(default=())  # the PASSTHROUGH arguments given, as pairs

    @classmethod
    def _check(cls, args: Dict[str, Any]) -> Dict[str, Any]:
        extra = tuple(sorted((k, args.pop(k)) for k in list(args) if k in PASSTHROUGH))
        extra = tuple((k, v) for k, v in extra if v is not None)
        return {
            "cpu": optional(positive_number)("cpu", args["cpu"]),
            "gpu": optional(whole)("gpu", args["gpu"]),
            "memory": optional(megabytes)("memory", args["memory"]),
            "image": text("image", args["image"]),
            "queue": text("queue", args["queue"]),
            "extra": extra,
        }
