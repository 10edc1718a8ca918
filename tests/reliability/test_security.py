"""Secrets stay secret, names stay names.

Container isolation (non-root uid, read-only code, no Docker socket, no
host network) is asserted per task in ``tests/integration/test_docker_executor.py``;
here: secrets given to steps through ``@environment`` or held in the AWS
environment never reach logs, metadata, images or ``orch configure show``,
host variables do not leak into containers, and no name becomes a path
outside the store.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from orchestrator import Flow, Run
from orchestrator.cli.main import main
from orchestrator.store.names import InvalidNameError
from tests.conftest import FLOWS

SECRET = "tok-5ecret-4ae1b7"
FLOW = str(FLOWS / "reliability" / "secret_flow.py")


def _files_containing(folder: Path, needle: bytes) -> list:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize("executor", ["local", "docker"])
def test_environment_secrets_reach_the_step_and_nothing_else(executor, orch, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ORCH_TEST_HOST_SECRET", "host-only-value")
    code, out, err = orch("run", FLOW, "--executor", executor)
    assert code == 0, err
    run = Flow("SecretFlow").latest_run
    assert run["start"].task.data.token_digest == hashlib.sha256(SECRET.encode()).hexdigest()
    if executor == "docker":
        assert run["start"].task.data.host_secret_visible is False  # containers get declared variables only
    assert SECRET not in out + err
    assert _files_containing(Path(orch.store), SECRET.encode()) == []  # no record, log or blob has it
    record = json.loads(next(Path(orch.store).glob("flows/SecretFlow/runs/*/run.json")).read_text())
    assert "API_TOKEN" in json.dumps(record["graph"])  # the name is kept; only the value is hidden
    capsys.readouterr()
    assert main(["show", FLOW]) == 0 and main(["show", FLOW, "--format", "json"]) == 0
    assert SECRET not in capsys.readouterr().out
    if executor == "docker":
        import docker

        engine = docker.from_env()
        for tag in {e["image"] for e in run._record.environments.values()} or {
            engine.api.images(filters={"label": "org.orch.kind=default"})[0]["RepoTags"][0]
        }:
            inspected = json.dumps(engine.api.inspect_image(tag)) + json.dumps(engine.api.history(tag))
            assert SECRET not in inspected and "host-only-value" not in inspected


def test_aws_secrets_never_show(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-5ecret-value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "aws-5ession-token")
    assert main(["configure", "aws", "--s3-root", "s3://b/p", "--queue", "q", "--forward-credentials"]) == 0
    assert "5ecret" not in (tmp_path / "config.json").read_text()
    capsys.readouterr()
    assert main(["configure", "show"]) == 0
    shown = capsys.readouterr().out
    assert "aws-5ecret-value" not in shown and "aws-5ession-token" not in shown


@pytest.mark.parametrize(
    "pathspec",
    ["SecretFlow/../../etc", "../SecretFlow/1", "SecretFlow/1/../../x", "SecretFlow/1/start/..", "/etc/passwd"],
)
def test_names_cannot_traverse_paths(pathspec, orch, capsys):
    code, _, err = orch("run", FLOW, "--executor", "local")
    assert code == 0, err
    capsys.readouterr()
    assert main(["logs", pathspec, "--store", orch.store]) != 0
    err = capsys.readouterr().err
    assert any(word in err for word in ("Invalid", "Give the task as", "No task")), err
    assert "Traceback" not in err


@pytest.mark.parametrize("pathspec", ["SecretFlow/..", "../x", "SecretFlow/.hidden"])
def test_client_pathspecs_cannot_traverse_paths(pathspec, orch):
    with pytest.raises(InvalidNameError):
        Run(pathspec)


def test_no_store_write_escapes_its_root(tmp_path):
    from orchestrator.store.local import LocalBackend

    backend = LocalBackend(str(tmp_path / "store"))
    for key in ("../outside", "blobs/../../outside", "/etc/passwd", "a//b", "a/./b"):
        with pytest.raises(InvalidNameError):
            backend.put(key, [b"x"])
    assert not (tmp_path / "outside").exists()
    assert subprocess.run(["ls", str(tmp_path)], capture_output=True, text=True).stdout.split() == []
