"""Did a change slow orch down? The same commands under two checkouts, in alternating trials.

Usage: python benchmarks/compare_commits.py BEFORE [AFTER] [--trials N] [--cases cli,runtime,docker]

BEFORE and AFTER are git revisions (AFTER defaults to the work tree). Each is
checked out into a temporary worktree and run with its own code on
PYTHONPATH, on the same flow files and the same machine: trial 1 of BEFORE,
trial 1 of AFTER, trial 2 of BEFORE..., so the drift of a busy VM weighs on
both sides alike. Each line gives both medians and AFTER/BEFORE; a ratio
within the spread of the trials (shown) is noise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import run_timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "benchmarks" / "flows"

# case → (label, flow file, command after the file, trials multiplier, executor)
CASES: Dict[str, List[Tuple[str, str, Sequence[str], int]]] = {
    "cli": [
        ("python flow.py check", "genre_stats_flow.py", ["check"], 3),
        ("python flow.py show", "genre_stats_flow.py", ["show"], 3),
    ],
    "runtime": [
        ("linear-10, local", "linear10_flow.py", ["run", "--quiet", "--executor", "local"], 2),
        ("foreach-100, local, 2 workers", "foreach_flow.py",
         ["run", "--quiet", "--executor", "local", "--n", "100", "--max-workers", "2"], 1),
    ],
    "docker": [
        ("foreach-100, docker, 4 workers", "foreach_flow.py",
         ["run", "--quiet", "--executor", "docker", "--n", "100", "--max-workers", "4"], 1),
    ],
}  # fmt: skip


def _worktree(revision: str, into: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(into), revision], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return into


def _folder(tmp: Path, side: str, flow: str) -> Path:
    folder = tmp / side / flow.replace(".py", "")
    if not folder.exists():
        folder.mkdir(parents=True)
        source = ROOT / "examples" / flow if (ROOT / "examples" / flow).exists() else FLOWS / flow
        shutil.copy(source, folder / "flow.py")
        if (ROOT / "examples" / "movies.csv").exists():
            shutil.copy(ROOT / "examples" / "movies.csv", folder)
    return folder


def compare(before: Path, after: Path, cases: Sequence[str], trials: int) -> List[str]:
    lines = []
    for root in (before, after):  # both import from bytecode, whatever PYTHONDONTWRITEBYTECODE says
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "orchestrator")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            for label, flow, args, more in CASES[case]:
                sides = {"before": before, "after": after}
                times: Dict[str, List[float]] = {"before": [], "after": []}
                for side, root in sides.items():  # warm up: envs, images, bytecode
                    env = dict(os.environ, PYTHONPATH=str(root))
                    run_timed([sys.executable, "flow.py", *args], str(_folder(Path(tmp), side, flow)), env)
                for _ in range(trials * more):
                    for side, root in sides.items():
                        env = dict(os.environ, PYTHONPATH=str(root))
                        folder = _folder(Path(tmp), side, flow)
                        times[side].append(run_timed([sys.executable, "flow.py", *args], str(folder), env))
                b, a = statistics.median(times["before"]), statistics.median(times["after"])
                spread = max(max(t) / min(t) for t in times.values())
                lines.append(
                    "%-34s before %7.3fs  after %7.3fs  after/before %.3f  (max/min within a side %.2f, %d trials)"
                    % (label, b, a, a / b, spread, len(times["after"]))
                )
    return lines


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--cases", default="cli,runtime,docker")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        before = _worktree(args.before, Path(tmp, "before"))
        after = _worktree(args.after, Path(tmp, "after")) if args.after else ROOT
        try:
            for line in compare(before, after, args.cases.split(","), args.trials):
                print(line, flush=True)
        finally:
            for tree in (before, after):
                if tree != ROOT:
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
