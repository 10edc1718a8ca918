"""A store written by orch 0.1.0 (record schema 1, ``tests/data/stores/v1``) still reads, everywhere.

The fixture holds three runs of ``compat_flow.py``: a success tagged ``v1``;
a failure whose ``slow`` step timed out (a process death, recorded in schema
1 as an exception whose type is the executor state) and was caught by a
fallback attempt, and whose ``end`` raised; and a resume of that failure from
``end`` that cloned every other task. Each consumer of records (client,
resume, UI model, fsck, gc) reads it the way it did when it was written.
"""

from __future__ import annotations

from orchestrator import client
from orchestrator.runtime.resume import OriginRun
from orchestrator.store.factory import open_backend
from orchestrator.store.maintenance import fsck, gc
from orchestrator.store.metadata import MetadataStore
from orchestrator.ui.model import run_view
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "data" / "stores" / "v1" / "store"
OK_RUN, FAILED_RUN, RESUMED_RUN = "1796155597983610", "1796155598340167", "1796155599765472"


def test_the_client_reads_runs_tasks_and_artifacts(store):
    flow = client.Flow("CompatFlow")
    assert [r.id for r in flow.runs()] == [RESUMED_RUN, FAILED_RUN, OK_RUN]
    ok = flow[OK_RUN]
    assert (ok.status, ok.successful, ok.finished) == ("succeeded", True, True)
    assert ok.user_tags == {"v1"} and ok.system_tags == {"user:root"} and ok.tags == {"v1", "user:root"}
    assert ok.parameters == {"alpha": 0.5, "fail": False}
    assert ok.data.values == ["a-0.5", "b-0.5"]
    assert [s.id for s in ok] == ["start", "each", "join", "slow", "end"]
    each = sorted(ok["each"], key=lambda t: t.index)
    assert [(t.index, t.foreach_stack, t.data.value) for t in each] == [
        (0, [("start", 0, 2)], "a-0.5"),
        (1, [("start", 1, 2)], "b-0.5"),
    ]
    assert ok["end"].task.stdout == "done ['a-0.5', 'b-0.5']\n"
    assert ok["end"].task.metadata_dict["python_version"] == "3.11.7"


def test_a_failure_and_a_caught_process_death_read_as_before(store):
    failed = client.Run("CompatFlow/%s" % FAILED_RUN)
    assert (failed.status, failed.successful) == ("failed", False)
    end = failed["end"].task
    assert (end.successful, end.finished) == (False, False)  # Metaflow's rule: a failed task is not finished
    assert (end.exception.type, end.exception.exception) == ("ValueError", "asked to fail")
    slow = failed["slow"].task
    # attempt 0 timed out, the fallback recorded it; a schema-1 record does not say @catch caught it, so the
    # task reads as successful, as it did before
    assert slow.successful and slow.current_attempt == 1
    caught = slow.data.slow_failed
    assert "timed out after 1 seconds" in str(caught.message if hasattr(caught, "message") else caught)


def test_resumed_tasks_name_their_origin(store):
    resumed = client.Run("CompatFlow/%s" % RESUMED_RUN)
    assert resumed.origin_run_id == FAILED_RUN
    start = resumed["start"].task
    assert start.origin_pathspec == "CompatFlow/%s/start/1" % FAILED_RUN
    assert resumed["end"].task.origin_pathspec is None


def test_resume_planning_and_the_ui_model_read_it(store):
    meta = MetadataStore(open_backend(str(store)))
    origin = OriginRun(meta, "CompatFlow", FAILED_RUN)
    assert sorted(origin.ok) == [
        ("each", (0,), ()),
        ("each", (1,), ()),
        ("join", (), ()),
        ("slow", (), ()),
        ("start", (), ()),
    ]
    view = run_view(meta, "CompatFlow", FAILED_RUN)
    assert view.status == "failed" and view.user == "root"
    by_step = {s.name: s for s in view.steps}
    assert by_step["end"].status == "failed" and by_step["start"].status == "succeeded"
    slow = by_step["slow"].tasks[0]
    assert [a.status for a in slow.attempts] == ["failed", "succeeded"]
    assert "timed out" in slow.attempts[0].error
    assert {t.status for t in run_view(meta, "CompatFlow", RESUMED_RUN).tasks} == {"cloned", "failed"}


def test_fsck_is_clean_and_gc_keeps_what_it_should(store):
    backend = open_backend(str(store))
    report = fsck(backend)
    assert report.problems == [] and report.records == 3
    summary = gc(backend, keep_last=1, grace_seconds=0)
    remaining = MetadataStore(backend).runs("CompatFlow")
    assert remaining == [RESUMED_RUN] and len(summary.runs_removed) == 2 and summary.blobs_removed > 0
    assert fsck(backend).problems == []
