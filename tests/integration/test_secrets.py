"""@secrets end to end against moto's Secrets Manager: the values reach the step's environment and
nothing else: not the store, the logs, the run record or orch show."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from orchestrator import Flow, FlowSpec, secrets, step
from orchestrator.cli.main import main
from orchestrator.errors import FlowDefinitionError
from tests.conftest import FLOWS

DB = {"DB_USER": "alice-7f3e", "db-pass": "s3cr3t-91c0"}
SECRETS = ("Pizza is a vegetable.", "alice-7f3e", "s3cr3t-91c0")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def db_secret(moto_server):
    import boto3

    client = boto3.client("secretsmanager")
    try:
        client.delete_secret(SecretId="orch-test/db", ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_secret(Name="orch-test/db", SecretString=json.dumps(DB))
    return "orch-test/db"


def test_secrets_reach_the_step_and_nothing_else(orch, db_secret):
    code, out, err = orch("run", "secrets_flow.py")
    assert code == 0, err
    run = Flow("SecretsFlow").latest_run
    assert run["start"].task.data.seen == {
        "secret_1": _sha("Pizza is a vegetable."),
        "DB_USER": _sha("alice-7f3e"),
        "db_pass": _sha("s3cr3t-91c0"),  # keys become variable names as in Metaflow: '-' -> '_'
    }
    assert run["end"].task.data.leaked is None
    assert "start has 3 secrets" in run["start"].task.stdout
    for path in Path(orch.store).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in SECRETS), path
    orch.capsys.readouterr()
    assert main(["show", str(FLOWS / "run" / "secrets_flow.py")]) == 0
    shown = orch.capsys.readouterr().out
    assert "inline:1(secret_1)" in shown and "aws-secrets-manager:orch-test/db" in shown
    assert not any(s in shown + out + err for s in SECRETS)


def test_a_missing_secret_fails_before_anything_runs(orch, moto_server):
    import boto3

    client = boto3.client("secretsmanager")
    try:
        client.delete_secret(SecretId="orch-test/db", ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        pass
    code, out, err = orch("run", "secrets_flow.py")
    assert code != 0
    assert "Failed to retrieve secret 'orch-test/db'" in err and "Traceback" not in err
    assert not list(Path(orch.store).rglob("run.json"))  # no run was started


@pytest.mark.parametrize(
    "sources, message",
    [
        ("orch-test/db", "sources='orch-test/db' must be a list of secret ids or dicts."),
        ([{"type": "vault", "id": "x"}], "has type 'vault'; orch reads inline and aws-secrets-manager."),
        ([{"type": "inline", "options": {}}], "an inline secret needs options={'env_vars': {...}}."),
        ([{"type": "inline", "options": {"env_vars": {"METAFLOW_X": "1"}}}], "starts with METAFLOW_"),
        ([{"type": "inline", "options": {"env_vars": {"bad name": "1"}}}], "is not a valid environment variable"),
    ],
)
def test_bad_sources_are_located_errors(sources, message):
    with pytest.raises(FlowDefinitionError) as info:

        class Bad(FlowSpec):
            @secrets(sources=sources)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

    assert message in info.value.format() and info.value.line
