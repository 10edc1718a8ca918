"""Backends: where a step's tasks run. ``spec`` describes one, ``registry`` lists them (orch's own and
the plugins' entry points), and each of orch's remote backends has a folder of its own (``batch/``).
This machine's executors live in ``orchestrator.executors``."""
