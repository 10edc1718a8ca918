"""Runtime overhead, orch vs Metaflow 2.19, same flows, same --max-workers, side by side.

Targets (issue 4): linear-10 at least 5x faster; foreach-100 and
foreach-1000 at --max-workers 2 at least 10x faster; orchestrator peak RSS
for a 10,000-task foreach under 200 MB.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.metaflow_env import ROOT, metaflow_env, metaflow_python, to_metaflow
from benchmarks.timing import peak_rss, report, run_timed

FLOWS = ROOT / "benchmarks" / "flows"


def _prepare(folder: Path, name: str, metaflow: bool) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    source = (FLOWS / name).read_text()
    (folder / name).write_text(to_metaflow(source) if metaflow else source)
    return name


def run() -> list:
    lines = []
    mf_python = metaflow_python()
    env = metaflow_env()
    orch_env = dict(env, PYTHONPATH=str(ROOT), ORCH_EXECUTOR="local")  # local vs local
    cases = [
        ("linear-10", "linear10_flow.py", []),
        ("foreach-100, --max-workers 2", "foreach_flow.py", ["--max-workers", "2", "--n", "100"]),
        (
            "foreach-1000, --max-workers 2",
            "foreach_flow.py",
            ["--max-workers", "2", "--n", "1000", "--max-num-splits", "1000"],
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, flow, args in cases:
            orch_dir, mf_dir = Path(tmp, "orch"), Path(tmp, "metaflow")
            _prepare(orch_dir, flow, False)
            _prepare(mf_dir, flow, True)
            orch = run_timed([sys.executable, flow, "run", "--quiet", *args], str(orch_dir), orch_env)
            metaflow = run_timed([mf_python, flow, "--quiet", "run", *args], str(mf_dir), env)
            lines.append(report(label, orch, metaflow))
            shutil.rmtree(orch_dir)
            shutil.rmtree(mf_dir)
        folder = Path(tmp, "rss")
        _prepare(folder, "foreach_flow.py", False)
        seconds, peak = peak_rss(
            [sys.executable, "foreach_flow.py", "run", "--quiet", "--n", "10000", "--max-num-splits", "10000"],
            str(folder),
            orch_env,
        )
        lines.append(
            "%-38s orch peak RSS %.0f MB (target < 200 MB) in %.1fs"
            % ("foreach-10000, --max-workers 16", peak / 1e6, seconds)
        )
    return lines


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    print("\n".join(run()))
