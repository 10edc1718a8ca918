"""The corpus ports a case to orch by its import lines only, in every form flows and notebooks write them."""

from __future__ import annotations

import json

from scripts.corpus.run import orch_notebook, orch_source


def test_only_import_lines_change():
    source = (
        "from metaflow import FlowSpec, step\n"
        "from metaflow.cards import Markdown\n"
        "import metaflow\n"
        "    from metaflow import Flow, get_metadata  # inside a step\n"
        "x = 'from metaflow import nothing'  # not an import line\n"
        "metaflow.current\n"
    )
    assert orch_source(source) == (
        "from orchestrator import FlowSpec, step\n"
        "from orchestrator.cards import Markdown\n"
        "import orchestrator as metaflow\n"
        "    from orchestrator import Flow, get_metadata  # inside a step\n"
        "x = 'from metaflow import nothing'  # not an import line\n"
        "metaflow.current\n"
    )


def test_a_notebook_changes_in_its_code_cells_only():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["from metaflow import Flow\n"]},
            {"cell_type": "code", "source": ["from metaflow import Flow\n", "Flow('X')"]},
        ]
    }
    ported = json.loads(orch_notebook(json.dumps(notebook)))
    assert ported["cells"][0]["source"] == ["from metaflow import Flow\n"]
    assert "".join(ported["cells"][1]["source"]) == "from orchestrator import Flow\nFlow('X')"
