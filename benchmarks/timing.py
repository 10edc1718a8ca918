"""Small helpers: time commands, sample a process's peak memory, format ratios."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Optional, Sequence, Tuple


def run_timed(argv: Sequence[str], cwd: str, env: Optional[dict] = None, timeout: float = 1800) -> float:
    """Wall time of one run of ``argv``, which must succeed."""
    began = time.perf_counter()
    result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(argv), result.returncode, result.stderr[-3000:]))
    return took


def median_seconds(argv: Sequence[str], repeat: int, cwd: str, env: Optional[dict] = None) -> float:
    """Median wall time of ``argv`` over ``repeat`` runs; every run must succeed."""
    return statistics.median(run_timed(argv, cwd, env) for _ in range(repeat))


def alternating_medians(
    first: Sequence[str], second: Sequence[str], repeat: int, cwd: Tuple[str, str], env: Tuple[dict, dict]
) -> Tuple[float, float]:
    """Median wall times of two commands run in turns (first, second, first, ...), so a machine's
    drift during the measurement weighs on both sides alike."""
    a, b = [], []
    for _ in range(repeat):
        a.append(run_timed(first, cwd[0], env[0]))
        b.append(run_timed(second, cwd[1], env[1]))
    return statistics.median(a), statistics.median(b)


def peak_rss(argv: Sequence[str], cwd: str, env: Optional[dict] = None) -> Tuple[float, int]:
    """(seconds, peak resident set size in bytes) of the process itself, sampled from /proc."""
    began = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            with open("/proc/%d/status" % proc.pid) as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except FileNotFoundError:
            break
        time.sleep(0.05)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv), err.decode()[-3000:]))
    return time.perf_counter() - began, peak


def report(name: str, orch: float, metaflow: float, unit: str = "s") -> str:
    return "%-38s orch %8.3f%s   metaflow %8.3f%s   speedup x%.1f" % (name, orch, unit, metaflow, unit, metaflow / orch)
