"""Store faults, injected for real: corrupt blobs, a task killed mid-write, a full disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator import Flow
from orchestrator.cli.main import main
from orchestrator.store.cas import CorruptBlobError
from orchestrator.store.records import AttemptEnd
from tests.conftest import FLOWS, ROOT, wait_for

BIG = str(FLOWS / "reliability" / "big_write_flow.py")


def _blob_path(store: str, key: str) -> Path:
    return Path(store, "blobs", key[:2], key)


def _artifact_key(store: str, step: str, name: str) -> str:
    done = next(Path(store).glob("flows/*/runs/*/steps/%s/*/0.done.json" % step))
    return json.loads(done.read_text())["artifacts"][name][0]


def test_flipped_bit_and_truncated_blob_are_caught_on_read_and_by_fsck(orch, capsys):
    code, _, err = orch("run", BIG, "--mb", "2")
    assert code == 0, err
    flipped = _blob_path(orch.store, _artifact_key(orch.store, "start", "blob"))
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    truncated = _blob_path(orch.store, _artifact_key(orch.store, "start", "small"))
    truncated.write_bytes(truncated.read_bytes()[:-3])

    task = Flow("BigWriteFlow").latest_run["start"].task
    for name in ("blob", "small"):
        with pytest.raises(CorruptBlobError) as caught:
            getattr(task.data, name)
        assert "artifact '%s'" % name in str(caught.value.format())
    capsys.readouterr()
    assert main(["fsck", "--store", orch.store]) == 1
    out = capsys.readouterr()
    report = out.out + out.err
    assert flipped.name in report and truncated.name in report


def _start_records(store: str) -> list:
    return [json.loads(p.read_text()) for p in Path(store).glob("flows/*/runs/*/steps/start/*/0.start.json")]


def _temp_files(store: str, at_least: int) -> list:
    sizes = []
    for path in Path(store).glob("blobs/*/.tmp-*"):
        try:
            sizes.append((path, path.stat().st_size))
        except FileNotFoundError:  # renamed into place meanwhile
            pass
    return [path for path, size in sizes if size >= at_least]


def test_a_task_killed_mid_write_leaves_no_blob_that_looks_valid(tmp_path, capsys):
    store = str(tmp_path / "store")
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", BIG, "--store", store, "--executor", "local"]
        + ["--quiet", "--mb", "400"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # The run writes small blobs of its own (code package, parameters) before the task starts:
    # wait for the task's start record, then for a temp file big enough to be its 400 MB artifact.
    records = wait_for(lambda: _start_records(store), interval=0.005)
    assert records, "the start task never started"
    assert wait_for(lambda: _temp_files(store, at_least=1 << 20), interval=0.005), "the artifact write never started"
    os.kill(records[0]["pid"], signal.SIGKILL)  # the task, mid-write
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert b"killed by signal SIGKILL" in err
    leftovers = list(Path(store).glob("blobs/*/.tmp-*"))
    assert leftovers  # what a kill leaves: a temp file, never a blob under its final name
    assert not list(Path(store).glob("flows/*/runs/*/steps/start/*/0.done.json")) or all(
        not AttemptEnd.from_json(json.loads(p.read_text())).succeeded
        for p in Path(store).glob("flows/*/runs/*/steps/start/*/0.done.json")
    )
    capsys.readouterr()
    assert main(["fsck", "--store", store]) == 0  # temp files are not blobs
    old = time.time() - 2 * 3600
    for path in leftovers:
        os.utime(path, (old, old))  # past gc's grace period, as after a crash long ago
    capsys.readouterr()
    assert main(["gc", "--store", store]) == 0
    assert "1 temp file" in capsys.readouterr().out or not list(Path(store).glob("blobs/*/.tmp-*"))
    assert not list(Path(store).glob("blobs/*/.tmp-*"))


@pytest.fixture
def tiny_store(tmp_path):
    """A store on an 8 MiB tmpfs (the tests run as root, as CI does)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], check=True)
    yield str(mount / "store")
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_task_with_a_clear_error(tiny_store, capsys):
    capsys.readouterr()
    code = main(["run", BIG, "--store", tiny_store, "--executor", "local", "--quiet", "--mb", "20"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no space left" in err.lower()
    assert "Traceback" not in err
    for done in Path(tiny_store).glob("flows/*/runs/*/steps/start/*/0.done.json"):
        assert not AttemptEnd.from_json(json.loads(done.read_text())).succeeded  # no index that looks valid
    assert not list(Path(tiny_store).glob("blobs/*/.tmp-*"))  # the failed write cleaned up after itself
    capsys.readouterr()
    assert main(["fsck", "--store", tiny_store]) == 0
