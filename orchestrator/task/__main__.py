"""``python -m orchestrator.task``: one task attempt (``runner``), or an AWS Batch job (``batch_entry``)."""

import sys

if sys.argv[1:2] == ["--batch"]:
    from .batch_entry import main as batch_main

    sys.exit(batch_main())

from .runner import main

sys.exit(main(sys.argv[1:]))
