"""``orch spin FLOW.py PATHSPEC`` and Metaflow's ``python flow.py spin PATHSPEC``: one task again, fast.

PATHSPEC is STEP (the latest run's first task of it), RUN/STEP, RUN/STEP/TASK
or FLOW/RUN/STEP[/TASK]; ``spin STEP --spin-pathspec RUN/STEP/TASK`` works
too. The task runs in the flow's current code with the original's inputs,
parameters and configs; its artifacts go to ``./.orch_spin`` (read them with
the client: ``orchestrator.metadata(".orch_spin")``), or with ``--persist``
to a new run of the flow's store.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Dict, Optional

import click

from ..errors import UsageError
from ..runtime.launch import origin_configs
from ..runtime.spin import SpinRequest, find_origin, spin
from ..store.metadata import MetadataStore
from .common import FLOW_ARGUMENT, ExecutorChoice, load, store_backend
from .run import options_of


def _artifacts(path: Optional[str]) -> Dict[str, Any]:
    """``ARTIFACTS`` of a Python file (or importable module): values that replace the inputs'."""
    if not path:
        return {}
    if os.path.isfile(path):
        spec = importlib.util.spec_from_file_location("orch_spin_artifacts", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    else:
        try:
            module = importlib.import_module(path)
        except ImportError as err:
            raise UsageError("--artifacts-module %s: no such file or module (%s)." % (path, err)) from None
    found = getattr(module, "ARTIFACTS", None)
    if not isinstance(found, dict):
        raise UsageError("--artifacts-module %s must define ARTIFACTS = {name: value, ...}." % path)
    return found


@click.command("spin")
@FLOW_ARGUMENT
@click.argument("pathspec")
@click.option("--spin-pathspec", default=None, help="RUN/STEP/TASK, when PATHSPEC is the step's name.")
@click.option("--persist/--no-persist", default=False, help="A new run of the store, not of ./.orch_spin.")
@click.option("--skip-decorators/--no-skip-decorators", default=False, help="Not even @conda/@pypi/@environment.")
@click.option("--artifacts-module", default=None, help="A .py file or module whose ARTIFACTS dict replaces inputs.")
@click.option("--executor", type=ExecutorChoice(), default="auto", envvar="ORCH_EXECUTOR", show_default=True)
@click.option("--store", default=None, help="The store of the run to spin from [env ORCH_STORE].")
@click.option("--spin-store", default=None, help="Where the spun task's run goes [default: ./.orch_spin].")
@click.option("--tag", "tags", multiple=True, help="Tag the spin run (repeatable).")
@click.option("--run-id-file", type=click.Path(dir_okay=False), default=None, help="Write the spin run's id here.")
@click.option("--quiet", is_flag=True, help="Do not stream the task's log.")
@click.option("--max-log-size", type=int, default=None, hidden=True)  # Metaflow's; orch keeps whole logs
@click.option("--runner-attribute-file", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.pass_context
def spin_command(ctx, flow_file, pathspec, spin_pathspec, persist, skip_decorators, artifacts_module, executor,
                 store, spin_store, tags, run_id_file, quiet, max_log_size, runner_attribute_file):  # fmt: skip
    """Run one task of a past run again, in the current code, with that task's exact inputs."""
    step_name = pathspec if spin_pathspec else None  # spin STEP --spin-pathspec RUN/STEP/TASK
    config, backend = store_backend(ctx, store)
    loaded = load(ctx, flow_file)
    origin = find_origin(MetadataStore(backend), loaded.name, spin_pathspec or pathspec)
    if step_name is not None and origin.step != step_name:
        what = (spin_pathspec, origin.step, step_name)
        raise UsageError("--spin-pathspec %s is a task of step %s, not of %s." % what)
    configs = origin_configs(loaded, config, origin.run_id)  # the origin's, exactly
    if configs.parsed:
        loaded = load(ctx, flow_file, configs, loaded.module)
    top = getattr(ctx.find_root().obj, "top", None)
    quiet = quiet or bool(top and top.quiet)
    options = options_of(1, 10000, executor, tags, run_id_file, quiet, "", runner_attribute_file)
    request = SpinRequest(
        origin.pathspec,
        persist,
        skip_decorators,
        _artifacts(artifacts_module),
        spin_store,
    )
    result = spin(loaded, config, options, request)
    if result.run.exit_code == 0 and not persist:
        click.echo("Read it with: orchestrator.metadata(%r); Task(%r)" % (result.store_url, result.pathspec), err=True)
    ctx.exit(result.run.exit_code)


COMMANDS = (spin_command,)
