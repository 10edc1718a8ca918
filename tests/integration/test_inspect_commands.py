"""``dump`` and ``logs`` in both forms (``orch X FLOW/RUN/...`` and Metaflow's ``python flow.py X RUN/...``),
and the channels Metaflow's scripts read: the banner line on stderr, ``tag list --flat`` after it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

from orchestrator import Flow
from orchestrator.cli.main import main
from tests.conftest import FLOWS, ROOT


def _script(tmp_path, store, flow, *args, quiet=False):
    """``python FLOW.py [--quiet] ARGS...`` as a user types it, against ``store``."""
    top = ["--quiet"] if quiet else []
    return subprocess.run(
        [sys.executable, str(FLOWS / "run" / flow), "--datastore-root", store, *top, *args],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "METAFLOW_USER": "tester", "ORCH_EXECUTOR": "local"},
        check=False,
    )


def test_dump_prints_and_pickles_artifacts_as_metaflow(orch, tmp_path):
    code, _, err = orch("run", "branches_flow.py")
    assert code == 0, err
    run = Flow("BranchesFlow").latest_run
    orch.capsys.readouterr()
    assert main(["dump", "%s/join" % run.pathspec, "--store", orch.store]) == 0
    out = orch.capsys.readouterr()
    lines = out.out.splitlines()
    # Metaflow's lines: name [size: N type: <class 'T'>] = value, sorted by name, with no highlight marks
    assert lines[0].startswith("by_name [size: ") and lines[0].endswith("type: <class 'tuple'>] = ('from a', 'from b')")
    assert [line.split(" ")[0] for line in lines] == sorted(line.split(" ")[0] for line in lines)
    assert "name [size: 27 type: <class 'str'>] = BranchesFlow" in lines  # the flow's name, as Metaflow stores it
    assert not any(line.startswith("_") or "*" in line for line in lines)  # private artifacts need --private
    assert "Dumping output of run_id=%s step=join" % run.id in out.err  # headers on stderr

    # --file: Metaflow's pickle {RUN/STEP/TASK: {name: value}} with every value, --include filters
    target = tmp_path / "dump.pkl"
    args = ["dump", "%s/a" % run.pathspec, "--include", "x,only_a", "--file", str(target), "--store", orch.store]
    assert main(args) == 0
    with open(target, "rb") as handle:
        dumped = pickle.load(handle)
    assert dumped == {"%s/a/%s" % (run.id, run["a"].task.id): {"x": "from a", "only_a": 1}}

    # --max-value-size: a larger value is not loaded
    assert main(["dump", "%s/a" % run.pathspec, "--max-value-size", "1", "--store", orch.store]) == 0
    assert "= < artifact too large >" in orch.capsys.readouterr().out

    # Metaflow's form, through the flow file: RUN/STEP, and --private shows Metaflow's private artifacts
    result = _script(tmp_path, orch.store, "branches_flow.py", "dump", "%s/start" % run.id, "--private")
    assert result.returncode == 0, result.stderr
    assert "\nshared [size: " in result.stdout
    assert result.stderr.splitlines()[0] == "orch 0.1.0 executing BranchesFlow for user:tester"

    assert main(["dump", "%s/nope" % run.pathspec, "--store", orch.store]) == 1
    assert "No finished task at BranchesFlow/%s/nope." % run.id in orch.capsys.readouterr().err
    assert main(["dump", "BranchesFlow/../x", "--store", orch.store]) != 0


def test_logs_show_both_streams_with_metaflows_options(orch, tmp_path):
    code, _, err = orch("run", "params_flow.py", "--run-name", "x")
    assert code == 0, err
    run = Flow("ParamsFlow").latest_run
    result = _script(tmp_path, orch.store, "params_flow.py", "logs", "%s/end" % run.id, "--stdout", quiet=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "final (2, 20, 0.5)\n" and result.stderr == ""  # --quiet: no banner, no headers
    # `logs show` is Metaflow's default subcommand; without --stdout/--stderr both streams show
    result = _script(tmp_path, orch.store, "params_flow.py", "logs", "show", "%s/end" % run.id)
    assert result.returncode == 0 and result.stdout.startswith("final (2, 20, 0.5)\n")
    assert result.stderr.splitlines()[1:] == [
        "Dumping logs of run_id=%s step=end task_id=%s" % (run.id, run["end"].task.id),
        "stdout",
        "stderr",
    ]
    result = _script(tmp_path, orch.store, "params_flow.py", "logs", "%s/end" % run.id, "--timestamps")
    assert result.returncode == 2 and "--timestamps is not available" in result.stderr


def test_tag_list_flat_goes_where_metaflows_scripts_read_it(orch, tmp_path):
    """Metaflow's CliCheck reads `tag list --flat` from stderr, skipping the banner line."""
    code, _, err = orch("run", "branches_flow.py", "--tag", "first")
    assert code == 0, err
    run = Flow("BranchesFlow").latest_run
    result = _script(tmp_path, orch.store, "branches_flow.py", "tag", "list", "--flat", "--run-id", run.id)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("orch ") and " executing BranchesFlow for user:" in lines[0]
    assert set(lines[1:]) == set(run.tags)
    quiet = _script(tmp_path, orch.store, "branches_flow.py", "tag", "list", "--run-id", run.id, quiet=True)
    # under --quiet, Metaflow's form for scripts: GROUP ; SYSTEM TAGS ; USER TAGS, on stderr
    assert quiet.stderr == "%s ; %s ; first\n" % (run.pathspec, ",".join(sorted(run.system_tags))) and not quiet.stdout
    grid = _script(tmp_path, orch.store, "branches_flow.py", "tag", "list", "--run-id", run.id)
    assert grid.stdout.splitlines()[:4] == ["", "System tags and tags; only tags can be modified", "-" * 56, ""]
    assert grid.stdout.splitlines()[4].split() == sorted(run.tags) and "*" not in grid.stdout
    assert os.listdir(str(tmp_path)) == ["store"]  # nothing written beside the store
