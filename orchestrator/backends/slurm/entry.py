"""Inside a Slurm job's container: which task of the job this is, then ``task.job`` runs it.

The job script passes the store (``ORCH_STORE``), the key of the job's
TaskSpecs (``ORCH_SLURM_SPECS``) and Slurm's array index. Standard library
only, plus the runtime layer's boto3 when the store is S3.
"""

from __future__ import annotations

import os
from typing import Mapping

from ...task.job import run_job


def main(environ: Mapping[str, str] = os.environ) -> int:
    index = environ.get("SLURM_ARRAY_TASK_ID", "")
    specs = environ["ORCH_SLURM_SPECS"]
    return run_job(specs, int(index) if index.isdigit() else 0, environ, private=("ORCH_SLURM_SPECS",))
