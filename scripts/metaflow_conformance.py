#!/usr/bin/env python3
"""Run Metaflow's conformance suite (``test/core``) against orch, beside Metaflow itself.

A development tool, not part of ``make test``. It takes a checkout of
Metaflow's repository (the search tool's ``fetch`` of github:Netflix/metaflow
gives one) and a Python with ``metaflow==2.19.39`` (``benchmarks/metaflow_env``
makes one). Nothing of Metaflow's is copied into this repository: the suite's
files are read from the checkout at run time.

1. **Generate.** In Metaflow's Python, the suite's own ``FlowFormatter``
   crosses each graph (``graphs/*.json``) with each test (``tests/*.py``) and
   writes the flow and checker code of every valid pair.
2. **Run.** Each pair runs in a fresh folder, as the suite's ``run_tests.py``
   runs it in its local context (same environment, top-level and run options,
   ``--run-id-file``, a resume where the test asks for one). For orch, the
   flow's and the checker's import lines are rewritten from ``metaflow`` to
   ``orchestrator``: the one change a user makes when porting.
3. **Check.** The suite's checkers (``MetadataCheck`` over the client API,
   ``CliCheck`` over ``dump``/``logs``/``tag``) read the finished run.

Usage::

    python scripts/metaflow_conformance.py --metaflow-repo /path/to/metaflow \\
        [--target orch|metaflow|both] [--checks metadata,cli] [--executor cli|api] \\
        [--tests name,...] [--graphs name,...] [--jobs 2] [--json out.json] [--keep]

Prints one line per pair and a matrix: test x graph, with ``ok``, ``FAIL``
(and the first failing stage), for each target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent

# The suite's local context ("python3-all-local" in test/core/contexts.json), as its runner uses it.
CONTEXT_ENV = {
    "METAFLOW_USER": "tester",
    "METAFLOW_RUN_BOOL_PARAM": "False",
    "METAFLOW_RUN_NO_DEFAULT_PARAM": "test_str",
    "METAFLOW_DEFAULT_METADATA": "local",
}
TOP_OPTIONS = [
    "--metadata=local",
    "--datastore=local",
    "--environment=local",
    "--event-logger=nullSidecarLogger",
    "--no-pylint",
    "--quiet",
]
RUN_OPTIONS = [
    "--max-workers=50",
    "--max-num-splits=10000",
    "--tag=\u523a\u8eab means sashimi",
    "--tag=multiple tags should be ok",
]
# Disabled in that context by Metaflow itself (they need S3 or a realtime card service).
DISABLED_TESTS = {"LargeArtifactTest", "S3FailureTest"}
# Disabled in the suite's main context; its "cards-realtime" context (itself disabled) runs them.
REALTIME_CARD_TESTS = {"CardComponentRefreshTest", "CardWithRefreshTest"}
CHECK_CLASSES = {"metadata": "MetadataCheck", "cli": "CliCheck"}
STEP_SECONDS = 600

GENERATE = r"""
import importlib, json, os, sys
core = sys.argv[1]
sys.path.insert(0, core)
sys.path.insert(0, os.path.join(core, "tests"))
from metaflow_test import MetaflowTest
from metaflow_test.formatter import FlowFormatter
graphs = []
for name in sorted(os.listdir(os.path.join(core, "graphs"))):
    if name.endswith(".json"):
        with open(os.path.join(core, "graphs", name)) as handle:
            graphs.append(json.load(handle))
tests = []
for name in sorted(os.listdir(os.path.join(core, "tests"))):
    if name.endswith(".py"):
        module = importlib.import_module(name[:-3])
        for attr in dir(module):
            obj = getattr(module, attr)
            if attr != "MetaflowTest" and isinstance(obj, type) and issubclass(obj, MetaflowTest):
                tests.append(obj())
pairs = []
for test in sorted(tests, key=lambda t: (t.PRIORITY, type(t).__name__)):
    for graph in graphs:
        formatter = FlowFormatter(graph, test)
        if not formatter.valid:
            continue
        parallel = any("num_parallel" in node for node in graph["graph"].values())
        pairs.append(dict(
            test=type(test).__name__, graph=graph["name"], flow_name=formatter.flow_name,
            flow_code=formatter.flow_code, check_code=formatter.check_code,
            copy_files=list(formatter.copy_files), should_fail=bool(formatter.should_fail),
            should_resume=bool(formatter.should_resume), resume_step=formatter.resume_step,
            parallel=parallel,
        ))
json.dump(pairs, sys.stdout)
"""

# The "api" executor: the flow is started through the target's Runner API (Metaflow's, or orch's), in
# the target's Python, with the options above as keywords, as the suite's run_tests.py does.
DRIVE_API = r"""
import json, sys
from {package} import Runner
mode, top, kwargs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
runner = Runner("test_flow.py", show_output=False, **top)
result = getattr(runner, mode)(**kwargs)
with open(result.command_obj.log_files["stdout"], encoding="utf-8") as handle:
    sys.stdout.write(handle.read())
with open(result.command_obj.log_files["stderr"], encoding="utf-8") as handle:
    sys.stderr.write(handle.read())
sys.exit(result.command_obj.process.returncode)
"""


def api_kwargs(options: List[str]) -> Dict[str, object]:
    """Command-line options as the Runner API's keywords: ``--max-workers=50`` → max_workers=50,
    ``--no-pylint`` → pylint=False, ``--quiet`` → quiet=True, each ``--tag=x`` → tags=[...]."""
    kwargs: Dict[str, object] = {}
    for option in options:
        name, has_value, value = option[2:].partition("=")
        key = name.replace("-", "_")
        if not has_value:
            if key.startswith("no_"):
                kwargs[key[3:]] = False
            else:
                kwargs[key] = True
        elif key == "tag":
            kwargs.setdefault("tags", []).append(value)  # type: ignore[union-attr]
        else:
            kwargs[key] = int(value) if value.isdigit() else value
    return kwargs


_IMPORT = re.compile(r"^(\s*)(from|import)(\s+)metaflow(?=[\s.])", re.M)


def to_orch(source: str) -> str:
    """Change the import lines, and nothing else: ``from metaflow...`` → ``from orchestrator...``."""
    return _IMPORT.sub(lambda m: "%s%s%sorchestrator" % (m.group(1), m.group(2), m.group(3)), source)


# The suite's harness (metaflow_test/, not the flows) imports one Metaflow internal orch has no
# counterpart of: the IncludeFile wrapper class. Its import goes to this stand-in, written beside it.
_HARNESS_STANDIN = "_orch_harness_standin"
_HARNESS_MODULES = ("metaflow.includefile",)
_STANDIN_SOURCE = '''"""Written by scripts/metaflow_conformance.py: what the harness needs of modules orch lacks."""


class IncludedFile:
    """Metaflow wraps IncludeFile values; orch stores the contents themselves, so nothing is one."""
'''


def _extension_packages(core: Path) -> List[Path]:
    """The metaflow_extensions folders of test/extensions/packages/* (Metaflow's CI pip-installs them;
    here they go on the path)."""
    return sorted((core.parent / "extensions" / "packages").glob("*/metaflow_extensions"))


def harness_to_orch(source: str) -> str:
    """The harness's imports: internals orch lacks go to the stand-in, the rest as ``to_orch``."""
    for module in _HARNESS_MODULES:
        source = re.sub(
            r"^(\s*)from %s import" % re.escape(module), r"\1from %s import" % _HARNESS_STANDIN, source, flags=re.M
        )
    return to_orch(source)


@dataclass
class Outcome:
    test: str
    graph: str
    target: str
    ok: bool
    stage: str = ""  # where it failed: run, resume, check:<name>, expected-failure
    detail: str = ""
    seconds: float = 0.0
    checks: Dict[str, bool] = field(default_factory=dict)


def generate(core: Path, metaflow_python: str) -> List[dict]:
    result = subprocess.run(
        [metaflow_python, "-c", GENERATE, str(core)], capture_output=True, text=True, check=False, cwd=str(core)
    )
    if result.returncode != 0:
        raise SystemExit("Generating the suite's flows failed:\n%s" % result.stderr[-4000:])
    return json.loads(result.stdout)


def _tail(process: subprocess.CompletedProcess) -> str:
    text = (process.stderr or "") + (process.stdout or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-4:])[-600:]


def run_pair(
    pair: dict, target: str, core: Path, python: str, checks: List[str], keep: bool, executor: str = "cli"
) -> Outcome:
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="conformance-%s-" % target))
    outcome = Outcome(pair["test"], pair["graph"], target, False)
    try:
        rewrite = to_orch if target == "orch" else (lambda text: text)
        (folder / "test_flow.py").write_text(rewrite(pair["flow_code"]), encoding="utf-8")
        (folder / "check_flow.py").write_text(rewrite(pair["check_code"]), encoding="utf-8")
        shutil.copytree(core / "metaflow_test", folder / "metaflow_test")
        harness = harness_to_orch if target == "orch" else rewrite
        for path in (folder / "metaflow_test").glob("*.py"):
            path.write_text(harness(path.read_text(encoding="utf-8")), encoding="utf-8")
        if target == "orch":
            (folder / (_HARNESS_STANDIN + ".py")).write_text(_STANDIN_SOURCE, encoding="utf-8")
            # The suite's own extension package (custom card types for CardImportTest): its import lines
            # changed, as a user's card package would be. orch reads only its plugins/cards.
            # So are the card packages Metaflow's CI installs for CardExtensionsImportTest (test/extensions).
            for extensions in [core / "metaflow_extensions"] + _extension_packages(core):
                for source in extensions.rglob("*.py"):
                    copy = folder / "metaflow_extensions" / source.relative_to(extensions)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    copy.write_text(to_orch(source.read_text(encoding="utf-8")), encoding="utf-8")
        for name in pair["copy_files"]:
            shutil.copy2(core / "tests" / name, folder / name)
        env = {
            "USER": os.environ.get("USER", "tester"),
            "HOME": os.environ.get("HOME", str(folder)),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            # Metaflow's local @parallel starts its workers with the `python` on PATH: make it the target's.
            "PATH": os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "/usr/bin:/bin")]),
            "PYTHONIOENCODING": "utf_8",
            # orch: this checkout; Metaflow: the suite's own test extensions (metaflow_extensions/ in test/core)
            "PYTHONPATH": os.pathsep.join(
                [str(folder)]
                + (
                    [str(ROOT)]
                    if target == "orch"
                    else [str(core)] + [str(p.parent) for p in _extension_packages(core)]
                )
            ),
            "ORCH_EXECUTOR": os.environ.get("ORCH_EXECUTOR", "local"),
            "ORCH_CACHE": os.environ.get("ORCH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "orch")),
        }
        env.update(CONTEXT_ENV)

        def call(argv: List[str]) -> subprocess.CompletedProcess:
            return subprocess.run(
                argv, cwd=str(folder), env=env, capture_output=True, text=True, timeout=STEP_SECONDS, check=False
            )

        def flow_command(mode: str, extra: Optional[List[str]] = None) -> List[str]:
            return [python, "-B", "test_flow.py", *TOP_OPTIONS, mode, *(extra or []), "--run-id-file", "run-id"] + (
                RUN_OPTIONS
            )

        def start(mode: str) -> subprocess.CompletedProcess:
            step = [pair["resume_step"]] if mode == "resume" and pair["resume_step"] else []
            if executor == "cli":
                return call(flow_command(mode, step))
            kwargs = dict(api_kwargs(RUN_OPTIONS), run_id_file="run-id")
            if step:
                kwargs["step_to_rerun"] = step[0]
            script = DRIVE_API.format(package="orchestrator" if target == "orch" else "metaflow")
            return call([python, "-c", script, mode, json.dumps(api_kwargs(TOP_OPTIONS)), json.dumps(kwargs)])

        process = start("run")
        if process.returncode:
            if pair["should_fail"]:
                pass
            elif pair["should_resume"]:
                process = start("resume")
                if process.returncode:
                    outcome.stage, outcome.detail = "resume", _tail(process)
                    return outcome
            else:
                outcome.stage, outcome.detail = "run", _tail(process)
                return outcome
        elif pair["should_fail"]:
            outcome.stage, outcome.detail = "expected-failure", "the flow should have failed but did not"
            return outcome
        run_id_file = folder / "run-id"
        if not run_id_file.exists():
            outcome.stage, outcome.detail = "run", "no run-id file was written"
            return outcome
        run_id = run_id_file.read_text().strip()
        failed = ""
        for name in checks:
            checked = call([python, "check_flow.py", CHECK_CLASSES[name], run_id, *TOP_OPTIONS])
            outcome.checks[name] = checked.returncode == 0
            if checked.returncode and not failed:
                failed, outcome.detail = "check:%s" % name, _tail(checked)
        outcome.stage = failed
        outcome.ok = not failed
        return outcome
    except subprocess.TimeoutExpired as err:
        outcome.stage, outcome.detail = "timeout", str(err)[:300]
        return outcome
    finally:
        outcome.seconds = time.monotonic() - began
        if keep:
            outcome.detail += " [kept: %s]" % folder
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _matrix(outcomes: List[Outcome], targets: List[str]) -> str:
    rows: Dict[tuple, Dict[str, Outcome]] = {}
    for outcome in outcomes:
        rows.setdefault((outcome.test, outcome.graph), {})[outcome.target] = outcome
    width = max([len("%s/%s" % key) for key in rows] + [10])
    lines = ["%-*s  %s" % (width, "test/graph", "  ".join("%-16s" % t for t in targets))]
    for key in sorted(rows):
        cells = []
        for target in targets:
            found = rows[key].get(target)
            cells.append("%-16s" % ("-" if found is None else "ok" if found.ok else "FAIL " + found.stage)[:16])
        lines.append("%-*s  %s" % (width, "%s/%s" % key, "  ".join(cells)))
    for target in targets:
        mine = [o for o in outcomes if o.target == target]
        lines.append("%s: %d of %d pairs pass" % (target, sum(o.ok for o in mine), len(mine)))
    if len(targets) == 2:
        both = {k: v for k, v in rows.items() if len(v) == 2}
        base = [k for k, v in both.items() if v[targets[1]].ok]
        held = [k for k in base if both[k][targets[0]].ok]
        lines.append("%s passes %d of the %d pairs %s passes" % (targets[0], len(held), len(base), targets[1]))
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metaflow-repo", required=True, help="a checkout (or bare clone's work tree) of Metaflow")
    parser.add_argument("--metaflow-python", help="a Python with metaflow==2.19.39 (default: benchmarks' venv)")
    parser.add_argument("--target", choices=("orch", "metaflow", "both"), default="both")
    parser.add_argument("--checks", default="metadata", help="comma-separated: metadata, cli")
    parser.add_argument("--executor", choices=("cli", "api"), default="cli", help="start flows by CLI or Runner API")
    parser.add_argument("--tests", default="", help="comma-separated test class names (default: all)")
    parser.add_argument("--graphs", default="", help="comma-separated graph names (default: all)")
    parser.add_argument("--skip-cards", action="store_true", help="leave out the card tests")
    parser.add_argument(
        "--realtime-cards", action="store_true", help="also the live-card tests (the suite's cards-realtime context)"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="write every outcome here")
    parser.add_argument("--keep", action="store_true", help="keep each pair's folder for debugging")
    args = parser.parse_args(argv)

    core = Path(args.metaflow_repo) / "test" / "core"
    if not (core / "metaflow_test" / "formatter.py").is_file():
        parser.error("%s has no test/core/metaflow_test/formatter.py" % args.metaflow_repo)
    metaflow_python = args.metaflow_python
    if not metaflow_python:
        sys.path.insert(0, str(ROOT))
        from benchmarks.metaflow_env import metaflow_python as make_metaflow_python

        metaflow_python = make_metaflow_python()
    pairs = generate(core, metaflow_python)
    wanted_tests = {t.strip() for t in args.tests.split(",") if t.strip()}
    wanted_graphs = {g.strip() for g in args.graphs.split(",") if g.strip()}
    pairs = [
        p
        for p in pairs
        if (not wanted_tests or p["test"] in wanted_tests)
        and (not wanted_graphs or p["graph"] in wanted_graphs)
        and p["test"] not in DISABLED_TESTS
        and not (args.skip_cards and "Card" in p["test"])
        and (args.realtime_cards or p["test"] not in REALTIME_CARD_TESTS)
    ]
    checks = [c.strip() for c in args.checks.split(",") if c.strip()]
    targets = ["orch", "metaflow"] if args.target == "both" else [args.target]
    pythons = {"orch": sys.executable, "metaflow": metaflow_python}
    jobs = [(pair, target) for pair in pairs for target in targets]
    print(
        "%d pairs x %s, checks: %s, executor: %s" % (len(pairs), "+".join(targets), ",".join(checks), args.executor),
        flush=True,
    )
    outcomes: List[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_pair, p, t, core, pythons[t], checks, args.keep, args.executor) for p, t in jobs]
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            print(
                "%-8s %-44s %-4s %5.1fs %s"
                % (
                    outcome.target,
                    "%s/%s" % (outcome.test, outcome.graph),
                    "ok" if outcome.ok else "FAIL",
                    outcome.seconds,
                    ("%s: %s" % (outcome.stage, outcome.detail)) if not outcome.ok else "",
                ),
                flush=True,
            )
    print()
    print(_matrix(outcomes, targets))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
