"""Default values shared by the CLI, the runtime and the task side: one place, so they cannot drift."""

MAX_WORKERS = 16  # tasks on this machine at once (--max-workers)
MAX_NUM_SPLITS = 100  # elements one foreach may fan out to (--max-num-splits), as in Metaflow
STORE = ".orch"  # the store directory, relative to the working directory
BASE_IMAGE = "orch-base:bookworm"
