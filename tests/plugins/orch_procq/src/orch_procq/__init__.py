"""procq: an orch backend that runs each task as a child process on this machine, in one of N slots.

The backend is this descriptor; the step decorator (``@procq``) is in ``decorator``, the executor in
``executor``. orch finds both through this package's entry points.
"""

from orchestrator.backends.spec import Backend, ConfigSection, Setting

SECTION = ConfigSection(
    "procq",
    "Set the slots and the default queue of the procq backend.",
    (
        Setting(
            "slots",
            "--slots",
            "How many slots tasks are spread over.",
            ("PROCQ_SLOTS",),
            pattern=r"^[1-9]\d*$",
            shape="a whole number, e.g. 4",
        ),
        Setting("queue", "--queue", "The queue of steps whose @procq names none.", ("PROCQ_DEFAULT_QUEUE",)),
    ),
)

BACKEND = Backend(
    name="procq",
    summary="each task a child process in one of N numbered slots (a test plugin)",
    prepare="orch_procq.executor:prepare",
    decorator="procq",
    on_this_machine=True,
    configure=SECTION,
    placement=(("procq-slot", "PROCQ_SLOT"), ("procq-queue", "PROCQ_QUEUE")),
)
