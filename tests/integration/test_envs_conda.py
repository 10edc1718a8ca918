"""Conda environments from a locally built channel of real packages: solve, lock format, errors, sha256, runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import Flow
from orchestrator.authoring.loader import load_flow
from orchestrator.config import Config
from orchestrator.envs import conda
from orchestrator.envs.lock import LockError, LockRef, file_digest
from orchestrator.envs.pypi import ResolutionError
from orchestrator.envs.resolve import ensure_locks
from orchestrator.envs.spec import EnvSpec
from tests.conftest import EXAMPLES


def _spec(channel: str, **packages) -> EnvSpec:
    return EnvSpec("conda", "3.11", tuple(sorted(packages.items())), (channel,))


def test_lock_is_a_conda_lock_file(offline_conda, tmp_path):
    from conda_lock.lockfile import parse_conda_lock_file

    lock = conda.solve(_spec(offline_conda, pandas="1.5.3", numpy="1.26.4"), str(tmp_path / "envs" / "x.yml"), ["s"])
    parsed = parse_conda_lock_file(Path(lock.path))
    names = {p.name: p.version for p in parsed.package}
    assert names["pandas"] == "1.5.3" and names["numpy"] == "1.26.4" and names["python"].startswith("3.11")
    assert all(p.hash.sha256 for p in parsed.package)
    rendered = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "conda-lock"),
            "render",
            "--kind",
            "explicit",
            "--platform",
            conda.conda_platform(),
            lock.path,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0, rendered.stderr
    explicit = (tmp_path / ("conda-%s.lock" % conda.conda_platform())).read_text()
    assert "pandas-1.5.3" in explicit and "@EXPLICIT" in explicit


def test_unknown_package_names_step_and_package(offline_conda, tmp_path):
    with pytest.raises(ResolutionError) as info:
        conda.solve(_spec(offline_conda, pandsa="1.0"), str(tmp_path / "x.yml"), ["train"])
    assert info.value.headline.startswith("The conda environment of step 'train' asks for 'pandsa'")


def test_supplied_lockfile_is_used_and_bad_yaml_is_refused(offline_conda, tmp_path):
    folder = tmp_path / "proj"
    (folder / "locks").mkdir(parents=True)
    conda.solve(_spec(offline_conda, six="1.16.0"), str(folder / "locks" / "six.conda-lock.yml"), ["s"])
    flow = folder / "locked_flow.py"
    flow.write_text(
        "from orchestrator import FlowSpec, conda, step\n\n"
        "class LockedFlow(FlowSpec):\n"
        "    @conda(lockfile='locks/six.conda-lock.yml')\n"
        "    @step\n"
        "    def start(self):\n"
        "        import six\n"
        "        self.version = six.__version__\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    locks = ensure_locks(load_flow(str(flow)).graph, str(folder), sources=Config.from_env().sources)
    assert locks["start"].path == str(folder / "locks" / "six.conda-lock.yml")
    (folder / "locks" / "six.conda-lock.yml").write_text("version: [1\n  nope: {")
    with pytest.raises(LockError, match="is not a valid conda-lock file"):
        ensure_locks(load_flow(str(flow)).graph, str(folder), sources=Config.from_env().sources)


def test_tampered_channel_package_fails_the_install(offline_conda, tmp_path):
    import asyncio

    import rattler

    lock = conda.solve(_spec(offline_conda, six="1.16.0"), str(tmp_path / "six.yml"), ["s"])
    evil = tmp_path / "evil-channel"
    shutil.copytree(offline_conda[len("file://") :], evil)
    for package in (evil / "noarch").glob("six-1.16.0-*.conda"):
        package.write_bytes(package.read_bytes() + b"tampered")
    asyncio.run(rattler.index.index_fs(evil, force=True))
    text = Path(lock.path).read_text().replace(offline_conda, "file://%s" % evil)
    Path(lock.path).write_text(text)
    spec = EnvSpec("conda", "3.11", (("six", "1.16.0"),), ("file://%s" % evil,))
    with pytest.raises(ResolutionError, match="did not match its sha256 in the lock"):
        conda.install_prefix(LockRef(spec, lock.path, file_digest(lock.path)), str(tmp_path / "prefix"))


def test_conda_demo_two_pandas_in_one_run_locally(offline_conda, orch, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code, out, err = orch("run", str(demo / "conda_flow.py"), "--executor", "local")
    assert code == 0, err
    run = Flow("PandasVersionsCondaFlow").latest_run
    assert run["start"].task.data.old == {"version": "1.5.3", "index_dtype": "int64"}
    assert run["upgrade"].task.data.new == {"version": "2.2.3", "index_dtype": "int32"}
    assert all(e["spec"]["kind"] == "conda" for e in run._record.environments.values())


def test_conda_demo_in_containers(offline_conda, orch, tmp_path):
    from orchestrator.images.engine import EngineError, client

    try:
        client()
    except EngineError as err:
        pytest.fail("%s (CI starts one in .ci/run)" % err.format())
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES / "pandas_versions", demo, ignore=shutil.ignore_patterns("envs", ".orch"))
    code, out, err = orch("run", str(demo / "conda_flow.py"), "--executor", "docker")
    assert code == 0, err
    run = Flow("PandasVersionsCondaFlow").latest_run
    assert run["start"].task.data.old["version"] == "1.5.3"
    assert run["upgrade"].task.data.new["version"] == "2.2.3"
    images = [e["image"] for e in run._record.environments.values()]
    assert len(set(images)) == 3 and all(i.startswith("orch-env:") for i in images)
