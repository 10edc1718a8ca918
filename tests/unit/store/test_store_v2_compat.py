"""A store written before the backend registry (record schema 2, ``tests/data/stores/v2``) still reads.

Schema 2's attempt start had a ``batch_job_id`` field; schema 3 keeps an opaque ``placement`` mapping
in its place. The fixture's first run was made with ``AWS_BATCH_JOB_ID=job-v2-0001`` in the task's
environment, so its tasks recorded that id the old way; its second run failed at ``end``.
"""

from __future__ import annotations

import json

from orchestrator import client
from orchestrator.runtime.resume import OriginRun
from orchestrator.store.factory import open_backend
from orchestrator.store.maintenance import fsck
from orchestrator.store.metadata import MetadataStore
from orchestrator.store.records import SCHEMA, AttemptStart
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "data" / "stores" / "v2" / "store"
OK_RUN, FAILED_RUN = "1796666101771633", "1796666102307706"


def test_the_fixture_is_schema_2_and_this_orch_writes_a_newer_one():
    start = FIXTURE / "flows/CompatFlow/runs" / OK_RUN / "steps/start/1/0.start.json"
    data = json.loads(start.read_text())
    assert data["schema"] == 2 and data["batch_job_id"] == "job-v2-0001" and SCHEMA == 3


def test_an_old_batch_job_id_reads_as_metaflows_key(store):
    ok = client.Run("CompatFlow/%s" % OK_RUN)
    assert ok.successful and ok.data.values == ["a-0.5", "b-0.5"] and ok.user_tags == {"v2"}
    meta = ok["start"].task.metadata_dict
    assert meta["aws-batch-job-id"] == "job-v2-0001" and "batch_job_id" not in meta
    assert meta["python_version"] == "3.11.7"
    assert "aws-batch-job-id" not in client.Run("CompatFlow/%s" % FAILED_RUN)["start"].task.metadata_dict


def test_a_start_record_round_trips_its_placement():
    start = AttemptStart(attempt=0, started_at=1.0, placement={"procq-slot": "2"})
    again = AttemptStart.from_json(start.to_json())
    assert again.placement == {"procq-slot": "2"} and again.where()["procq-slot"] == "2"
    assert start.to_json()["schema"] == SCHEMA and "batch_job_id" not in start.to_json()


def test_the_failed_run_resumes_and_fsck_is_clean(store):
    failed = client.Run("CompatFlow/%s" % FAILED_RUN)
    assert not failed.successful and failed["end"].task.exception.type == "ValueError"
    origin = OriginRun(MetadataStore(open_backend(str(store))), "CompatFlow", FAILED_RUN)
    assert ("join", (), ()) in origin.ok and ("end", (), ()) not in origin.ok
    assert fsck(open_backend(str(store))).problems == []
