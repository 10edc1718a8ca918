"""Inside an AWS Batch job: which task of the job this is, then ``task.job`` runs it.

The job's environment names its specs (``ORCH_BATCH_SPECS``, a key in the S3
store) and Batch numbers the children of an array job. Standard library
only, plus the runtime layer's boto3 through the S3 store.
"""

from __future__ import annotations

import os
from typing import Mapping

from ...task.job import run_job


def array_index(environ: Mapping[str, str]) -> int:
    """The child index of an array job: ``AWS_BATCH_JOB_ARRAY_INDEX``, else the ``:N`` suffix of the job
    id (emulators that do not set the variable), else 0 for a single job."""
    value = environ.get("AWS_BATCH_JOB_ARRAY_INDEX", "")
    if value.isdigit():
        return int(value)
    _, colon, tail = environ.get("AWS_BATCH_JOB_ID", "").rpartition(":")
    return int(tail) if colon and tail.isdigit() else 0


def main(environ: Mapping[str, str] = os.environ) -> int:
    return run_job(environ["ORCH_BATCH_SPECS"], array_index(environ), environ, private=("ORCH_BATCH_SPECS",))
