"""``orch ui``: a local, read-only web app over a store (a directory or S3).

Flask, because it is small, mature and well kept, its synchronous model
matches the store's, and its threaded development server is all one person
on loopback needs; it is already in reach as a dependency of moto. Every
route is a GET: nothing here can change or delete a run.

Records are write-once, so they are cached in memory once seen; a page of
1,000 runs or a run of 10,000 tasks reads each record from the store once.
Live pages poll small fragments (a running run's DAG and timeline, a
running task's log tail) every two seconds.
"""

from __future__ import annotations

from typing import Any


def create_app(store_url: str) -> Any:
    """The Flask app: every rule of ``site.ROUTES`` answered by its ``Site`` method, GET only. Flask
    loads only here, when ``orch ui`` starts."""
    from flask import Flask

    from .site import ROUTES, Site

    site = Site(store_url)
    app = Flask("orch-ui")
    for rule, name in ROUTES:
        app.add_url_rule(rule, name, getattr(site, name), methods=["GET"])
    return app
