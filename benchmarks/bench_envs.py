"""Environments: solve time, a warm build-envs, and a cold image build against a plain pip install.

- py-rattler's solve of the pandas env against the local channel (Metaflow's conda solves take minutes);
- a warm ``orch build-envs`` of a flow with 5 environments (target: under 1 s);
- a cold image build of the pandas PyPI env, against ``pip install`` of the same lock into a fresh venv,
  both from the same local wheelhouse, download excluded (target: within 1.5x).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.metaflow_env import ROOT

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

FIVE_ENVS = """
from orchestrator import FlowSpec, pypi, step


class FiveEnvsFlow(FlowSpec):
    @pypi(python="3.11", packages={"six": "1.16.0"})
    @step
    def start(self):
        self.next(self.a)

    @pypi(python="3.11", packages={"six": "1.17.0"})
    @step
    def a(self):
        self.next(self.b)

    @pypi(python="3.11", packages={"attrs": "23.2.0"})
    @step
    def b(self):
        self.next(self.c)

    @pypi(python="3.11", packages={"attrs": "24.2.0"})
    @step
    def c(self):
        self.next(self.end)

    @pypi(python="3.11", packages={"six": "1.16.0", "attrs": "24.2.0"})
    @step
    def end(self):
        pass
"""


def run() -> list:
    import conda_channel
    import pypi_wheels

    from orchestrator.envs.conda import solve as conda_solve
    from orchestrator.envs.spec import EnvSpec

    lines = []
    wheels = str(pypi_wheels.build())
    channel = "file://%s" % conda_channel.folder()
    env = dict(os.environ, PYTHONPATH=str(ROOT), ORCH_PYPI_FIND_LINKS=wheels, ORCH_CONDA_CHANNELS=channel)
    with tempfile.TemporaryDirectory() as tmp:
        spec = EnvSpec("conda", "3.11", (("numpy", "1.26.4"), ("pandas", "1.5.3")), (channel,))
        began = time.perf_counter()
        conda_solve(spec, os.path.join(tmp, "pandas.conda-lock.yml"), ["bench"])
        lines.append("%-44s %.2fs" % ("conda solve, pandas 1.5.3 env (py-rattler)", time.perf_counter() - began))

        folder = Path(tmp, "five")
        folder.mkdir()
        (folder / "five_flow.py").write_text(FIVE_ENVS)
        orch = [sys.executable, "-m", "orchestrator.cli.main", "build-envs", "five_flow.py"]
        subprocess.run(orch, cwd=folder, env=env, check=True, capture_output=True)
        began = time.perf_counter()
        subprocess.run(orch, cwd=folder, env=env, check=True, capture_output=True)
        lines.append(
            "%-44s %.2fs (target < 1 s, whole command)"
            % ("warm orch build-envs, 5 environments", time.perf_counter() - began)
        )

        pandas = Path(tmp, "pandas")
        shutil.copytree(ROOT / "examples" / "pandas_versions", pandas, ignore=shutil.ignore_patterns("envs", ".orch"))
        subprocess.run(orch[:-1] + ["pypi_flow.py"], cwd=pandas, env=env, check=True, capture_output=True)
        images = subprocess.run(
            ["docker", "images", "--filter", "label=org.orch.kind=pypi", "--format", "{{.Repository}}:{{.Tag}}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        subprocess.run(["docker", "rmi", "-f", *images], capture_output=True)  # cold: the wheelhouse stays cached
        began = time.perf_counter()
        subprocess.run(
            orch[:-1] + ["pypi_flow.py", "--jobs", "1"], cwd=pandas, env=env, check=True, capture_output=True
        )
        build = (time.perf_counter() - began) / 2  # two pandas images, one after the other
        lock = sorted((pandas / "envs").glob("pypi-*.pypi.lock"))[0]
        venv = Path(tmp, "venv")
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--quiet",
                "--no-index",
                "--find-links",
                wheels,
                "--require-hashes",
                "-r",
                str(lock),
            ],
            check=True,
        )
        pip = time.perf_counter() - began
        lines.append(
            "%-44s image %.1fs   pip venv %.1fs   ratio x%.2f (target <= 1.5)"
            % ("cold image build vs pip install, pandas env", build, pip, build / pip)
        )
    return lines
