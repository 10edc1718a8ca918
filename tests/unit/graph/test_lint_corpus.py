"""Every malformed flow in tests/data/flows/bad reports exactly the problems its footer lists."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from orchestrator.authoring.loader import check_flow
from orchestrator.cli.main import cli
from tests.conftest import FLOWS, rel

BAD = sorted((FLOWS / "bad").glob("*.py"))
EXPECT = re.compile(r"^# expect: (\d+): (.*)$")


def expected(path) -> list[str]:
    lines = []
    for text in path.read_text().splitlines():
        match = EXPECT.match(text)
        if match:
            lines.append("%s: %s" % (match.group(1), match.group(2).replace("{file}", rel(path))))
    return sorted(lines)


def test_corpus_is_large_enough():
    assert len(BAD) >= 25


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_reports_every_problem_with_its_line(path, in_root):
    want = expected(path)
    assert want, "%s has no '# expect:' footer" % path.name
    loaded, problems = check_flow(rel(path))
    assert loaded is None
    got = sorted("%d: %s" % (p.line, " ".join(filter(None, (p.message, p.hint)))) for p in problems)
    assert got == want
    assert all(p.file == rel(path) for p in problems)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_cli_check_prints_file_line_and_exits_1(path, in_root):
    result = CliRunner().invoke(cli, ["check", rel(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    located = [line for line in lines if line.startswith(rel(path) + ":")]
    assert len(located) == len(expected(path))
    assert re.match(r"^\d+ problems? found\.$", lines[-1])
