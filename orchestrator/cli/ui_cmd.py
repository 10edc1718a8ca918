"""``orch ui``: serve the read-only web UI on loopback."""

from __future__ import annotations

import click

from ..config import Config
from .store_cmds import STORE_OPTION


@click.command()
@STORE_OPTION
@click.option("--port", type=int, default=8321, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. Anything but loopback shares every run of the store with the network.",
)
def ui(store, port, host):
    """Browse runs in a web browser: runs, DAGs, timelines, tasks, logs, artifacts, comparisons.

    It reads the same store as the client API (a directory or s3://...), and
    it is read-only: nothing on it can change or delete a run.
    """
    from ..ui.server import create_app

    config = Config.from_env(store=store)
    app = create_app(config.store_url)
    click.echo("orch ui for %s on http://%s:%d/ (Ctrl-C stops it)" % (config.store_url, host, port))
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)


COMMANDS = (ui,)
