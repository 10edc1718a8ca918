"""Flows that fail, catch and take click's keywords, read back through each tool's own client and CLI.

The same flow runs under Metaflow 2.19 and under orch (only its import line
differs); ``client_view.py`` then prints what a notebook sees through each
client (task states, artifacts, logs, errors of missing things), and the
documents must be equal. The CLI's ``dump``, ``tag list`` and ``show`` must
print the same, with run ids masked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.metaflow_env import metaflow_env, to_metaflow
from tests.conftest import FLOWS, ROOT
from tests.differential.test_vs_metaflow import metaflow  # noqa: F401 (the fixture)

CLIENT_VIEW = ROOT / "scripts" / "corpus" / "client_view.py"
FLOW = FLOWS / "differential" / "diff_semantics_flow.py"
RUN_ARGS = ["--sizes", "3", "--sizes", "4"]


class Tool:
    """One tool's folder, interpreter and environment, and the flow copied there in its own import form."""

    def __init__(self, folder: Path, python: str, library: str, env: dict) -> None:
        folder.mkdir()
        self.folder, self.python, self.library, self.env = folder, python, library, env
        source = FLOW.read_text()
        (folder / FLOW.name).write_text(to_metaflow(source) if library == "metaflow" else source)

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.python, *args], cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=600
        )

    def flow(self, *args: str) -> subprocess.CompletedProcess:
        return self(FLOW.name, *args)

    def view(self) -> dict:
        done = self(str(CLIENT_VIEW), self.library, "SemanticsFlow")
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)


@pytest.fixture
def tools(tmp_path, metaflow):  # noqa: F811 (the fixture imported above)
    orch_env = dict(os.environ, PYTHONPATH=str(ROOT), ORCH_EXECUTOR="local", ORCH_USER="bench")
    mf = Tool(tmp_path / "mf", metaflow, "metaflow", metaflow_env())
    orch = Tool(tmp_path / "orch", sys.executable, "orchestrator", orch_env)
    for tool in (mf, orch):
        done = tool.flow("run", *RUN_ARGS, "--tag", "nightly")
        assert done.returncode == 1, done.stderr[-3000:]  # the end step fails on purpose
    return mf, orch


def _masked(text: str) -> str:
    return re.sub(r"\b1\d{15}\b", "<run>", text)


def test_a_failed_and_caught_run_reads_the_same_through_both_clients(tools):
    mf, orch = tools
    expected, got = mf.view(), orch.view()
    assert expected["run"].pop("id") != got["run"].pop("id")  # each tool's own run id
    assert got == expected
    # what the document holds, so an empty one cannot pass: a failed run is not finished ...
    assert expected["run"]["finished"] is False and expected["run"]["successful"] is False
    assert expected["run"]["user_tags"] == ["nightly"] and expected["run"]["hasattr_missing"] is False
    end = expected["steps"]["end"][0]
    assert (end["finished"], end["successful"], end["exception"]) == (False, False, "RuntimeError")
    assert end["artifacts"]["partial"] == "end ran"  # ... and keeps what the failed step set
    risky = expected["steps"]["risky"][0]
    assert (risky["finished"], risky["successful"]) == (True, False)  # caught: finished, not successful
    assert risky["artifacts"]["problem"]["caught"] == "MetaflowExceptionWrapper"
    assert risky["artifacts"]["sizes"] == [3, 4] and risky["artifacts"]["name"] == "SemanticsFlow"
    assert risky["missing_attr_default"] == "DEFAULT" and risky["missing_item_error"] == ["Exception", "KeyError"]


def _latest_run_id(tool: Tool) -> str:
    code = "from %s import Flow, namespace; namespace(None); print(Flow('SemanticsFlow').latest_run.id)"
    done = tool("-c", code % tool.library)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_dump_tag_list_and_show_print_the_same(tools):
    """What scripts read: dump and show on stdout (both print a banner and headers on stderr), the quiet
    tag listing on stderr. The caught exception's stacktrace and the system tags (Metaflow's name its
    version and Python) differ by nature and are left out."""
    printed = {}
    for tool in tools:
        run = _latest_run_id(tool)
        dump = tool.flow("dump", "%s/risky" % run, "--include", "before,items,label,name,sizes")
        tags = tool.flow("--quiet", "tag", "list", run)
        show = tool.flow("show")
        assert dump.returncode == tags.returncode == show.returncode == 0, (dump.stderr, tags.stderr, show.stderr)
        printed[tool.library] = (_masked(dump.stdout), _masked(tags.stderr).split(" ; ")[::2], show.stdout)
    assert printed["orchestrator"] == printed["metaflow"]
    assert "before [size: " in printed["metaflow"][0] and printed["metaflow"][1] == ["SemanticsFlow/<run>", "nightly\n"]
    assert "Step risky\n    ?\n    => join\n" in printed["metaflow"][2]
