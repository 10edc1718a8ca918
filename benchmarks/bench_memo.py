"""Step memoization against the run it saves, side by side in one run, under the Docker executor.

- a fully cached re-run of a foreach over 100 tasks (``--cache``): its time as a share of the first
  run's (target: under 10%), with the number of tasks that ran (target: 0);
- a re-run after editing only the last step: which steps ran (target: only ``end``, 1 task), and its
  time as a share of the first run's.

Each trial starts from an empty store and a fresh copy of the flow; the image is built once, outside
the measurement. Medians of 3 trials.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from benchmarks.metaflow_env import ROOT
from benchmarks.timing import run_timed

FLOWS = ROOT / "benchmarks" / "flows"
TASKS = 100
WORKERS = 4


def _last_run(folder: Path) -> Dict:
    runs = sorted((folder / ".orch" / "flows" / "ForeachBenchFlow" / "runs").iterdir(), key=lambda p: p.name)
    return json.loads((runs[-1] / "done.json").read_text())


def trial(tmp: str, env: dict, number: int) -> Dict[str, float]:
    folder = Path(tmp, "memo-%d" % number)
    folder.mkdir()
    shutil.copy(FLOWS / "foreach_flow.py", folder)
    argv = [sys.executable, "foreach_flow.py", "run", "--quiet", "--executor", "docker", "--cache"]
    argv += ["--n", str(TASKS), "--max-workers", str(WORKERS)]
    first = run_timed(argv, str(folder), env)
    cached = run_timed(argv, str(folder), env)
    cached_ran = _last_run(folder)["tasks_run"]
    source = (folder / "foreach_flow.py").read_text()
    (folder / "foreach_flow.py").write_text(
        source.replace("    def end(self):\n        pass", "    def end(self):\n        self.edited = True")
    )
    edited = run_timed(argv, str(folder), env)
    edited_ran = _last_run(folder)["tasks_run"]
    return {"first": first, "cached": cached, "cached_ran": cached_ran, "edited": edited, "edited_ran": edited_ran}


def run() -> List[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp, "warm")
        warm.mkdir()
        shutil.copy(FLOWS / "foreach_flow.py", warm)
        run_timed(
            [sys.executable, "foreach_flow.py", "run", "--quiet", "--executor", "docker", "--n", "2"], str(warm), env
        )
        trials = [trial(tmp, env, n) for n in range(3)]
    first = statistics.median(t["first"] for t in trials)
    cached = statistics.median(t["cached"] for t in trials)
    edited = statistics.median(t["edited"] for t in trials)

    def each(name: str, form: str = "%.2f") -> str:
        return " ".join(form % t[name] for t in trials)

    return [
        "%-42s first %6.2fs   cached re-run %5.2fs   share %4.1f%% (target < 10%%)   tasks run: %s"
        % ("foreach-%d --cache in containers" % TASKS, first, cached, 100 * cached / first, each("cached_ran", "%d")),
        "%-42s re-run %5.2fs   share %4.1f%%   tasks run: %s (target: 1, the edited end)"
        % ("  after editing only the last step", edited, 100 * edited / first, each("edited_ran", "%d")),
        "%-42s first %s   cached %s   edited %s" % ("  trials (s)", each("first"), each("cached"), each("edited")),
    ]
