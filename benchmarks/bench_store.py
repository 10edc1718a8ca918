"""The artifact store, orch vs Metaflow 2.19's local datastore, plus the figures behind its design choices.

- a 200 MB random numpy array written in one step and read in the next, end to end (target: 5x faster);
- the same flow run twice: what the second run adds to the store (target: under 1 MB);
- 10,000 small artifacts across 100 tasks: artifacts written per second and store size;
- sha256 vs blake2b throughput, and the compression policy vs always-gzip on compressible and random data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.metaflow_env import ROOT, metaflow_env, metaflow_python, to_metaflow
from benchmarks.timing import report, run_timed

FLOWS = ROOT / "benchmarks" / "flows"


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def _flow_dirs(tmp: str, name: str, suffix: str = ""):
    orch_dir, mf_dir = Path(tmp, "orch-" + name + suffix), Path(tmp, "mf-" + name + suffix)
    for folder, metaflow in ((orch_dir, False), (mf_dir, True)):
        folder.mkdir()
        source = (FLOWS / name).read_text()
        (folder / name).write_text(to_metaflow(source) if metaflow else source)
    return orch_dir, mf_dir


def _design_figures() -> list:
    lines = []
    data = os.urandom(200 * 1024 * 1024)
    for name in ("sha256", "blake2b"):
        began = time.perf_counter()
        hashlib.new(name, data).hexdigest()
        lines.append("%-38s %6.0f MB/s" % ("hash %s (200 MB)" % name, 200 / (time.perf_counter() - began)))
    from orchestrator.store.cas import ContentAddressedStore
    from orchestrator.store.local import LocalBackend

    text = pickle.dumps(["row %d: some repeated text content" % i for i in range(1_500_000)], protocol=5)
    for label, payload in (("compressible pickle %d MB" % (len(text) >> 20), text), ("random 200 MB", data)):
        began = time.perf_counter()
        zipped = gzip.compress(payload, compresslevel=3)  # Metaflow gzips every blob at level 3
        gzip_seconds = time.perf_counter() - began
        with tempfile.TemporaryDirectory() as tmp:
            cas = ContentAddressedStore(LocalBackend(tmp))
            began = time.perf_counter()
            ref = cas.save_blob([payload])
            ours = time.perf_counter() - began
        lines.append(
            "%-38s gzip-3 alone %.2fs -> %.0f%%   orch policy %.2fs -> %.0f%% (sample, codec, hash, write)"
            % (label, gzip_seconds, 100.0 * len(zipped) / len(payload), ours, 100.0 * ref.stored / len(payload))
        )
    return lines


REPEAT = 3


def _big_array_once(tmp: str, index: int, mf_python: str, env: dict, orch_env: dict) -> tuple:
    """One fresh store per tool per repetition, so no run benefits from an earlier one's blobs."""
    orch_dir, mf_dir = _flow_dirs(tmp, "big_array_flow.py", suffix="-%d" % index)
    orch = run_timed([sys.executable, "big_array_flow.py", "run", "--quiet"], str(orch_dir), orch_env)
    metaflow = run_timed([mf_python, "big_array_flow.py", "--quiet", "run"], str(mf_dir), env)
    return orch, metaflow, orch_dir, mf_dir


def run() -> list:
    lines = []
    mf_python = metaflow_python()
    env = metaflow_env()
    orch_env = dict(env, PYTHONPATH=str(ROOT), ORCH_EXECUTOR="local")  # local vs local
    with tempfile.TemporaryDirectory() as tmp:
        results = [_big_array_once(tmp, i, mf_python, env, orch_env) for i in range(REPEAT)]
        orch = statistics.median(r[0] for r in results)
        metaflow = statistics.median(r[1] for r in results)
        lines.append(report("200 MB array, write + read (median of %d)" % REPEAT, orch, metaflow))
        _, _, orch_dir, mf_dir = results[-1]
        size_one = _du(orch_dir / ".orch")
        run_timed([sys.executable, "big_array_flow.py", "run", "--quiet"], str(orch_dir), orch_env)
        mf_one = _du(mf_dir / ".metaflow")
        run_timed([mf_python, "big_array_flow.py", "--quiet", "run"], str(mf_dir), env)
        lines.append(
            "%-38s orch +%.3f MB (target < 1 MB)   metaflow +%.1f MB"
            % (
                "same flow again: store growth",
                (_du(orch_dir / ".orch") - size_one) / 1e6,
                (_du(mf_dir / ".metaflow") - mf_one) / 1e6,
            )
        )

        orch_dir, mf_dir = _flow_dirs(tmp, "small_artifacts_flow.py")
        args = ["--tasks", "100", "--per_task", "100"]
        orch = run_timed([sys.executable, "small_artifacts_flow.py", "run", "--quiet", *args], str(orch_dir), orch_env)
        metaflow = run_timed([mf_python, "small_artifacts_flow.py", "--quiet", "run", *args], str(mf_dir), env)
        lines.append(report("10,000 small artifacts, 100 tasks", orch, metaflow))
        lines.append(
            "%-38s orch %.0f artifacts/s, store %.1f MB   metaflow %.0f artifacts/s, store %.1f MB"
            % ("", 10000 / orch, _du(orch_dir / ".orch") / 1e6, 10000 / metaflow, _du(mf_dir / ".metaflow") / 1e6)
        )
    lines += _design_figures()
    return lines
