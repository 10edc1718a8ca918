"""The orch CLI: show, check, --version, --help, and Metaflow-style `python flow.py <command>`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from orchestrator import __version__
from orchestrator.cli.flow_entry import script_argv
from orchestrator.cli.main import cli, main
from tests.conftest import EXAMPLES, FLOWS, ROOT, rel

GENRE = rel(EXAMPLES / "genre_stats_flow.py")


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == "orch %s" % __version__


@pytest.mark.parametrize("command", [[], ["show"], ["check"], ["run"], ["resume"]])
def test_help_on_every_command(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_show_json_lists_the_four_genre_steps(in_root):
    result = invoke("show", GENRE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["flow"] == "GenreStatsFlow"
    steps = [(s["name"], s["type"], s["next"]) for s in doc["steps"]]
    assert steps == [
        ("start", "foreach", ["compute_statistics"]),
        ("compute_statistics", "linear", ["join"]),
        ("join", "join", ["end"]),
        ("end", "end", []),
    ]
    compute = doc["steps"][1]
    assert {d["name"]: d["attributes"] for d in compute["decorators"]} == {
        "catch": {"var": "compute_failed", "print_exception": True},
        "retry": {"times": 1, "minutes_between_retries": 2},
    }
    assert doc["steps"][0]["foreach"] == "genres"
    assert doc["parameters"][0]["name"] == "movie_data"


def test_show_text_has_docstrings_transitions_and_envs(in_root):
    result = invoke("show", rel(FLOWS / "good" / "metaflow_port.py"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Flow PortedFlow" in out
    assert "train  (linear, line 30)  @conda(packages={'pandas': '1.5.3'}, python='3.10')" in out
    assert "env: conda: python=3.10 numpy=1.26.4 pandas=1.5.3" in out
    assert "→ train, evaluate" in out
    assert "--run-name" in out and "required" in out


def test_show_dot(in_root):
    result = invoke("show", GENRE, "--format", "dot")
    assert result.exit_code == 0
    assert result.output.startswith('digraph "GenreStatsFlow" {')
    assert '"start" -> "compute_statistics" [style=dashed, label="foreach genres"];' in result.output
    assert result.output.rstrip().endswith("}")


def test_show_of_an_invalid_flow_prints_problems(in_root):
    path = rel(FLOWS / "bad" / "many_problems.py")
    code = main(["show", path])
    assert code == 1


def test_check_valid_flow(in_root):
    result = invoke("check", GENRE)
    assert result.exit_code == 0
    assert "flow GenreStatsFlow is valid: 4 steps." in result.output


def test_missing_file_is_a_clean_error(in_root, capsys):
    assert main(["check", "nope.py"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "nope.py: no such flow file. Give the path of a Python file that defines a flow."


def test_bad_format_is_a_usage_error(in_root, capsys):
    assert main(["show", GENRE, "--format", "pdf"]) == 2
    assert "Invalid value for '--format'" in capsys.readouterr().err


def test_user_errors_have_no_traceback_unless_debug(in_root, capsys):
    assert main(["run", GENRE, "--nope", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "Unknown option --nope. The flow's parameters are: --movie_data."
    assert main(["--debug", "run", GENRE, "--nope", "1"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_script_argv_inserts_flow_file():
    assert script_argv(["show", "--format", "json"], "f.py") == ["show", "f.py", "--format", "json"]
    assert script_argv(["--debug", "check"], "f.py") == ["--debug", "check", "f.py"]
    assert script_argv(["--help"], "f.py") == ["--help"]
    assert script_argv([], "f.py") == []


def test_script_argv_skips_metaflows_top_level_options():
    top = ["--metadata=local", "--datastore", "local", "--environment=local", "--no-pylint", "--quiet"]
    assert script_argv(top + ["run", "--tag", "t"], "f.py") == top + ["run", "f.py", "--tag", "t"]
    assert script_argv(["--with", "retry", "run"], "f.py") == ["--with", "retry", "run", "f.py"]


@pytest.mark.parametrize(
    "option, message",
    [
        ("--metadata=service", "'service' is not supported: orch keeps run metadata in its store"),
        (
            "--datastore=gs",
            "'gs' is not supported: orch stores runs in a local directory or in S3. Use one of: local, s3.",
        ),
        ("--environment=docker", "'docker' is not supported: @conda and @pypi always apply in orch"),
        ("--event-logger=kafka", "'kafka' is not supported: orch has no sidecar event loggers."),
        ("--monitor=statsd", "'statsd' is not supported: orch has no sidecar monitors."),
    ],
)
def test_unknown_top_level_values_get_a_clear_error(option, message, capsys):
    assert main([option, "check", str(FLOWS / "good" / "linear.py")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_accepted_top_level_options_reach_the_command(tmp_path, capsys, monkeypatch):
    """--datastore-root is the store, --with adds a decorator, the no-op ones are accepted."""
    monkeypatch.setenv("ORCH_EXECUTOR", "local")
    store = tmp_path / "store"
    args = ["--metadata=local", "--datastore=local", "--datastore-root", str(store), "--environment=conda"]
    args += ["--event-logger=nullSidecarLogger", "--monitor=nullSidecarMonitor", "--no-pylint", "--quiet"]
    args += ["--with", "retry:times=2", "run", str(FLOWS / "good" / "linear.py")]
    assert main(args) == 0, capsys.readouterr().err
    run = sorted(store.glob("flows/*/runs/*/run.json"))
    assert len(run) == 1
    assert '"retry"' in run[0].read_text() and '"times":2' in run[0].read_text().replace(" ", "")


def test_datastore_s3_needs_a_bucket(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("ORCH_STORE", raising=False)
    monkeypatch.setenv("ORCH_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.delenv("ORCH_S3_ROOT", raising=False)
    assert main(["--datastore=s3", "run", str(FLOWS / "good" / "linear.py")]) == 2
    assert "--datastore=s3 needs the bucket: give --datastore-root s3://BUCKET/PREFIX" in capsys.readouterr().err


def _python(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_python_flow_py_show_and_check():
    shown = _python("genre_stats_flow.py", "show", "--format", "json", cwd=EXAMPLES)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["steps"]) == 4
    checked = _python("linear_flow.py", "check", cwd=EXAMPLES)
    assert checked.returncode == 0
    assert checked.stdout.strip() == "linear_flow.py: flow LinearFlow is valid: 3 steps."


def test_python_flow_py_check_on_a_bad_flow_has_no_traceback(tmp_path):
    flow = tmp_path / "broken.py"
    flow.write_text(
        "from orchestrator import FlowSpec, step\n\n"
        "class Broken(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.nowhere)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n"
        "if __name__ == '__main__':\n"
        "    Broken()\n"
    )
    result = _python("broken.py", "check", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broken.py:6: Step 'start' transitions to an unknown step 'nowhere'." in result.stderr


def test_python_flow_py_with_bad_decorator_fails_at_import(tmp_path):
    flow = tmp_path / "bad_deco.py"
    flow.write_text(
        "from orchestrator import FlowSpec, step, retry\n\n"
        "class BadDeco(FlowSpec):\n"
        "    @retry(times=-1)\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n"
        "if __name__ == '__main__':\n"
        "    BadDeco()\n"
    )
    result = _python("bad_deco.py", "check", cwd=tmp_path)
    assert result.returncode != 0
    assert "@retry on step 'start': times=-1 is out of range" in result.stderr
    assert "bad_deco.py:4:" in result.stderr


def test_show_draws_svg_and_png_with_graphviz(tmp_path, capsys):
    from orchestrator.cli.main import main

    flow = str(EXAMPLES / "genre_stats_flow.py")
    assert main(["show", flow, "--format", "svg", "--out", str(tmp_path / "g.svg")]) == 0
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "compute_statistics" in svg
    assert main(["show", flow, "--format", "png", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_picture_without_graphviz_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    from orchestrator.cli.main import main

    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    capsys.readouterr()
    assert (
        main(["show", str(EXAMPLES / "genre_stats_flow.py"), "--format", "svg", "--out", str(tmp_path / "g.svg")]) == 1
    )
    err = capsys.readouterr().err
    assert "needs Graphviz's dot, which is not installed" in err and "apt-get install graphviz" in err
    assert not (tmp_path / "g.svg").exists()
