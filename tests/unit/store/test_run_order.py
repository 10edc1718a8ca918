"""Run and task ids sort in the order they were made, by one key; the latest run is found one way."""

from __future__ import annotations

from orchestrator.ids import id_order, in_order
from orchestrator.store.local import LocalBackend
from orchestrator.store.metadata import MetadataStore


def test_a_longer_id_is_a_later_one():
    assert in_order(["10", "9", "100", "11"]) == ["9", "10", "11", "100"]
    assert in_order(["10", "9"], newest_first=True) == ["10", "9"]
    assert max(["1796000000000009", "1796000000000010"], key=id_order) == "1796000000000010"


def test_the_latest_run_is_the_newest_with_a_record(tmp_path):
    backend = LocalBackend(str(tmp_path))
    meta = MetadataStore(backend)
    assert meta.latest_run("F") is None
    for run in ("9", "10"):
        backend.put("flows/F/runs/%s/run.json" % run, [b"{}"])
    backend.put("flows/F/runs/11/steps/start/1/0.start.json", [b"{}"])  # being created: no record yet
    assert meta.runs_in_order("F") == ["9", "10"] and meta.latest_run("F") == "10"
    assert meta.runs_in_order("F", newest_first=True) == ["10", "9"]
