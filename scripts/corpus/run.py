"""Run the differential corpus: each public case under Metaflow 2.19.39 and under orch, and compare.

Usage:
  python -m scripts.corpus.run --repos DIR [--cases ID,...] [--groups G,...] [--executor local|docker]
                               [--work DIR] [--pypi-only] [--orch-root CHECKOUT]

``--repos`` is a folder of fetched repositories, one ``OWNER+NAME/repo`` git
directory each (what the search tool's ``fetch`` leaves); files are read at
each case's commit with ``git show``. Cases from a PyPI package are read from
Metaflow's installed wheel. For every case the runner:

1. writes the file and what it needs into a folder per tool (orch's copy with
   only its import lines changed: ``metaflow`` becomes ``orchestrator``);
2. runs the case's commands with each tool (``python FILE run ...``) and
   compares their exit codes;
3. for a flow, compares what each client shows of its latest run
   (``client_view.py``: states, artifacts, logs, cards, errors) and what
   ``dump`` prints of its end step; for a notebook, what its cells print.

Run ids, times and paths are masked. It prints one line per case, the
differences of those that differ, and closes with ``N passed, M failed``
(excluded cases are listed with the reason and not counted). Exit 1 when
any case differs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .cases import CASES, METAFLOW_PACKAGE, Case

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_MASKS = (
    (r"\b1\d{15}\b", "<run-id>"),
    (r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?\b", "<time>"),
    (r"/tmp/[^\s'\")]+", "<path>"),
    # the frames of a traceback a task printed (@catch prints one, each line as ">  ..."): each tool's own
    (r'(?m)^\s*">  .*\n', ""),
)
IMPORT = re.compile(r"^(\s*)(from|import)\s+metaflow(?=[\s.])", re.M)


def orch_source(text: str) -> str:
    """The case's code as an orch user would port it: only its import lines change. ``import metaflow``
    becomes ``import orchestrator as metaflow`` so the rest of the code reads as written."""

    def replace(match: re.Match) -> str:
        indent, keyword = match.group(1), match.group(2)
        return "%s%s orchestrator" % (indent, keyword)

    text = re.sub(r"^(\s*)import metaflow\s*$", r"\1import orchestrator as metaflow", text, flags=re.M)
    return IMPORT.sub(replace, text)


def orch_notebook(text: str) -> str:
    notebook = json.loads(text)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = orch_source("".join(cell.get("source", [])))
            cell["source"] = source.splitlines(keepends=True)
    return json.dumps(notebook)


@dataclass
class Tool:
    """One side of the comparison: its Python, environment and client package."""

    name: str  # "metaflow" or "orch"
    python: str
    env: Dict[str, str]
    library: str  # what client_view imports

    def port(self, path: str, text: str) -> str:
        if self.name == "metaflow":
            return text
        return orch_notebook(text) if path.endswith(".ipynb") else orch_source(text)

    def run(self, argv: Sequence[str], cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [self.python, *argv], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as err:
            return subprocess.CompletedProcess(err.cmd, 124, err.stdout or "", "timed out after %d s" % timeout)


@dataclass
class Result:
    case: Case
    same: bool = True
    differences: List[str] = field(default_factory=list)

    def differ(self, what: str, theirs: str, ours: str) -> None:
        self.same = False
        diff = difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "metaflow", "orch", lineterm="", n=1)
        self.differences.append("%s:\n%s" % (what, "\n".join(list(diff)[:40])))


class Sources:
    """Reads a case's files: from a fetched repository at its commit, or from Metaflow's installed wheel."""

    def __init__(self, repos: Optional[Path], metaflow_python: str) -> None:
        self.repos = repos
        self.metaflow_python = metaflow_python
        self._site: Optional[Path] = None

    def read(self, case: Case, path: str) -> str:
        if case.repo == METAFLOW_PACKAGE:
            return (self._site_packages() / path).read_text(encoding="utf-8")
        if self.repos is None:
            raise FileNotFoundError("case %s needs --repos (it reads %s)" % (case.id, case.repo))
        git_dir = self.repos / case.repo.replace("/", "+") / "repo"
        done = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", "%s:%s" % (case.commit, path)], capture_output=True, text=True
        )
        if done.returncode:
            raise FileNotFoundError("%s@%s:%s: %s" % (case.repo, case.commit[:12], path, done.stderr.strip()))
        return done.stdout

    def _site_packages(self) -> Path:
        if self._site is None:
            code = "import metaflow, os; print(os.path.dirname(os.path.dirname(metaflow.__file__)))"
            self._site = Path(subprocess.check_output([self.metaflow_python, "-c", code], text=True).strip())
        return self._site


def mask(text: str, case: Case) -> str:
    for pattern, replacement in DEFAULT_MASKS + case.masks:
        text = re.sub(pattern, replacement, text)
    return "\n".join(sorted(text.splitlines())) if case.unordered else text


def materialize(case: Case, tool: Tool, folder: Path, sources: Sources) -> Path:
    """Write the case's file (ported for orch), the repository files it needs, and its inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(case.path).name
    target.write_text(tool.port(case.path, sources.read(case, case.path)), encoding="utf-8")
    for extra in case.extra:
        (folder / Path(extra).name).write_text(sources.read(case, extra), encoding="utf-8")
    for name, content in case.files:
        (folder / name).write_text(content, encoding="utf-8")
    return target


def observe(case: Case, tool: Tool, folder: Path, sources: Sources) -> Tuple[List[int], str]:
    """(exit codes of the case's commands, what the tool shows afterwards, masked)."""
    target = materialize(case, tool, folder, sources)
    if case.is_notebook:
        done = tool.run([str(HERE / "notebook.py"), target.name], folder)
        return [done.returncode], mask(done.stdout, case)
    codes = [tool.run([target.name, *command], folder).returncode for command in case.commands]
    view = tool.run(
        [str(HERE / "client_view.py"), tool.library, case.flow or "", "--unstable", ",".join(case.unstable)], folder
    )
    shown = view.stdout if view.returncode == 0 else "client_view failed:\n" + view.stderr[-2000:]
    run_id = _latest_run(view.stdout) if view.returncode == 0 else None
    if run_id:
        dump = tool.run([target.name, "dump", "%s/end" % run_id], folder)
        printed = dump.stdout
        for name in case.unstable:  # what the flow made random: its line, not its value
            printed = re.sub(
                r"(?m)^%s \[size: \d+ type: [^\]]*\] = .*$" % re.escape(name), name + " <unstable>", printed
            )
        shown += "\n--- dump %s/end (exit %d)\n%s" % (run_id, dump.returncode, printed)
    return codes, mask(shown, case)


def _latest_run(view_json: str) -> Optional[str]:
    return json.loads(view_json).get("run", {}).get("id")


def compare(case: Case, tools: Sequence[Tool], work: Path, sources: Sources) -> Result:
    result = Result(case)
    seen = {}
    for tool in tools:
        try:
            seen[tool.name] = observe(case, tool, work / case.group / tool.name, sources)
        except FileNotFoundError as err:
            result.differ("could not read the case", str(err), "")
            return result
    (their_codes, theirs), (our_codes, ours) = seen["metaflow"], seen["orch"]
    if their_codes != our_codes:
        result.differ("exit codes", repr(their_codes), repr(our_codes))
    if theirs != ours:
        result.differ("what the tools show", theirs, ours)
    return result


def make_tools(metaflow_python: str, executor: str, orch_root: Path = ROOT) -> List[Tool]:
    from benchmarks.metaflow_env import metaflow_env

    # One hash seed for both: a flow that iterates a set of strings (tutorial 02's genres) then sees the
    # same order in both tools' tasks, as it would in two runs of one tool with that seed.
    same = {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    mf_env = dict(metaflow_env(), **same)
    orch_env = dict(os.environ, PYTHONPATH=str(orch_root), ORCH_EXECUTOR=executor, ORCH_USER=mf_env["USERNAME"], **same)
    for name in ("ORCH_STORE", "METAFLOW_PROFILE"):
        orch_env.pop(name, None)
    return [
        Tool("metaflow", metaflow_python, mf_env, "metaflow"),
        Tool("orch", sys.executable, orch_env, "orchestrator"),
    ]


def run_corpus(
    cases: Iterable[Case],
    repos: Optional[Path],
    work: Path,
    executor: str = "local",
    out=sys.stdout,
    orch_root: Path = ROOT,
) -> List[Result]:
    from benchmarks.metaflow_env import metaflow_python

    python = metaflow_python(install=False)
    tools, sources = make_tools(python, executor, orch_root), Sources(repos, python)
    results = []
    for case in cases:
        if case.excluded:
            print("EXCLUDED %-40s %s" % (case.id, case.excluded), file=out)
            continue
        result = compare(case, tools, work, sources)
        results.append(result)
        print("%-8s %s" % ("PASS" if result.same else "FAIL", case.id), file=out, flush=True)
        for difference in result.differences:
            print("    " + difference.replace("\n", "\n    "), file=out)
    passed = sum(r.same for r in results)
    print("%d passed, %d failed" % (passed, len(results) - passed), file=out)
    return results


def select(ids: Optional[str], groups: Optional[str], pypi_only: bool) -> List[Case]:
    chosen = [c for c in CASES if not pypi_only or c.repo == METAFLOW_PACKAGE]
    if groups:
        chosen = [c for c in chosen if c.group in groups.split(",")]
    if ids:
        wanted = ids.split(",")
        unknown = sorted(set(wanted) - {c.id for c in CASES})
        if unknown:
            sys.exit("corpus: unknown case(s): %s" % ", ".join(unknown))
        chosen = [c for c in chosen if c.id in wanted]
    return chosen


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=Path, help="folder of fetched repositories (OWNER+NAME/repo)")
    parser.add_argument("--cases", help="comma-separated case ids")
    parser.add_argument("--groups", help="comma-separated groups")
    parser.add_argument("--pypi-only", action="store_true", help="only the cases read from a PyPI package")
    parser.add_argument("--executor", default="local", choices=("local", "docker"), help="orch's executor")
    parser.add_argument("--work", type=Path, help="working folder (default: a fresh temporary one)")
    parser.add_argument("--orch-root", type=Path, default=ROOT, help="the orch checkout to test (default: this one)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="orch-corpus-"))
    if args.work and work.exists():
        shutil.rmtree(work)
    chosen = select(args.cases, args.groups, args.pypi_only)
    results = run_corpus(chosen, args.repos, work, args.executor, orch_root=args.orch_root.resolve())
    return 0 if all(r.same for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
