"""The same flows under orch and under Metaflow 2.19 (from PyPI, in its own venv), artifacts compared.

Each flow is copied twice: once as written (``from orchestrator import``),
once with only its import line changed to Metaflow's. Both run locally; then
each tool's own client API dumps every task's artifacts, keyed by step and
foreach indices, and the dumps must be equal.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.metaflow_env import metaflow_env, metaflow_python, to_metaflow
from orchestrator import client
from tests.conftest import FLOWS, ROOT

HERE = Path(__file__).resolve().parent

CASES = [
    ("run/branches_flow.py", "BranchesFlow", []),
    ("run/nested_flow.py", "NestedFlow", ["--max-workers", "4"]),
    (
        "differential/diff_params_flow.py",
        "DiffParamsFlow",
        ["--label", "trial", "--alpha", "0.25", "--flag", "True", "--config", '{"k": 3}', "--text", "input.txt"],
    ),
    ("differential/diff_catch_retry_flow.py", "DiffCatchRetryFlow", []),
    ("differential/diff_constants_flow.py", "DiffConstantsFlow", []),
    ("differential/diff_internals_flow.py", "DiffInternalsFlow", []),
    ("differential/diff_project_flow.py", "DiffProjectFlow", []),
    ("differential/diff_switch_flow.py", "DiffSwitchFlow", []),
    ("differential/diff_parallel_flow.py", "DiffParallelFlow", []),
]


@pytest.fixture(scope="session")
def metaflow():
    """Metaflow's python; installed before the tests by `make test` (tests themselves stay off the network)."""
    try:
        return metaflow_python(install=False)
    except FileNotFoundError as err:
        pytest.fail("%s: run 'make fixtures' (make test does)." % err)


def _normalise(value):
    if hasattr(value, "exception") and hasattr(value, "type") and hasattr(value, "stacktrace"):
        return ("caught", str(value.type).split(".")[-1], str(value.exception))
    return value


def _orch_dump(store: str, flow_name: str) -> dict:
    client.metadata(store)
    client.namespace(None)
    run = client.Flow(flow_name).latest_run
    tasks = {}
    for step in run:
        for task in step:
            key = (step.id, tuple(index for _, index, _ in task.foreach_stack))
            tasks.setdefault(key, []).append({a.id: _normalise(a.data) for a in task})  # recursion: a task per loop
    for key in tasks:
        tasks[key].sort(key=lambda artifacts: repr(sorted(artifacts.items())))
    return {"successful": run.successful, "tasks": tasks}


def _prepare(tmp_path: Path, relative: str, metaflow: bool) -> Path:
    folder = tmp_path / ("metaflow" if metaflow else "orch")
    folder.mkdir()
    source = (FLOWS / relative).read_text()
    target = folder / Path(relative).name
    target.write_text(to_metaflow(source) if metaflow else source)
    (folder / "input.txt").write_text("included text\n")
    return target


@pytest.mark.parametrize("relative, flow_name, args", CASES, ids=[c[1] for c in CASES])
def test_same_artifacts_as_metaflow(tmp_path, metaflow, relative, flow_name, args):
    env = metaflow_env()
    mf_file = _prepare(tmp_path, relative, True)
    result = subprocess.run(
        [metaflow, mf_file.name, "--quiet", "run", *args],
        cwd=mf_file.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dump_file = tmp_path / "metaflow.pickle"
    result = subprocess.run(
        [metaflow, str(HERE / "dump_metaflow.py"), flow_name, str(dump_file)],
        cwd=mf_file.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = pickle.loads(dump_file.read_bytes())

    orch_file = _prepare(tmp_path, relative, False)
    store = str(tmp_path / "store")
    result = subprocess.run(
        [sys.executable, orch_file.name, "run", "--quiet", "--store", store, *args],
        cwd=orch_file.parent,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = _orch_dump(store, flow_name)
    assert got["successful"] and expected["successful"]
    assert sorted(got["tasks"]) == sorted(expected["tasks"])
    for key in expected["tasks"]:
        assert got["tasks"][key] == expected["tasks"][key], key


def test_merge_conflict_fails_in_both(tmp_path, metaflow):
    mf_file = _prepare(tmp_path, "run/conflict_flow.py", True)
    result = subprocess.run(
        [metaflow, mf_file.name, "--quiet", "run"],
        cwd=mf_file.parent,
        env=metaflow_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    phrase = "cannot merge the following artifacts due to them having conflicting values"
    assert phrase in result.stdout + result.stderr
    orch_file = _prepare(tmp_path, "run/conflict_flow.py", False)
    result = subprocess.run(
        [sys.executable, orch_file.name, "run", "--quiet", "--store", str(tmp_path / "s")],
        cwd=orch_file.parent,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1 and phrase in result.stderr
    shutil.rmtree(tmp_path / "s")
