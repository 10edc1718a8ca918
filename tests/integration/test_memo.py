"""Step memoization end to end: what is reused, what runs again and why, under the local executor and on
an S3 store (Docker and Batch: test_memo_executors.py). Each test writes its flow into its own folder so
it can edit the code between runs."""

from __future__ import annotations

import textwrap

import pytest

from orchestrator import Flow, client
from orchestrator.cli.main import main
from orchestrator.store.cache_entries import all_entries
from orchestrator.store.factory import open_backend
from orchestrator.store.maintenance import fsck, gc

FLOW = """
from orchestrator import FlowSpec, Parameter, cache, step
from helpers import double


class MemoFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    beta = Parameter("beta", default=10)

    @cache
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.base = 1 + 1  # EDIT-START
        self.next(self.work, foreach="items")

    @cache(version=1)
    @step
    def work(self):
        self.value = double(self.input) + self.alpha + self.base
        self.next(self.join)

    @cache
    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.other)

    @cache
    @step
    def other(self):
        self.seen = hasattr(self, "maybe")  # a read of a name that is absent
        self.next(self.end)

    @cache
    @step
    def end(self):
        self.result = self.total + self.beta
        print("result", self.result)
"""


class Memo:
    """MemoFlow in a folder of its own: ``run`` it (returns the client Run), ``edit`` its code."""

    def __init__(self, folder, orch) -> None:
        self.folder, self.orch = folder, orch
        (folder / "helpers.py").write_text("def double(x):\n    return x * 2\n\n\ndef unused(x):\n    return x\n")
        self.path = str(folder / "memo_flow.py")
        (folder / "memo_flow.py").write_text(textwrap.dedent(FLOW))

    def run(self, *args: str):
        code, out, err = self.orch("run", self.path, *args)
        assert code == 0, err
        return Flow("MemoFlow").latest_run

    def edit(self, old: str, new: str, file: str = "memo_flow.py") -> None:
        target = self.folder / file
        text = target.read_text()
        assert old in text
        target.write_text(text.replace(old, new))


@pytest.fixture
def memo(tmp_path, orch):
    return Memo(tmp_path, orch)


def _ran(run) -> dict:
    """step → how many of its tasks ran code (the rest were reused)."""
    found: dict = {}
    for step in run:
        found[step.id] = sum(1 for task in step if task.cached_from is None)
    return found


def _why(orch, pathspec: str) -> str:
    orch.capsys.readouterr()
    assert main(["why", pathspec, "--store", orch.store]) == 0
    return orch.capsys.readouterr().out


def test_a_second_run_executes_no_task_and_reuses_by_reference(memo, orch):
    run = memo.run
    first = run()
    second = run()
    assert _ran(second) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 0}
    assert second._end_record().tasks_run == 0 and second._end_record().tasks_cached == 7
    assert second.data.result == first.data.result == 31
    end = second["end"].task
    assert end.cached_from == first["end"].task.pathspec
    assert end["result"].sha == first["end"].task["result"].sha  # the same blob, not a copy
    assert end.stdout == "result 31\n"  # the reused task's logs
    assert "cached: reuses MemoFlow/%s/end/" % first.id in _why(orch, end.pathspec)
    orch.capsys.readouterr()
    assert main(["runs", "MemoFlow", "--store", orch.store]) == 0
    assert "(7 of 7 tasks cached)" in orch.capsys.readouterr().out


def test_a_parameter_reruns_only_the_steps_that_read_it(memo, orch):
    run = memo.run
    run()
    changed = run("--beta", "20")
    assert _ran(changed) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 1}
    assert changed.data.result == 41
    assert "parameter beta: 10 -> 20" in _why(orch, "%s/end" % changed.pathspec)
    through = run("--alpha", "5")  # read by work; join and end read what work wrote, which changed
    assert _ran(through) == {"start": 0, "work": 3, "join": 1, "other": 0, "end": 1}
    why = _why(orch, "%s/join" % through.pathspec)
    assert "input artifact value (from step work [0]): sha256 " in why


def test_an_upstream_change_with_identical_outputs_still_hits_downstream(memo, orch):
    run, edit = memo.run, memo.edit
    run()
    edit("self.base = 1 + 1  # EDIT-START", "self.base = 2  # EDIT-START")
    again = run()
    assert _ran(again) == {"start": 1, "work": 0, "join": 0, "other": 0, "end": 0}  # early cutoff
    why = _why(orch, "%s/start" % again.pathspec)
    assert "code of step start changed:" in why and "-        self.base = 1 + 1" in why
    assert "+        self.base = 2" in why


def test_a_helper_edit_invalidates_only_the_steps_that_reach_it(memo, orch):
    run, edit = memo.run, memo.edit
    run()
    edit("return x\n", "return x + 0\n", "helpers.py")  # a helper no step calls
    assert _ran(run()) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 0}
    edit("return x * 2", "return x * 3", "helpers.py")  # work calls it
    changed = run()
    assert _ran(changed) == {"start": 0, "work": 3, "join": 1, "other": 0, "end": 1}
    why = _why(orch, "%s/work" % changed.pathspec)
    assert "code of helpers: double changed:" in why and "+    return x * 3" in why


def test_a_version_bump_refresh_and_no_cache(memo, orch):
    run, edit = memo.run, memo.edit
    run()
    edit("@cache(version=1)", "@cache(version=2)")
    bumped = run()
    assert _ran(bumped)["work"] == 3 and _ran(bumped)["join"] == 0  # same outputs: cut off again
    assert "version bump: 1 -> 2." in _why(orch, "%s/work" % bumped.pathspec)
    refreshed = run("--refresh", "end")
    assert _ran(refreshed) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 1}
    assert "forced by --refresh or --no-cache" in _why(orch, "%s/end" % refreshed.pathspec)
    assert sum(_ran(run("--no-cache")).values()) == 7
    code, _, err = orch("run", memo.path, "--refresh", "nope")
    assert code == 2 and "--refresh nope: the flow has no step 'nope'." in err


def test_a_name_read_as_absent_invalidates_when_it_appears(tmp_path, orch):
    source = textwrap.dedent(
        """
        from orchestrator import FlowSpec, Parameter, cache, step


        class AbsentFlow(FlowSpec):
            give = Parameter("give", default=False)

            @step
            def start(self):
                if self.give:
                    self.maybe = 1
                self.next(self.end)

            @cache
            @step
            def end(self):
                self.seen = getattr(self, "maybe", None)
        """
    )
    (tmp_path / "absent_flow.py").write_text(source)
    for args, seen, ran in (([], None, 1), ([], None, 0), (["--give", "true"], 1, 1)):
        code, _, err = orch("run", str(tmp_path / "absent_flow.py"), *args)
        assert code == 0, err
        end = Flow("AbsentFlow").latest_run["end"].task
        assert end.data.seen == seen and (end.cached_from is None) == bool(ran)


def test_dry_run_plans_without_running(memo, orch):
    run = memo.run
    first = run()
    orch.capsys.readouterr()
    code, out, _ = orch("run", memo.path, "--dry-run", "--alpha", "3")
    assert code == 0
    assert "start: cached (1 task)" in out and "work: runs 3 tasks (no match in the cache)" in out
    assert "join: depends on work" in out and "end: depends on work" in out
    assert Flow("MemoFlow").latest_run.id == first.id  # nothing ran


def test_gc_drops_entries_of_removed_runs_and_fsck_checks_them(memo, orch):
    run = memo.run
    run()
    backend = open_backend(orch.store)
    entries = [e for _, e in all_entries(backend)]
    assert len(entries) == 7 and all(e is not None for e in entries)
    assert fsck(backend).problems == [] and fsck(backend).cache_entries == 7
    assert gc(backend, keep_last=0, grace_seconds=0, keep_cache_days=1).cache_entries_removed == 0
    report = gc(backend, keep_last=0, grace_seconds=0)
    assert report.cache_entries_removed == 7 and list(all_entries(backend)) == []
    client.namespace(None)
    again = run()  # nothing left to reuse, and nothing stale is reused
    assert sum(_ran(again).values()) == 7


def test_an_s3_store_caches_the_same(memo, orch, s3_bucket):
    run = memo.run
    store = "s3://%s/memo" % s3_bucket
    client.metadata(store)
    first = run("--store", store)
    second = run("--store", store)
    assert _ran(second) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 0}
    assert second.data.result == first.data.result


def test_a_longer_foreach_list_runs_only_the_new_element(memo, orch):
    """A foreach task reads its own element, not the whole list: appending one item runs one task."""
    memo.run()
    memo.edit("self.items = [1, 2, 3]", "self.items = [1, 2, 3, 4]")
    longer = memo.run()
    assert _ran(longer) == {"start": 1, "work": 1, "join": 1, "other": 0, "end": 1}
    new = [t for t in longer["work"] if t.cached_from is None]
    assert [t.index for t in new] == [3] and longer.data.result == 31 + 8 + 1 + 2
    assert "the join's inputs differ" in _why(orch, "%s/join" % longer.pathspec)
    memo.edit("self.items = [1, 2, 3, 4]", "self.items = [1, 5, 3, 4]")
    changed = memo.run()
    assert [t.index for t in changed["work"] if t.cached_from is None] == [1]
    task = [t for t in changed["work"] if t.cached_from is None][0]
    assert "foreach input items[1] (self.input): sha256 " in _why(orch, task.pathspec)


def test_gc_retires_an_entry_before_its_data_goes(memo, orch):
    """A run that validated an entry just before gc removed the entry's run still finds the data: gc
    keeps it one grace period after retiring the entry, and drops it only on a later pass."""
    from orchestrator.store.cache_entries import retired_entries

    memo.run()
    backend = open_backend(orch.store)
    written = {k for _, e in all_entries(backend) for a in e.written.values() for k in a.blob_keys}
    now = __import__("time").time()
    gc(backend, keep_last=0, grace_seconds=600, now=now + 3600)  # the run is old enough to go
    assert list(all_entries(backend)) == [] and len(list(retired_entries(backend))) == 7
    present = {info.key.rsplit("/", 1)[-1] for info in backend.list("blobs/")}
    assert written <= present  # retired, not yet collected
    gc(backend, keep_last=0, grace_seconds=600, now=now + 7200)  # a later pass, past the grace period
    assert list(retired_entries(backend)) == []
    present = {info.key.rsplit("/", 1)[-1] for info in backend.list("blobs/")}
    assert not written & present


def test_resume_composes_with_the_cache(memo, orch):
    """A failed cached run resumes as usual (clones first); its missing task then runs and is recorded,
    and a later run reuses everything, including the task the resume ran."""
    memo.edit('        print("result", self.result)', '        raise ValueError("not yet")')
    code, _, _ = orch("run", memo.path)
    assert code == 1
    memo.edit('        raise ValueError("not yet")', '        print("result", self.result)')
    code, _, err = orch("resume", memo.path)
    assert code == 0, err
    resumed = Flow("MemoFlow").latest_run
    assert resumed._end_record().tasks_cloned == 6 and resumed._end_record().tasks_run == 1
    assert _ran(memo.run()) == {"start": 0, "work": 0, "join": 0, "other": 0, "end": 0}
