"""What a default card costs: a foreach over 100 tasks under the local executor, with no card and with
``--with card`` (a default card on every step: parameters, artifact previews, the flow), run in turns.

Target (the cards issue): rendering and storing the default cards adds at
most 10% to the run. For scale, the same under the Docker executor, and
Metaflow's own figure for the same flows, side by side. With no @card, the
task runtime imports no card code and writes nothing for cards
(tests/integration/test_cards.py checks that), so the no-card run is the
baseline itself.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.metaflow_env import ROOT, metaflow_env, metaflow_python, to_metaflow
from benchmarks.timing import alternating_medians

FLOW = ROOT / "benchmarks" / "flows" / "foreach_flow.py"
REPEAT = 15  # pairs of runs: on a shared 2-core VM one run of this 0.8 s flow varies by a few percent


def _overhead(label: str, plain: float, carded: float, target: str = "") -> str:
    return "%-38s no card %7.3fs   --with card %7.3fs   overhead %+5.1f%%%s" % (
        label,
        plain,
        carded,
        (carded / plain - 1) * 100,
        target,
    )


def run() -> list:
    env = metaflow_env()
    orch_env = dict(env, PYTHONPATH=str(ROOT), ORCH_EXECUTOR="local")
    args = ["--max-workers", "2", "--n", "100"]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "orch")
        folder.mkdir()
        (folder / FLOW.name).write_text(FLOW.read_text())
        base = [sys.executable, FLOW.name, "--quiet"]
        plain, carded = alternating_medians(
            base + ["run", *args], base + ["--with", "card", "run", *args], REPEAT, (str(folder),) * 2, (orch_env,) * 2
        )
        lines.append(_overhead("orch foreach-100, default cards", plain, carded, " (target <= 10%)"))
        docker_env = dict(orch_env, ORCH_EXECUTOR="docker")  # the default executor: a container per task
        plain, carded = alternating_medians(
            base + ["run", *args], base + ["--with", "card", "run", *args], 3, (str(folder),) * 2, (docker_env,) * 2
        )
        lines.append(_overhead("orch foreach-100 on Docker, cards", plain, carded))
        shutil.rmtree(folder)
        folder = Path(tmp, "metaflow")
        folder.mkdir()
        (folder / FLOW.name).write_text(to_metaflow(FLOW.read_text()))
        base = [metaflow_python(), FLOW.name, "--quiet"]
        plain, carded = alternating_medians(
            base + ["run", *args], base + ["--with", "card", "run", *args], 1, (str(folder),) * 2, (env,) * 2
        )
        lines.append(_overhead("metaflow foreach-100, default cards", plain, carded))
    return lines


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    print("\n".join(run()))
