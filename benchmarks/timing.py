"""Small helpers: time a command several times and report the median."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Sequence


def median_seconds(argv: Sequence[str], repeat: int, cwd: str, env: dict | None = None) -> float:
    """Median wall time of ``argv`` over ``repeat`` runs; every run must succeed."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - began)
        if result.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s" % (" ".join(argv), result.returncode, result.stderr[-2000:]))
    return statistics.median(times)


def report(name: str, orch: float, metaflow: float, unit: str = "s") -> str:
    return "%-34s orch %8.3f%s   metaflow %8.3f%s   speedup x%.2f" % (name, orch, unit, metaflow, unit, metaflow / orch)
