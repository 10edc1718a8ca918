from __future__ import annotations

import pytest

from orchestrator.store.metadata import run_prefix, task_prefix
from orchestrator.store.names import InvalidNameError, check_artifact_name, check_name


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "", ".hidden", "-x", "a b", "x" * 300, "a\x00b"])
def test_bad_names_are_refused(name):
    with pytest.raises(InvalidNameError):
        check_name("run", name)


def test_good_names():
    assert check_name("run", "1795984124004348") == "1795984124004348"
    assert run_prefix("MyFlow", "123") == "flows/MyFlow/runs/123"
    assert task_prefix("MyFlow", "123", "train", "7") == "flows/MyFlow/runs/123/steps/train/7"


@pytest.mark.parametrize("name", ["a/b", "../x", "1x", "x-y", ""])
def test_artifact_names_are_identifiers(name):
    with pytest.raises(InvalidNameError):
        check_artifact_name(name)
