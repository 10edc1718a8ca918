"""Tag mutation: Metaflow's rules, the client and CLI forms, and concurrent writers on the local store
and on S3 (moto) that never lose a tag."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest

from orchestrator import Flow, Run
from orchestrator.cli.main import main
from orchestrator.client.tagging import TaggingError
from orchestrator.store.factory import open_backend
from orchestrator.store.metadata import MetadataStore
from tests.conftest import FLOWS, ROOT

FLOW = "branches_flow.py"


def _run(orch):
    code, _, err = orch("run", FLOW, "--tag", "first")
    assert code == 0, err
    return Flow("BranchesFlow").latest_run


def test_metaflows_rules(orch):
    run = _run(orch)
    system = sorted(run.system_tags)[0]
    assert run.user_tags == {"first"} and system in run.tags
    assert run.add_tags(["a", "b"]) >= {"first", "a", "b"}
    assert run.replace_tag("a", "c") and run.user_tags == {"first", "b", "c"}
    assert run.remove_tag("nope") and run.user_tags == {"first", "b", "c"}  # removing a missing tag: no-op
    run.add_tag(system)  # a system tag is not also added as a user tag
    assert system not in run.user_tags
    with pytest.raises(TaggingError, match="Cannot remove a tag that is an existing system tag"):
        run.remove_tag(system)
    for bad, message in [("", "must not be empty"), ("x" * 501, "Tag is too long: 501 > 500")]:
        with pytest.raises(TaggingError, match=message):
            run.add_tag(bad)
    with pytest.raises(TaggingError, match="may not be a string"):
        run.add_tags("abc")
    with pytest.raises(TaggingError, match="beyond 50"):
        run.add_tags(["t%d" % i for i in range(60)])
    # a fresh client object sees the changes; the run record itself was never rewritten
    again = Run(run.pathspec)
    assert again.user_tags == {"first", "b", "c"} and again._record.tags == ("first",)


def test_cli_forms_and_orch_runs(orch, tmp_path):
    run = _run(orch)
    code = main(["tag", "add", run.pathspec, "nightly", "gpu", "--store", orch.store])
    assert code == 0
    code = main(["tag", "replace", run.pathspec, "--remove", "gpu", "--add", "cpu", "--store", orch.store])
    assert code == 0
    orch.capsys.readouterr()
    assert main(["tag", "list", run.pathspec, "--flat", "--hide-system-tags", "--store", orch.store]) == 0
    assert orch.capsys.readouterr().out.split() == ["cpu", "first", "nightly"]
    assert main(["tag", "remove", run.pathspec, sorted(run.system_tags)[0], "--store", orch.store]) != 0
    assert "Cannot remove a tag that is an existing system tag" in orch.capsys.readouterr().err
    assert main(["runs", "BranchesFlow", "--store", orch.store]) == 0
    assert "cpu,first,nightly" in orch.capsys.readouterr().out  # orch runs shows the tags as they are now
    from orchestrator.ui.model import run_view

    view = run_view(MetadataStore(open_backend(orch.store)), "BranchesFlow", run.id)
    assert sorted(view.tags) == ["cpu", "first", "nightly"]  # the UI shows them as they are now
    # Metaflow's form: python flow.py tag add --run-id ID TAG...
    result = subprocess.run(
        [
            sys.executable,
            str(FLOWS / "run" / FLOW),
            "tag",
            "add",
            "--run-id",
            run.id,
            "from-script",
            "--store",
            orch.store,
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "from-script" in Run(run.pathspec).user_tags


def _add_many(store: str, flow: str, run: str, worker: int) -> None:
    meta = MetadataStore(open_backend(store))
    from orchestrator.client.tagging import mutate

    for n in range(5):
        mutate(meta, flow, run, ["w%d-%d" % (worker, n)], [], "test")


def _concurrent(store: str, flow: str, run: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(store, flow, run, w)) for w in range(8)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    tags = set(MetadataStore(open_backend(store)).user_tags(flow, run))
    assert {"w%d-%d" % (w, n) for w in range(8) for n in range(5)} <= tags


def test_concurrent_writers_lose_no_tag_locally(orch):
    run = _run(orch)
    _concurrent(orch.store, "BranchesFlow", run.id)


def test_concurrent_writers_lose_no_tag_on_s3(orch, s3_bucket, monkeypatch):
    store = "s3://%s/tags" % s3_bucket
    code, _, err = orch("run", FLOW, "--store", store)
    assert code == 0, err
    run_id = MetadataStore(open_backend(store)).runs("BranchesFlow")[0]
    _concurrent(store, "BranchesFlow", run_id)
