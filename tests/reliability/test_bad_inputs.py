"""Bad input gets a clear error: its exact message, a non-zero exit and no traceback.

Together with the 40 malformed flows of ``tests/data/flows/bad`` (checked by
``tests/unit/graph/test_lint_corpus.py``), this corpus covers parameters,
include files, artifacts, foreach, joins, environments, lock files,
executors, stores, resume, the CLI's own options and the config file.
"""

from __future__ import annotations

import pytest

from orchestrator.cli.main import main
from tests.conftest import FLOWS

BAD = FLOWS / "bad_runs"
PARAMS = str(BAD / "params_flow.py")

# (id, argv after `orch`, with {store} and {flows}; exit code; the message, exactly as printed)
CASES = [
    (
        "int-parameter",
        ["run", PARAMS, "--who", "x", "--alpha", "many"],
        2,
        "--alpha: 'many' is not a valid int. Give e.g. --alpha 42.",
    ),
    (
        "float-parameter",
        ["run", PARAMS, "--who", "x", "--ratio", "abc"],
        2,
        "--ratio: 'abc' is not a valid float. Give e.g. --ratio 0.5.",
    ),
    (
        "bool-parameter",
        ["run", PARAMS, "--who", "x", "--flag", "maybe"],
        2,
        "--flag: 'maybe' is not a valid bool. Give e.g. --flag true.",
    ),
    ("json-parameter", ["run", PARAMS, "--who", "x", "--config", "{bad"], 2, "--config: '{bad' is not a valid JSON."),
    (
        "required-parameter",
        ["run", PARAMS],
        2,
        "Missing required parameter --who. Give it on the command line: --who VALUE (or set ORCH_RUN_WHO).",
    ),
    ("parameter-without-value", ["run", PARAMS, "--who"], 2, "Option --who needs a value. Give it as --who VALUE."),
    (
        "misspelt-parameter",
        ["run", PARAMS, "--who", "x", "--alpah", "1"],
        2,
        "Unknown option --alpah. Did you mean --alpha?",
    ),
    (
        "stray-argument",
        ["run", PARAMS, "--who", "x", "extra"],
        2,
        "Unexpected argument 'extra'. Flow parameters are given as --name value.",
    ),
    (
        "missing-include-file",
        ["run", PARAMS, "--who", "x", "--data", "/nope/data.csv"],
        2,
        "--data: file '/nope/data.csv' does not exist.",
    ),
    (
        "unpicklable-artifact",
        ["run", str(BAD / "unpicklable_flow.py")],
        1,
        "Artifact 'lock' of type _thread.lock cannot be pickled: cannot pickle '_thread.lock' object. Store a picklable value, or remove it before the step ends with 'del self.lock'.",
    ),
    (
        "artifact-name-with-path",
        ["run", str(BAD / "path_name_flow.py")],
        1,
        "Invalid artifact name '../../etc/passwd'. Artifact names are Python identifiers such as 'model'.",
    ),
    (
        "foreach-not-iterable",
        ["run", str(BAD / "not_iterable_flow.py")],
        1,
        "foreach='items' in step 'start': self.items is a int, which is not iterable. Assign a list (or another iterable) to self.items.",
    ),
    (
        "foreach-empty",
        ["run", str(BAD / "empty_foreach_flow.py")],
        1,
        "foreach='items' in step 'start' has no elements. A foreach needs at least one element to run.",
    ),
    (
        "max-num-splits",
        ["run", str(BAD / "too_many_splits_flow.py"), "--max-num-splits", "3"],
        1,
        "Foreach in step start yielded 5 child steps, more than the maximum of 3 (--max-num-splits). Raise it with --max-num-splits 5.",
    ),
    (
        "join-reads-missing-artifact",
        ["run", str(BAD / "missing_in_branch_flow.py")],
        1,
        "missing_in_branch_flow.py:20 in join: AttributeError: Branch b/3 of the join has no artifact 'score'.",
    ),
    (
        "unknown-executor",
        ["run", PARAMS, "--who", "x", "--executor", "warp"],
        2,
        "Invalid value for '--executor': 'warp' is not one of 'local', 'docker', 'auto'.",
    ),
    (
        "ftp-store",
        ["run", PARAMS, "--who", "x", "--store", "ftp://host/x"],
        2,
        "Unsupported store URL 'ftp://host/x'. Use a local directory, file:///path, or s3://bucket/prefix.",
    ),
    (
        "store-without-bucket",
        ["run", PARAMS, "--who", "x", "--store", "s3://"],
        1,
        "The store URL 's3://' names no bucket. Write it as s3://bucket/prefix.",
    ),
    (
        "resume-unknown-run",
        ["resume", PARAMS, "--origin-run-id", "999"],
        1,
        "Run BadParamsFlow/999 does not exist in this store. List runs with: orch runs BadParamsFlow.",
    ),
    (
        "resume-without-runs",
        ["resume", str(BAD / "path_name_flow.py")],
        1,
        "Flow PathNameFlow has no runs in this store to resume. Start one with orch run.",
    ),
    ("max-workers-zero", ["run", PARAMS, "--who", "x", "--max-workers", "0"], 2, "--max-workers must be at least 1."),
    (
        "max-num-splits-zero",
        ["run", PARAMS, "--who", "x", "--max-num-splits", "0"],
        2,
        "--max-num-splits must be at least 1.",
    ),
    (
        "with-unknown-decorator",
        ["run", PARAMS, "--who", "x", "--with", "nope"],
        2,
        "--with nope: there is no step decorator named 'nope'.",
    ),
    ("with-bad-argument", ["run", PARAMS, "--who", "x", "--with", "retry:times=-1"], 2, "@retry in --with: times="),
    (
        "missing-flow-file",
        ["run", "no_such_flow.py"],
        1,
        "no_such_flow.py: no such flow file. Give the path of a Python file that defines a flow.",
    ),
    ("logs-path-traversal", ["logs", "BadParamsFlow/../etc"], 1, "Invalid run name '..'."),
    (
        "batch-with-local-store",
        ["run", PARAMS, "--who", "x", "--with", "batch"],
        2,
        "Steps on AWS Batch need an S3 store, and this run's store is the directory",
    ),
    (
        "configure-bad-s3-root",
        ["configure", "aws", "--s3-root", "bucket/prefix"],
        2,
        "orch configure aws --s3-root must look like s3://bucket/prefix, not 'bucket/prefix'.",
    ),
]


@pytest.mark.parametrize("argv, code, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(argv, code, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "config.json"))
    store_given = "--store" in argv or argv[0] in ("configure",)
    args = list(argv) + ([] if store_given else ["--store", str(tmp_path / "store")])
    if args[0] in ("run", "resume"):
        args.append("--quiet")
    capsys.readouterr()
    assert main(args) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


ENV_CASES = [
    (
        "conflicting-pins",
        "conflict_env_flow.py",
        "The PyPI environment of step 'start' cannot be solved: you require numpy<1.26 and numpy>=2.0, which are incompatible. Loosen or change conflicting pins in @pypi(packages=...).",
    ),
    (
        "nonexistent-package",
        "missing_package_flow.py",
        "The PyPI environment of step 'start' asks for 'no-such-package-orch', which PyPI does not have. Check the package name in @pypi(packages=...).",
    ),
    (
        "lockfile-not-yaml",
        "bad_lockfile_flow.py",
        "is not a valid conda-lock file (line 3: while parsing a flow sequence expected ',' or ']', but got ':'). Regenerate it with orch build-envs or conda-lock.",
    ),
]


@pytest.mark.parametrize("flow, message", [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES])
def test_bad_environment(flow, message, offline_pypi, tmp_path, capsys):
    import shutil

    folder = tmp_path / "flow"
    shutil.copytree(BAD, folder)
    capsys.readouterr()
    assert main(["run", str(folder / flow), "--store", str(tmp_path / "store"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_missing_s3_bucket(moto_server, tmp_path, capsys):
    capsys.readouterr()
    assert main(["run", PARAMS, "--who", "x", "--store", "s3://no-such-bucket-orch/p", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert (
        "S3 bucket 'no-such-bucket-orch' does not exist. Create it (aws s3 mb s3://no-such-bucket-orch) or fix --store / ORCH_STORE."
        in err
    )
    assert "Traceback" not in err


def test_the_corpus_has_at_least_40_cases():
    malformed = list((FLOWS / "bad").glob("*.py"))
    assert len(malformed) >= 40
    assert len(CASES) + len(ENV_CASES) + 1 >= 30
