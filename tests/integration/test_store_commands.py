"""orch runs / logs / fsck / gc against real runs, and a whole run on an S3 store (moto)."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from orchestrator import Flow, client
from orchestrator.cli.main import cli
from orchestrator.store.local import LocalBackend
from orchestrator.store.maintenance import fsck, gc


def _blob_files(store):
    return [os.path.join(d, f) for d, _, files in os.walk(os.path.join(store, "blobs")) for f in files]


def test_runs_and_logs(orch):
    assert orch("run", "params_flow.py", "--run-name", "x")[0] == 0
    runner = CliRunner()
    listing = runner.invoke(cli, ["runs", "ParamsFlow", "--store", orch.store])
    assert listing.exit_code == 0
    run = Flow("ParamsFlow").latest_run
    assert run.id in listing.output and "succeeded" in listing.output
    logs = runner.invoke(cli, ["logs", "ParamsFlow/%s/end" % run.id, "--store", orch.store])
    assert logs.exit_code == 0 and logs.stdout == "final (2, 20, 0.5)\n"  # stdout then stderr (empty here)
    missing = runner.invoke(cli, ["logs", "ParamsFlow/%s/nope" % run.id, "--store", orch.store])
    assert missing.exit_code == 1
    bad = runner.invoke(cli, ["logs", "ParamsFlow/../x", "--store", orch.store])
    assert bad.exit_code != 0


def test_fsck_finds_flipped_truncated_and_missing_blobs(orch):
    assert orch("run", "branches_flow.py")[0] == 0
    backend = LocalBackend(orch.store)
    assert fsck(backend).problems == []
    assert CliRunner().invoke(cli, ["fsck", "--store", orch.store]).exit_code == 0
    files = sorted(_blob_files(orch.store))
    with open(files[0], "r+b") as handle:
        data = bytearray(handle.read())
        data[-1] ^= 0x10
        handle.seek(0)
        handle.write(data)
    with open(files[1], "r+b") as handle:
        handle.truncate(3)
    os.unlink(files[2])
    problems = fsck(backend).problems
    assert len([p for p in problems if "is corrupt" in p]) == 2
    assert any("is missing (referenced by" in p for p in problems)
    result = CliRunner().invoke(cli, ["fsck", "--store", orch.store])
    assert result.exit_code == 1 and "problems" in result.output


def test_gc_keeps_recent_runs_and_removes_unreachable_blobs(orch):
    for _ in range(3):
        assert orch("run", "params_flow.py", "--run-name", "x", "--count", str(time.time_ns()))[0] == 0
    backend = LocalBackend(orch.store)
    runs_before = [r.id for r in Flow("ParamsFlow").runs()]
    assert len(runs_before) == 3
    # blobs written just now are protected by the grace period
    assert gc(backend, keep_last=1).blobs_removed == 0
    assert [r.id for r in Flow("ParamsFlow").runs()] == runs_before[:1]
    dry = gc(backend, dry_run=True, grace_seconds=0)
    assert dry.blobs_removed > 0
    assert len(_blob_files(orch.store)) > 0
    report = gc(backend, grace_seconds=0)
    assert report.blobs_removed == dry.blobs_removed and report.bytes_freed > 0
    assert fsck(backend).problems == []  # nothing a kept run needs was removed
    assert Flow("ParamsFlow").latest_run.data.final == (2, 20, 0.5)


def test_gc_removes_stale_temp_files_only(orch):
    assert orch("run", "branches_flow.py")[0] == 0
    folder = os.path.dirname(_blob_files(orch.store)[0])
    stale = os.path.join(folder, ".tmp-abc.123")
    fresh = os.path.join(folder, ".tmp-def.456")
    for path in (stale, fresh):
        open(path, "wb").write(b"half-written")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    report = gc(LocalBackend(orch.store))
    assert report.temp_files_removed == 1
    assert not os.path.exists(stale) and os.path.exists(fresh)
    result = CliRunner().invoke(cli, ["gc", "--store", orch.store, "--dry-run"])
    assert result.exit_code == 0 and "Would remove 0 runs" in result.output


def test_whole_run_on_s3(orch, s3_bucket):
    store = "s3://%s/team/orch" % s3_bucket
    orch.store = store
    client.metadata(store)
    code, out, err = orch("run", "nested_flow.py", "--max-workers", "4")
    assert code == 0, err
    run = Flow("NestedFlow").latest_run
    assert run.data.grid == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]
    assert client.get_metadata() == store
    assert run["inner"].task.stdout == ""
    assert CliRunner().invoke(cli, ["fsck", "--store", store]).exit_code == 0


def test_reading_one_artifact_never_loads_another(orch):
    import pytest

    from orchestrator.store.cas import CorruptBlobError

    assert orch("run", "params_flow.py", "--run-name", "x")[0] == 0
    task = Flow("ParamsFlow").latest_run["middle"].task
    broken = task["y"]._record.key
    path = LocalBackend(orch.store).local_path("blobs/%s/%s" % (broken[:2], broken))
    with open(path, "r+b") as handle:
        handle.truncate(8)
    assert task.data.x == 2  # other artifacts still load
    with pytest.raises(CorruptBlobError) as info:
        _ = task.data.y
    message = info.value.format()
    assert broken in message and "artifact 'y' of task %s" % task.pathspec in message
