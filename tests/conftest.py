"""Shared fixtures: paths to the flow corpora and the examples."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "tests" / "data" / "flows"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True, scope="session")
def local_executor_by_default():
    """Tests run tasks as local processes unless they ask for --executor docker explicitly."""
    saved = os.environ.get("ORCH_EXECUTOR")
    os.environ["ORCH_EXECUTOR"] = "local"
    yield
    if saved is None:
        os.environ.pop("ORCH_EXECUTOR", None)
    else:
        os.environ["ORCH_EXECUTOR"] = saved


@pytest.fixture
def in_root(monkeypatch):
    """Run with the repository as the working directory, so paths print as in the corpus."""
    monkeypatch.chdir(ROOT)
    return ROOT


def wait_for(predicate, seconds: float = 60.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something true or ``seconds`` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def rel(path: Path) -> str:
    return os.path.relpath(path, ROOT)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """An S3 (and ECR, Batch, Logs) emulator on loopback, for the whole test session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "MOTO_PORT",
            "MOTO_DOCKER_NETWORK_MODE",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MOTO_PORT=str(port),
        MOTO_DOCKER_NETWORK_MODE="host",  # Batch jobs run as local containers that reach this server on loopback
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield "http://127.0.0.1:%d" % port
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3_bucket(moto_server):
    """A fresh, empty bucket; returns its name."""
    import uuid

    import boto3

    name = "orch-test-%s" % uuid.uuid4().hex[:12]
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def pypi_wheels():
    """The folder of real PyPI wheels the env tests install from (no network during tests)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import pypi_wheels as fixture

    folder = fixture.folder()
    if not (folder / ".complete").exists():
        pytest.fail("The PyPI wheel fixture is missing: run 'python tests/fixtures/pypi_wheels.py' (make test does).")
    return str(folder)


@pytest.fixture
def offline_pypi(pypi_wheels, monkeypatch, tmp_path):
    """Environments resolve and install from the fixture wheels only, into a per-test cache."""
    monkeypatch.setenv("ORCH_PYPI_FIND_LINKS", pypi_wheels)
    monkeypatch.delenv("ORCH_PYPI_INDEX_URL", raising=False)
    monkeypatch.setenv("ORCH_CACHE", str(tmp_path / "cache"))
    return pypi_wheels


@pytest.fixture(scope="session")
def conda_channel():
    """file:// URL of the locally built conda channel (CPython 3.11, numpy, pandas...), built by make fixtures."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import conda_channel as fixture

    folder = fixture.folder()
    if not (folder / ".complete").exists():
        pytest.fail(
            "The conda channel fixture is missing: run 'python tests/fixtures/conda_channel.py' as root "
            "(make test does)."
        )
    return "file://%s" % folder


@pytest.fixture
def offline_conda(conda_channel, monkeypatch, tmp_path):
    monkeypatch.setenv("ORCH_CONDA_CHANNELS", conda_channel)
    monkeypatch.setenv("ORCH_CACHE", str(tmp_path / "cache"))
    return conda_channel


@pytest.fixture(scope="module")
def engine():
    """A Docker SDK client to the engine the tests run tasks on; CI starts one, so none is a failure."""
    from orchestrator.images.engine import EngineError, client

    try:
        return client()
    except EngineError as err:
        pytest.fail("%s (CI starts one in .ci/run)" % err.format())


@pytest.fixture(scope="session")
def batch_world(moto_server, tmp_path_factory):
    """moto's Batch (jobs run as real containers), a real registry on loopback, and the S3 bucket
    ``orch-batch``: one per test session, shared by the Batch tests and the executor contract suite."""
    import boto3

    from tests.batch_infra import LocalRegistry, make_batch_infra

    infra = make_batch_infra(moto_server)
    registry = LocalRegistry(str(tmp_path_factory.mktemp("registry")))
    boto3.client("s3").create_bucket(Bucket="orch-batch")
    yield infra, registry
    registry.stop()


@pytest.fixture(scope="session")
def sfn_world(batch_world, moto_server):
    """The Batch world with moto executing state machines (and the two gaps in moto filled, see
    ``tests.sfn_infra``), plus the credentials endpoint deployed jobs read: ((infra, registry), endpoint)."""
    from tests.sfn_infra import (
        CredentialsEndpoint,
        deliver_to_state_machines,
        execute_state_machines,
        normalise_like_aws,
    )

    execute_state_machines(moto_server)
    normalise_like_aws()
    deliver_to_state_machines()
    endpoint = CredentialsEndpoint()
    yield batch_world, endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def slurm_cluster():
    """The Slurm cluster the Slurm tests submit to: ``make slurm`` (part of ``make test``) starts a
    one-node one, so none answering is a failure. Yields the partitions it has."""
    import subprocess

    try:
        found = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired) as err:
        pytest.fail("No Slurm cluster answers (%s): start one with make slurm (make test does)." % err)
    if found.returncode != 0:
        pytest.fail("No Slurm cluster answers: %s Start one with make slurm." % found.stderr.strip())
    return [p.rstrip("*") for p in found.stdout.split()]


@pytest.fixture
def shared_dir():
    """A folder every Slurm job's user can reach, as a cluster's shared filesystem is: pytest's own
    temporary folders are private to the user running the tests (mode 0700)."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="orch-slurm-test-")
    os.chmod(folder, 0o755)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def slurm_env(slurm_cluster, engine, shared_dir, monkeypatch):
    """A Slurm run's settings for one test: its own scratch folder and config file, Docker runtime.
    Returns the shared folder to put the flow's store in."""
    monkeypatch.setenv("ORCH_CONFIG", str(shared_dir / "no-config.json"))
    monkeypatch.setenv("ORCH_SLURM_SCRATCH", str(shared_dir / "scratch"))
    monkeypatch.setenv("ORCH_SLURM_RUNTIME", "docker")
    monkeypatch.delenv("ORCH_SLURM_REGISTRY", raising=False)
    return shared_dir
