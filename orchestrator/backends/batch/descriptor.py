"""AWS Batch, as the backend registry knows it: the one descriptor orch's core reads."""

from __future__ import annotations

from ...config import AWS_SECTION
from ..spec import Backend

BACKEND = Backend(
    name="batch",
    summary="each task an AWS Batch job of its step's image (orch configure aws)",
    prepare="orchestrator.backends.batch.executor:prepare",
    decorator="batch",
    on_this_machine=False,
    configure=AWS_SECTION,
    run_config="orchestrator.backends.batch.executor:run_config",
    entry="orchestrator.backends.batch.entry:main",
    placement=(  # Metaflow's metadata keys, from the variables Batch sets in a job's container
        ("aws-batch-job-id", "AWS_BATCH_JOB_ID"),
        ("aws-batch-job-attempt", "AWS_BATCH_JOB_ATTEMPT"),
        ("aws-batch-ce-name", "AWS_BATCH_CE_NAME"),
        ("aws-batch-jq-name", "AWS_BATCH_JQ_NAME"),
        ("aws-batch-execution-env", "AWS_EXECUTION_ENV"),
    ),
)
