"""``python -m orchestrator.task``: one task attempt (``runner``), or ``--entry NAME``: what a job of
backend NAME runs in the image (an AWS Batch job finds its task, then runs it: ``backends.batch.entry``)."""

import sys

if sys.argv[1:2] == ["--entry"]:
    from ..backends.registry import get
    from ..backends.spec import load

    backend = get(sys.argv[2] if len(sys.argv) > 2 else "")
    if backend.entry is None:
        sys.exit("orch: backend %s has no in-job entry." % backend.name)
    sys.exit(load(backend.entry)())

from .runner import main

sys.exit(main(sys.argv[1:]))
