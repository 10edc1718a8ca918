"""The Slurm executor against its physical floor, on the cluster ``make slurm`` starts, side by side.

- per-task overhead: a foreach over 100 trivial tasks under ``--with slurm`` (Docker on the nodes),
  against 103 bare ``sbatch --wrap 'docker run --rm <same image> true'`` jobs on the same cluster, one
  per task of the flow (target: at most 1.2x), medians of alternating trials;
- the same flow under Charliecloud (``ch-run``, rootless), reported beside them.

Each job asks one CPU, so the one-node cluster runs as many at once as it has cores, for orch and the
floor alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.metaflow_env import ROOT
from benchmarks.timing import run_timed

FLOWS = ROOT / "benchmarks" / "flows"
TASKS = 100
WORKERS = 16


def _bare_sbatch(image: str, count: int, folder: str) -> float:
    """Submit ``count`` jobs at once, each a bare container start; seconds until the last one ended."""
    tag = "orch-bench-floor-%d" % os.getpid()
    began = time.perf_counter()
    for _ in range(count):
        subprocess.run(
            ["sbatch", "--parsable", "--job-name", tag, "--output", os.path.join(folder, "floor-%j.out")]
            + ["--wrap", "docker run --rm %s true" % image],
            check=True,
            capture_output=True,
        )
    while True:
        left = subprocess.run(
            ["squeue", "-h", "--name", tag, "--states=PENDING,RUNNING,COMPLETING,CONFIGURING", "-o", "%i"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if not left:
            return time.perf_counter() - began
        time.sleep(0.1)


def _default_image() -> str:
    out = subprocess.run(
        ["docker", "images", "--filter", "label=org.orch.kind=default", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return next(name for name in out.stdout.split() if name.startswith("orch-env:"))


def per_task(tmp: str, env: dict, trials: int = 3) -> list:
    folder = Path(tmp, "foreach")
    folder.mkdir()
    shutil.copy(FLOWS / "foreach_flow.py", folder)
    argv = [sys.executable, "foreach_flow.py", "run", "--quiet", "--with", "slurm"]
    argv += ["--n", str(TASKS), "--max-workers", str(WORKERS)]
    charlie = dict(env, ORCH_SLURM_RUNTIME="charliecloud")
    run_timed(argv, str(folder), env)  # builds and saves the image once, outside the measurement
    run_timed(argv, str(folder), charlie)  # and unpacks it for Charliecloud
    image = _default_image()
    times: dict = {"orch": [], "bare": [], "charliecloud": []}
    for _ in range(trials):
        times["orch"].append(run_timed(argv, str(folder), env))
        times["bare"].append(_bare_sbatch(image, TASKS + 3, tmp))  # the flow has 103 tasks
        times["charliecloud"].append(run_timed(argv, str(folder), charlie))
    orch, bare, ch = (statistics.median(times[k]) for k in ("orch", "bare", "charliecloud"))
    trial_list = {name: " ".join("%.2f" % t for t in values) for name, values in times.items()}
    return [
        "%-38s orch %7.2fs   bare sbatch+docker run %7.2fs   ratio x%.2f (target <= 1.2)"
        % ("foreach-%d on Slurm, Docker" % TASKS, orch, bare, orch / bare),
        "%-38s orch %7.2fs   ratio to the Docker floor x%.2f"
        % ("foreach-%d on Slurm, Charliecloud" % TASKS, ch, ch / bare),
        "%-38s orch %s   bare %s   charliecloud %s"
        % ("  trials (s)", trial_list["orch"], trial_list["bare"], trial_list["charliecloud"]),
    ]


def run() -> list:
    with tempfile.TemporaryDirectory(prefix="orch-bench-slurm-") as tmp:
        os.chmod(tmp, 0o755)  # the jobs' user (Charliecloud runs as uid 1000 when orch is root) reaches it
        env = dict(os.environ, PYTHONPATH=str(ROOT), ORCH_SLURM_SCRATCH=os.path.join(tmp, "scratch"))
        env["ORCH_CONFIG"] = os.path.join(tmp, "config.json")
        env.pop("ORCH_SLURM_RUNTIME", None)
        return per_task(tmp, env)
