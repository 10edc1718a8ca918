"""The differential corpus's cases whose code ships on PyPI (Metaflow's tutorials, inside its wheel).

Each runs under Metaflow 2.19.39 and under orch with only its import lines
changed (``scripts/corpus``), and what both clients and CLIs show must
match: task states, artifacts, logs, cards, ``dump`` and what the notebooks
print. The cases from public repositories need a folder of fetched
repositories and run with ``python -m scripts.corpus.run --repos DIR``.
"""

from __future__ import annotations

import io

import pytest

from scripts.corpus.cases import CASES, METAFLOW_PACKAGE
from scripts.corpus.run import run_corpus
from tests.differential.test_vs_metaflow import metaflow  # noqa: F401 (the fixture)

PYPI_CASES = [case for case in CASES if case.repo == METAFLOW_PACKAGE]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, metaflow):  # noqa: F811 (the fixture imported above)
    """Every PyPI case, run once in order (a tutorial's notebook reads the flow before it)."""
    report = io.StringIO()
    results = run_corpus(PYPI_CASES, None, tmp_path_factory.mktemp("corpus"), out=report)
    return {result.case.id: result for result in results}, report.getvalue()


@pytest.mark.parametrize("case", PYPI_CASES, ids=[case.id for case in PYPI_CASES])
def test_the_case_shows_the_same_in_both_tools(corpus, case):
    results, report = corpus
    if case.excluded:  # a public conda channel, AWS or Kubernetes: listed by the runner, never run here
        assert case.id not in results and "EXCLUDED %-40s %s" % (case.id, case.excluded) in report
        pytest.skip(case.excluded)
    result = results[case.id]
    assert result.same, "\n".join(result.differences)
