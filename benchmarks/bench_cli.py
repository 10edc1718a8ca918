"""Latency of the everyday commands `check` and `show` on the genre-stats example, orch vs Metaflow.

Both run as `python flow.py <command>` on the same flow, differing only in its
import line, so the figure is what a user waits for each time they validate
a flow.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.metaflow_env import ROOT, metaflow_env, metaflow_python, to_metaflow
from benchmarks.timing import alternating_medians, report

REPEAT = 15


def run() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        orch_dir, mf_dir = Path(tmp, "orch"), Path(tmp, "metaflow")
        for folder in (orch_dir, mf_dir):
            folder.mkdir()
            shutil.copy(ROOT / "examples" / "movies.csv", folder)
        source = (ROOT / "examples" / "genre_stats_flow.py").read_text()
        (orch_dir / "flow.py").write_text(source)
        (mf_dir / "flow.py").write_text(to_metaflow(source))
        mf_python = metaflow_python()
        env = metaflow_env()
        orch_env = dict(env, PYTHONPATH=str(ROOT), ORCH_EXECUTOR="local")  # local vs local
        for command in ("check", "show"):
            orch, metaflow = alternating_medians(
                [sys.executable, "flow.py", command],
                [mf_python, "flow.py", command],
                REPEAT,
                (str(orch_dir), str(mf_dir)),
                (orch_env, env),
            )
            lines.append(report("python flow.py %s" % command, orch, metaflow))
    return lines
