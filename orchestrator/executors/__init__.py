"""Executors run task attempts somewhere (a local process, a container, a Batch job) behind one interface."""
