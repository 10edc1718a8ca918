"""Run every benchmark and print one line per figure (ratios against Metaflow or the physical floor).

Usage: python benchmarks/run.py [name ...]   (default: all)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = [
    "bench_cli",
    "bench_store",
    "bench_runtime",
    "bench_docker",
    "bench_slurm",
    "bench_sfn",
    "bench_envs",
    "bench_ui",
    "bench_memo",
    "bench_cards",
]


def main(names: list[str]) -> int:
    for name in names or BENCHMARKS:
        if name not in BENCHMARKS:
            print("unknown benchmark %r; choose from %s" % (name, ", ".join(BENCHMARKS)), file=sys.stderr)
            return 2
        print("== %s" % name, flush=True)
        module = importlib.import_module("benchmarks." + name)
        for line in module.run():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
