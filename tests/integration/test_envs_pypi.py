"""PyPI environments end to end, from real wheels in a local folder: locks, reuse, errors, hashes, parity."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from orchestrator import Flow
from orchestrator.authoring.loader import load_flow
from orchestrator.config import Config
from orchestrator.envs import pypi
from orchestrator.envs.local import ensure_env
from orchestrator.envs.lock import LockRef, file_digest, lock_path, recorded_spec
from orchestrator.envs.resolve import ensure_locks
from orchestrator.envs.spec import EnvSpec
from tests.conftest import EXAMPLES

SIX_FLOW = """
from orchestrator import FlowSpec, pypi, step


class SixFlow(FlowSpec):
    @pypi(python="3.11", packages={"six": "%s"})
    @step
    def start(self):
        import six
        self.version = six.__version__
        self.next(self.end)

    @pypi(python="3.11", packages={"six": "%s"})
    @step
    def end(self):
        import six
        self.end_version = six.__version__
"""


def _flow(tmp_path: Path, start: str = "1.16.0", end: str = "1.16.0") -> str:
    folder = tmp_path / "proj"
    folder.mkdir(exist_ok=True)
    path = folder / "six_flow.py"
    path.write_text(SIX_FLOW % (start, end))
    return str(path)


def test_lock_written_beside_flow_shared_and_reused(offline_pypi, tmp_path, monkeypatch):
    path = _flow(tmp_path)
    graph = load_flow(path).graph
    sources = Config.from_env().sources
    locks = ensure_locks(graph, os.path.dirname(path), sources=sources)
    assert locks["start"] == locks["end"]  # equal specs share one lock
    lock = locks["start"]
    assert lock.path == lock_path(os.path.dirname(path), lock.spec)
    assert lock.path.startswith(str(tmp_path / "proj" / "envs"))
    text = Path(lock.path).read_text()
    assert "six==1.16.0" in text and "--hash=sha256:" in text
    assert recorded_spec(lock.path) == lock.spec

    def no_solve(*args, **kwargs):
        raise AssertionError("an unchanged spec must not be solved again")

    monkeypatch.setattr(pypi, "solve", no_solve)
    again = ensure_locks(graph, os.path.dirname(path), sources=sources)
    assert again["start"] == lock and file_digest(lock.path) == lock.digest
    with pytest.raises(AssertionError):
        ensure_locks(graph, os.path.dirname(path), upgrade=True, sources=sources)


def test_changed_spec_gets_a_new_lock(offline_pypi, tmp_path):
    path = _flow(tmp_path, "1.16.0", "1.17.0")
    locks = ensure_locks(load_flow(path).graph, os.path.dirname(path), sources=Config.from_env().sources)
    assert locks["start"].digest != locks["end"].digest
    assert "six==1.17.0" in Path(locks["end"].path).read_text()


@pytest.mark.parametrize(
    "packages, message",
    [
        ({"sixx": "1.0"}, "The PyPI environment of step 'start' asks for 'sixx', which PyPI does not have."),
        ({"six": "9.9.9"}, "The PyPI environment of step 'start' asks for a version of 'six' that does not exist."),
    ],
)
def test_resolution_errors_name_step_and_package(offline_pypi, tmp_path, packages, message):
    spec = EnvSpec("pypi", "3.11", tuple(packages.items()))
    with pytest.raises(pypi.ResolutionError) as info:
        pypi.solve(spec, str(tmp_path / "x.lock"), ["start"], Config.from_env().sources)
    assert info.value.headline == message
    assert not (tmp_path / "x.lock").exists()


def test_tampered_wheel_fails_the_install(offline_pypi, tmp_path, monkeypatch):
    path = _flow(tmp_path)
    sources = Config.from_env().sources
    lock = ensure_locks(load_flow(path).graph, os.path.dirname(path), sources=sources)["start"]
    evil = tmp_path / "evil"
    evil.mkdir()
    wheel = evil / "six-1.16.0-py2.py3-none-any.whl"
    shutil.copy(Path(offline_pypi) / wheel.name, wheel)
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("six_extra.py", "print('not what the lock pinned')\n")
    monkeypatch.setenv("ORCH_PYPI_FIND_LINKS", str(evil))
    with pytest.raises(pypi.ResolutionError, match="did not match its sha256"):
        ensure_env(LockRef(lock.spec, lock.path, lock.digest), Config.from_env().sources)


def test_local_env_is_cached_and_runtime_comes_after_user_packages(offline_pypi, tmp_path):
    path = _flow(tmp_path)
    sources = Config.from_env().sources
    lock = ensure_locks(load_flow(path).graph, os.path.dirname(path), sources=sources)["start"]
    python = ensure_env(lock, sources)
    assert ensure_env(lock, sources) == python  # second call: cached
    import subprocess

    out = subprocess.run(
        [
            python,
            "-c",
            "import six, sys, orchestrator; print(six.__version__); "
            "print(sys.path.index(next(p for p in sys.path if 'site-packages' in p)) < "
            "sys.path.index(next(p for p in sys.path if 'runtime' in p)))",
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert out.stdout.split() == ["1.16.0", "True"], out.stderr

    # an orch upgrade: the cached env must follow this orch's runtime, not keep the one it was built with
    from orchestrator.envs.local import runtime_dir

    pth = next(Path(python).parent.parent.glob("lib/python*/site-packages/zz-orch-runtime.pth"))
    pth.write_text(str(tmp_path / "an-older-runtime") + "\n")
    assert ensure_env(lock, sources) == python
    assert pth.read_text() == runtime_dir() + "\n"


def test_pandas_demo_two_versions_in_one_run(offline_pypi, orch, tmp_path):
    from orchestrator.cli.main import main

    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code = main(["run", str(demo / "pypi_flow.py"), "--store", orch.store, "--executor", "local"])
    out = orch.capsys.readouterr()
    assert code == 0, out.err
    run = Flow("PandasVersionsPypiFlow").latest_run
    assert run["start"].task.data.old == {"version": "1.5.3", "index_dtype": "int64"}
    assert run["upgrade"].task.data.new == {"version": "2.2.3", "index_dtype": "int32"}
    assert "one run, two pandas: 1.5.3 then 2.2.3" in run["end"].task.stdout
    environments = run._record.environments
    assert set(environments) == {"start", "upgrade"}
    assert environments["start"]["lock_hash"] != environments["upgrade"]["lock_hash"]
