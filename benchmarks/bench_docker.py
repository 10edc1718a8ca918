"""The Docker executor against its physical floor, side by side in one run.

- per-task overhead: a foreach over 100 trivial tasks in containers, against 100 bare
  ``docker run --rm <same image> true`` at the same parallelism (target: at most 1.3x),
  median of 3 alternating trials;
- artifact round trip: the 200 MB array flow in containers against the local executor (target: at most 1.2x).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.metaflow_env import ROOT
from benchmarks.timing import run_timed

FLOWS = ROOT / "benchmarks" / "flows"
WORKERS = 4
TASKS = 100


def _bare_docker(image: str, count: int, workers: int) -> float:
    def one(_: int) -> None:
        subprocess.run(["docker", "run", "--rm", image, "true"], check=True, capture_output=True)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - began


def _default_image() -> str:
    out = subprocess.run(
        ["docker", "images", "--filter", "label=org.orch.kind=default", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()[0]


def per_task(tmp: str, env: dict, trials: int = 3) -> list:
    """Alternating trials, medians compared: this 2-core VM's container start time drifts by 20%
    over minutes, so one orch run against one bare run measures the drift as much as orch."""
    folder = Path(tmp, "foreach")
    folder.mkdir()
    shutil.copy(FLOWS / "foreach_flow.py", folder)
    argv = [sys.executable, "foreach_flow.py", "run", "--quiet", "--executor", "docker"]
    argv += ["--n", str(TASKS), "--max-workers", str(WORKERS)]
    run_timed(argv, str(folder), env)  # builds the image once, outside the measurement
    image = _default_image()
    times: dict = {"orch": [], "bare": []}
    for _ in range(trials):
        began = time.perf_counter()
        run_timed(argv, str(folder), env)
        times["orch"].append(time.perf_counter() - began)
        times["bare"].append(_bare_docker(image, TASKS + 3, WORKERS))  # the flow has 103 tasks
    orch, bare = statistics.median(times["orch"]), statistics.median(times["bare"])
    trial_list = {name: " ".join("%.2f" % t for t in values) for name, values in times.items()}
    return [
        "%-38s orch %7.2fs   bare docker run %7.2fs   ratio x%.2f (target <= 1.3)"
        % ("foreach-%d in containers, %d at once" % (TASKS, WORKERS), orch, bare, orch / bare),
        "%-38s orch %s   bare %s" % ("  trials (s)", trial_list["orch"], trial_list["bare"]),
    ]


def round_trip(tmp: str, env: dict, trials: int = 5) -> list:
    folder = Path(tmp, "array")
    folder.mkdir()
    shutil.copy(FLOWS / "big_array_env_flow.py", folder / "big_array_flow.py")
    commands = {
        name: [sys.executable, "big_array_flow.py", "run", "--quiet", "--executor", name]
        for name in ("docker", "local")
    }
    times: dict = {name: [] for name in commands}
    for argv in commands.values():
        run_timed(argv, str(folder), env)  # builds the image and the host env, outside the measurement
    for _ in range(trials):  # alternating, each from an empty store with the last one's writes flushed
        for name, argv in commands.items():
            shutil.rmtree(folder / ".orch", ignore_errors=True)
            os.sync()  # otherwise the previous trial's 200 MB writeback lands in this one
            times[name].append(run_timed(argv, str(folder), env))
    in_docker, on_host = statistics.median(times["docker"]), statistics.median(times["local"])
    trial_list = {name: " ".join("%.2f" % t for t in values) for name, values in times.items()}
    return [
        "%-38s docker %6.2fs   local %6.2fs   ratio x%.2f (target <= 1.2)"
        % ("200 MB array, write + read (median of %d)" % trials, in_docker, on_host, in_docker / on_host),
        "%-38s docker %s   local %s" % ("  trials (s)", trial_list["docker"], trial_list["local"]),
    ]


def run() -> list:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        return per_task(tmp, env) + round_trip(tmp, env)
