"""AWS Batch: each task attempt a Batch job of its step's image, each foreach one array job.

This backend's own modules: ``decorator`` (``@batch``), ``executor`` (jobs
in, results out), ``api`` (the Batch calls and job shapes) and ``entry``
(what a job runs inside the image). orch's core knows it only through the
descriptor in ``descriptor`` (imported by the registry, not
by flows: a flow's ``@batch`` loads only ``decorator``).
"""
