"""A backend and its step decorator from a third-party package: installed with pip into a folder of
their own, found through the ``orch.backends`` and ``orch.decorators`` entry points, with no edit
to ``orchestrator/``. The package is ``tests/plugins/orch_procq``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import client
from tests.conftest import FLOWS, ROOT

PLUGIN = ROOT / "tests" / "plugins" / "orch_procq"
FLOW = FLOWS / "plugins" / "procq_flow.py"


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    """The plugin, pip-installed (no dependencies: orch is already here) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "orch_procq"
    shutil.copytree(PLUGIN, source)  # pip builds in the source folder: not in the checkout
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
         str(target), str(source)],
        check=True,
        env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )  # fmt: skip
    return target


def _orch(plugin_dir, tmp_path, *args, plugin=True):
    env = dict(os.environ, ORCH_CONFIG=str(tmp_path / "config.json"), ORCH_EXECUTOR="local")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir) if plugin else "", str(ROOT)]))
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", *args], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def store(tmp_path):
    path = str(tmp_path / "store")
    client.metadata(path)
    client.namespace(None)
    yield path
    client.reset()


def test_a_plugin_backend_runs_every_step_with_its_decorator(plugin_dir, tmp_path, store):
    code, out, err = _orch(plugin_dir, tmp_path, "configure", "procq", "--slots", "3")
    assert code == 0, err
    code, out, err = _orch(plugin_dir, tmp_path, "run", str(FLOW), "--store", store, "--with", "procq")
    assert code == 0, err
    run = client.Flow("ProcqFlow").latest_run
    assert run.successful and run.data.total == 14 and run.data.queue == "default"
    assert json.loads((Path(store) / "flows/ProcqFlow/runs" / run.id / "run.json").read_text())["executor"] == "procq"
    squares = list(run["square"])
    assert {t.metadata_dict["procq-queue"] for t in squares} == {"fast"}  # @procq(queue=) on the step wins
    slots = {t.metadata_dict["procq-slot"] for t in squares} | {run["start"].task.metadata_dict["procq-slot"]}
    assert slots <= {"0", "1", "2"} and len(slots) > 1  # three slots, from orch configure procq
    assert {t.data.slot for t in squares} <= slots


def test_a_decorated_step_runs_there_and_the_rest_here(plugin_dir, tmp_path, store):
    code, out, err = _orch(plugin_dir, tmp_path, "run", str(FLOW), "--store", store)
    assert code == 0, err
    run = client.Flow("ProcqFlow").latest_run
    record = json.loads((Path(store) / "flows/ProcqFlow/runs" / run.id / "run.json").read_text())
    assert record["executor"] == "local+procq" and run.data.queue is None
    assert "procq-slot" not in run["start"].task.metadata_dict
    assert all(t.metadata_dict["procq-queue"] == "fast" for t in run["square"])


def test_the_plugin_shows_in_the_cli_and_its_errors_are_orchs(plugin_dir, tmp_path, store):
    code, out, err = _orch(plugin_dir, tmp_path, "configure", "show")
    assert code == 0 and "procq:" in out and "slots" in out
    code, out, err = _orch(plugin_dir, tmp_path, "run", str(FLOW), "--store", store, "--with", "nosuch")
    assert code == 2 and "there is no step decorator named 'nosuch'" in err and "procq" in err
    code, out, err = _orch(plugin_dir, tmp_path, "run", str(FLOW), "--store", store, "--with", "procq:queue=a b")
    assert code == 2 and "queue='a b' must be letters, digits and '-'" in err and "Traceback" not in err
    code, out, err = _orch(plugin_dir, tmp_path, "configure", "procq", "--slots", "none")
    assert code == 2 and "orch configure procq --slots must look like a whole number, e.g. 4, not 'none'." in err


def test_without_the_plugin_its_decorator_is_a_clear_import_error(plugin_dir, tmp_path, store):
    code, out, err = _orch(plugin_dir, tmp_path, "check", str(FLOW), plugin=False)
    assert code != 0 and "procq" in err and "Traceback" not in err


def test_a_plugin_that_fails_to_load_is_named_with_its_package(tmp_path, store):
    """What pip leaves for a package whose backend module is missing: its entry point names it."""
    site = tmp_path / "site"
    info = site / "orch_broken-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: orch-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[orch.backends]\nbroken = orch_broken_missing:BACKEND\n")
    plain = str(FLOWS / "run" / "branches_flow.py")
    code, out, err = _orch(site, tmp_path, "run", plain, "--store", store)  # orch's own backends: never read
    assert code == 0, err
    for command in (["run", plain, "--store", store, "--executor", "broken"], ["configure", "show"]):
        code, out, err = _orch(site, tmp_path, *command)
        assert code == 1 and "Traceback" not in err
        assert "The orch.backends plugin 'broken' (from orch-broken) failed to load: ModuleNotFoundError" in err
        assert "Fix or uninstall orch-broken." in err
