"""``@card`` end to end: cards rendered by tasks, stored content-addressed, read back with ``get_cards``
and the card CLI, kept by gc, checked by fsck; under the local, Docker and Batch executors."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator import Flow, Task
from orchestrator.cards import get_cards
from orchestrator.cards.errors import CardNotPresentException
from orchestrator.cli.main import main
from tests.conftest import FLOWS, ROOT, wait_for

CARDS_FLOW = str(FLOWS / "run" / "cards_flow.py")


def _html(card) -> str:
    return card.get()


def test_cards_of_every_kind(orch):
    code, _, err = orch("run", CARDS_FLOW, "--fail", "true")
    assert code == 0, err
    run = Flow("CardsFlow").latest_run

    # start: the default card, with the parameters, the artifacts and the components it was given
    (start_card,) = get_cards(run["start"].task)
    assert (start_card.type, start_card.id) == ("default", None)
    page = _html(start_card)
    assert "<h1>Start of <em>hello cards</em></h1>" in page and "<li>one</li>" in page
    assert "<strong>bold cell</strong>" in page  # a component inside a Table cell
    assert "greeting" in page and "hello cards" in page  # the parameter
    assert "secret_of_size" in page and "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in page  # an artifact preview
    assert 'class="orch-dag"' in page and '#0969da" stroke="#0969da"' in page  # the DAG, this step filled in
    assert "plain string" not in page  # not a component: dropped, with a warning
    assert "current.card takes card components" in run["start"].task.stderr
    # the HTML is a blob of the content-addressed store: its hash is the sha256 of the content
    assert start_card.hash == hashlib.sha256(page.encode("utf-8")).hexdigest()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched: self-contained

    # each: three cards told apart by id; append reaches the one without an id; a wrong id is dropped
    for task in run["each"]:
        cards = get_cards(task)
        assert [(c.type, c.id) for c in cards] == [("blank", "progress"), ("default", "summary"), ("default", None)]
        letter = task.data.letter
        position = "ABC".index(letter) + 1
        assert 'aria-valuenow="%d"' % position in _html(cards[0]) and "letters" in _html(cards[0])
        assert '<span class="name">letter</span>' in _html(cards[2]) and "&#x27;%s&#x27;" % letter in _html(cards[2])
        assert 'class="orch-artifact"' not in _html(cards[1])  # the card with an id got nothing from append
        assert [c.id for c in get_cards(task, id="summary")] == ["summary"]
        assert [c.type for c in get_cards(task, type="blank")] == ["blank"]
        assert "dropped: no card has this id" not in "".join(_html(c) for c in cards)

    # join: a card that raises becomes an error card; save_errors=False leaves it out; a card past
    # its timeout is abandoned and becomes an error card, and the task still succeeded
    join = run["join"].task
    cards = get_cards(join)
    assert [(c.type, c.id, c.error) for c in cards] == [
        ("test_error_card", None, True),
        ("test_timeout_card", "slow", True),
    ]
    assert "Unknown Things Happened" in _html(cards[0])
    assert "longer than its timeout of 1s" in _html(cards[1])
    assert join.successful
    assert (join.finished_at - join.created_at).total_seconds() < 15  # the 30 s render was not waited for

    # risky: the step raised (and @catch caught it): the card shows what it had and the error
    (risky,) = get_cards(run["risky"].task)
    assert "before the failure" in _html(risky) and "ValueError: risky went wrong" in _html(risky)

    # end: no @card, so no cards (get_cards raises, as Metaflow's does), and current.card only warned
    with pytest.raises(CardNotPresentException, match="Card not found in datastore"):
        get_cards(run["end"].task)
    assert "this step has no @card decorator" in run["end"].task.stderr
    assert run["end"].task._end_record().cards == ()


def test_a_failed_step_still_has_its_card(orch, tmp_path):
    flow = tmp_path / "failing_card_flow.py"
    flow.write_text(
        textwrap.dedent(
            """
            from orchestrator import FlowSpec, card, current, step
            from orchestrator.cards import Markdown

            class FailingCardFlow(FlowSpec):
                @card
                @step
                def start(self):
                    self.partial = 41
                    current.card.append(Markdown("## got this far"))
                    if self.partial == 41:
                        raise RuntimeError("boom at 41")
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    code, _, _ = orch("run", str(flow))
    assert code == 1
    task = Flow("FailingCardFlow").latest_run["start"].task
    (found,) = get_cards(task)
    page = found.get()
    assert '<span class="orch-status failed">failed</span>' in page
    assert "<h2>got this far</h2>" in page and "RuntimeError: boom at 41" in page
    assert "partial" in page and ">41<" in page  # what the step had set before it raised


def test_card_cli_in_both_forms(orch, tmp_path, capsys):
    assert orch("run", CARDS_FLOW)[0] == 0
    run = Flow("CardsFlow").latest_run
    task = list(run["each"])[0]
    pathspec = task.pathspec

    listing = tmp_path / "cards.json"
    capsys.readouterr()
    assert main(["card", "list", pathspec, "--as-json", "--file", str(listing), "--store", orch.store]) == 0
    listed = json.loads(listing.read_text())
    assert listed["pathspec"] == pathspec
    assert [(c["type"], c["id"]) for c in listed["cards"]] == [
        ("blank", "progress"),
        ("default", "summary"),
        ("default", None),
    ]
    assert all(c["filename"].endswith(".html") and len(c["hash"]) == 64 for c in listed["cards"])

    out = tmp_path / "summary.html"
    assert main(["card", "get", pathspec, str(out), "--id", "summary", "--store", orch.store]) == 0
    assert out.read_text() == get_cards(task, id="summary")[0].get()
    short = listed["cards"][0]["hash"][:6]
    assert main(["card", "get", pathspec, str(out), "--hash", short, "--store", orch.store]) == 0
    assert "letters" in out.read_text()

    # several match: listed, nothing written; none match: "Card not found", exit 1, no traceback
    out.unlink()
    capsys.readouterr()
    assert main(["card", "get", pathspec, str(out), "--type", "default", "--store", orch.store]) == 0
    assert not out.exists() and "2 cards match" in capsys.readouterr().err
    assert main(["card", "get", pathspec, str(out), "--type", "nope", "--store", orch.store]) == 1
    err = capsys.readouterr().err
    assert "Card not found in datastore" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2

    # a run: every task with cards; Metaflow's `python flow.py card ...` form, RUN/STEP/TASK or STEP alone
    assert main(["card", "list", "CardsFlow/%s" % run.id, "--store", orch.store]) == 0
    text = capsys.readouterr().out
    assert "CardsFlow/%s/start/1: 1 card" % run.id in text and "(render failed: error card)" in text
    env = dict(os.environ, PYTHONPATH=str(ROOT), ORCH_STORE=orch.store)
    base = [sys.executable, CARDS_FLOW, "--quiet", "card"]
    done = subprocess.run(
        base + ["get", "%s/start/1" % run.id, str(out), "--type", "default"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == get_cards(run["start"].task)[0].get()
    done = subprocess.run(base + ["list", "start", "--as-json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)[0]["pathspec"] == run["start"].task.pathspec
    done = subprocess.run(base + ["view", "%s/start/1" % run.id], env=dict(env, BROWSER="true"), capture_output=True)
    assert done.returncode == 0 and b"Opening " in done.stderr


def test_resume_keeps_the_origin_tasks_cards(orch):
    assert orch("run", CARDS_FLOW, "--fail", "true")[0] == 0
    origin = Flow("CardsFlow").latest_run
    assert orch("resume", CARDS_FLOW, "end")[0] == 0
    resumed = Flow("CardsFlow").latest_run
    assert resumed.id != origin.id
    cloned = resumed["start"].task
    cards = get_cards(cloned)
    assert cards.origin_pathspec == origin["start"].task.pathspec and cards.from_resumed
    assert cards[0].hash == get_cards(origin["start"].task)[0].hash


def test_gc_keeps_and_fsck_checks_card_blobs(orch, capsys):
    from orchestrator.store.local import LocalBackend
    from orchestrator.store.maintenance import gc

    assert orch("run", CARDS_FLOW)[0] == 0
    run = Flow("CardsFlow").latest_run
    card = get_cards(run["start"].task)[0]
    blob = Path(orch.store, "blobs", card.hash[:2], card.hash)
    assert blob.exists()
    assert gc(LocalBackend(orch.store), grace_seconds=0).runs_removed == []
    assert blob.exists()  # the run is kept, so are its cards
    capsys.readouterr()
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")
    assert main(["fsck", "--store", orch.store]) == 1
    found = capsys.readouterr()
    assert "%s is corrupt" % card.hash in found.out + found.err
    blob.unlink()
    assert main(["fsck", "--store", orch.store]) == 1
    found = capsys.readouterr()
    assert "referenced by card 'default' of CardsFlow/%s/start/1" % run.id in found.out + found.err
    # once the run goes, so do its cards
    assert orch("run", CARDS_FLOW)[0] == 0
    newest = Flow("CardsFlow").latest_run
    kept = get_cards(newest["start"].task)[0].hash
    other = get_cards(list(run["each"])[0])[0].hash
    assert gc(LocalBackend(orch.store), keep_last=1, grace_seconds=0).runs_removed
    assert Path(orch.store, "blobs", kept[:2], kept).exists()
    assert not Path(orch.store, "blobs", other[:2], other).exists()


def test_no_card_costs_nothing(orch, tmp_path):
    """Without @card the task imports no card code and writes nothing for cards."""
    flow = tmp_path / "plain_flow.py"
    flow.write_text(
        textwrap.dedent(
            """
            import sys
            from orchestrator import FlowSpec, step

            class PlainFlow(FlowSpec):
                @step
                def start(self):
                    self.loaded = sorted(m for m in sys.modules if m.startswith("orchestrator.cards"))
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    assert orch("run", str(flow))[0] == 0
    run = Flow("PlainFlow").latest_run
    assert run["start"].task.data.loaded == []
    assert not list(Path(orch.store).glob("flows/PlainFlow/**/cards"))


LIVE_FLOW = """
import time
from orchestrator import FlowSpec, card, current, step
from orchestrator.cards import Markdown, ProgressBar


class LiveCardFlow(FlowSpec):
    @card(type="blank", refresh_interval=0.2)
    @step
    def start(self):
        bar = ProgressBar(max=%(steps)d, label="work")
        current.card.append(Markdown("# working"))
        current.card.append(bar)
        for done in range(1, %(steps)d + 1):
            bar.update(done)
            current.card.refresh()
            time.sleep(%(pause)s)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_live_card_changes_while_its_task_runs(orch, tmp_path):
    flow = tmp_path / "live_card_flow.py"
    flow.write_text(LIVE_FLOW % {"steps": 20, "pause": 0.3})
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", str(flow), "--store", orch.store]
        + ["--executor", "local"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: list(Path(orch.store).glob("flows/LiveCardFlow/runs/*/steps/start/1/0.start.json")), 30)
        run_id = next(Path(orch.store).glob("flows/LiveCardFlow/runs/*")).name
        task = "LiveCardFlow/%s/start/1" % run_id

        def live_value():
            try:
                (found,) = get_cards(Task(task))
            except CardNotPresentException:
                return None
            page = found.get()
            return found.live and int(page.split('aria-valuenow="')[1].split('"')[0])

        first = wait_for(live_value, 30)
        assert first, "no live card appeared while the task ran"
        later = wait_for(lambda: (live_value() or 0) > first and live_value(), 30)
        assert later and later > first, "the live card did not change while the task ran"
        assert process.wait(120) == 0
    finally:
        process.kill()
    (final,) = get_cards(Task(task))
    assert not final.live and 'aria-valuenow="20"' in final.get()
    assert not list(Path(orch.store).glob("flows/LiveCardFlow/runs/*/steps/start/1/cards/*.json"))


def test_cards_under_docker(engine, orch):
    code, _, err = orch("run", CARDS_FLOW, "--executor", "docker")
    assert code == 0, err
    run = Flow("CardsFlow").latest_run
    page = get_cards(run["start"].task)[0].get()
    assert "<h1>Start of <em>hello cards</em></h1>" in page  # rendered in the container's own Python
    assert [c.id for c in get_cards(list(run["each"])[0])] == ["progress", "summary", None]


def test_cards_on_batch(on_batch, tmp_path):
    code, _, err = on_batch(CARDS_FLOW, "--with", "batch")
    assert code == 0, err
    run = Flow("CardsFlow").latest_run
    (found,) = get_cards(run["start"].task)
    assert "<h1>Start of <em>hello cards</em></h1>" in found.get()  # written to S3 by the Batch job


def test_a_cached_task_shows_the_cards_of_the_task_it_reused(orch):
    assert orch("run", CARDS_FLOW, "--cache")[0] == 0
    first = Flow("CardsFlow").latest_run
    assert orch("run", CARDS_FLOW, "--cache")[0] == 0
    again = Flow("CardsFlow").latest_run
    assert again._end_record().tasks_cached == len(list(again["each"])) + 4  # every task was a hit
    start = again["start"].task
    assert start.cached_from and get_cards(start)[0].hash == get_cards(first["start"].task)[0].hash
    assert [c.id for c in get_cards(list(again["each"])[0])] == ["progress", "summary", None]
