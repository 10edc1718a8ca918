"""Helpers to run flows through the real CLI into a fresh store, and read them back with the client."""

from __future__ import annotations

import os

import pytest

from orchestrator import client
from orchestrator.cli.main import main
from tests.conftest import FLOWS


class Runner:
    def __init__(self, store: str, capsys) -> None:
        self.store = store
        self.capsys = capsys

    def __call__(self, command: str, flow: str, *args: str) -> tuple:
        """(exit code, stdout, stderr) of `orch COMMAND FLOW --store STORE ARGS` (ORCH_EXECUTOR=local by default)."""
        path = flow if os.path.isabs(flow) else str(FLOWS / "run" / flow)
        self.capsys.readouterr()
        code = main([command, path, "--store", self.store, *args])
        out = self.capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def orch(tmp_path, capsys):
    store = str(tmp_path / "store")
    client.metadata(store)
    client.namespace(None)
    yield Runner(store, capsys)
    client.reset()


@pytest.fixture
def on_batch(batch_world, monkeypatch, tmp_path, capsys):
    """Runs go to moto's Batch queue and the loopback registry; the store is a fresh S3 prefix."""
    from orchestrator import client as orch_client
    from orchestrator.cli.main import main

    infra, registry = batch_world
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "no-config.json"))
    monkeypatch.setenv("ORCH_BATCH_QUEUE", infra.queue)
    monkeypatch.setenv("ORCH_REGISTRY", registry.host)
    monkeypatch.setenv("ORCH_BATCH_FORWARD_CREDENTIALS", "1")  # moto's jobs have no role to get keys from
    prefix = "runs-%s" % tmp_path.name
    store = "s3://orch-batch/%s" % prefix
    orch_client.metadata(store)
    orch_client.namespace(None)

    def run(flow: str, *args: str) -> tuple:
        capsys.readouterr()
        code = main(["run", flow, "--store", store, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    run.prefix, run.registry = prefix, registry
    yield run
    orch_client.reset()


MOTO_ACCOUNT = "123456789012"


@pytest.fixture
def on_sfn(sfn_world, monkeypatch, tmp_path, capsys):
    """Step Functions on moto for one test: ``cli(*args)`` runs orch's CLI (``step-functions create``,
    ``trigger``...) with the Batch queue, registry, roles and job credentials set and a fresh S3 store
    prefix; returns (code, out, err). ``cli.store`` is the store, ``tests.sfn_infra.wait_for`` waits
    for an execution."""
    from orchestrator import client as orch_client
    from orchestrator.cli.main import main

    (infra, registry), credentials = sfn_world
    prefix = "sfn-%s" % tmp_path.name
    store = "s3://orch-batch/%s" % prefix
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "no-config.json"))
    monkeypatch.setenv("ORCH_BATCH_QUEUE", infra.queue)
    monkeypatch.setenv("ORCH_REGISTRY", registry.host)
    monkeypatch.setenv("ORCH_S3_ROOT", store)
    monkeypatch.setenv("ORCH_SFN_ROLE", "arn:aws:iam::%s:role/orch-sfn" % MOTO_ACCOUNT)
    monkeypatch.setenv("ORCH_EVENTS_ROLE", "arn:aws:iam::%s:role/orch-events" % MOTO_ACCOUNT)
    monkeypatch.setenv("ORCH_JOB_CREDENTIALS_URI", credentials.url)
    monkeypatch.delenv("ORCH_STORE", raising=False)
    orch_client.metadata(store)
    orch_client.namespace(None)

    def cli(*args: str) -> tuple:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    cli.store, cli.prefix = store, prefix
    yield cli
    orch_client.reset()
