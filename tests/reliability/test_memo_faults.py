"""Step memoization under faults: ``kill -9`` of the orchestrator at seeded random moments never leaves a
cache entry that points at missing or uncommitted data, and two runs racing on the same keys both finish
with the right results."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from orchestrator.store.cache_entries import all_entries
from orchestrator.store.factory import open_backend
from orchestrator.store.maintenance import fsck
from orchestrator.store.metadata import MetadataStore
from tests.conftest import ROOT

FLOW = """
import time

from orchestrator import FlowSpec, cache, step


class RaceFlow(FlowSpec):
    @cache
    @step
    def start(self):
        self.items = list(range(6))
        self.next(self.work, foreach="items")

    @cache
    @step
    def work(self):
        time.sleep(0.5)
        self.value = [self.input] * 50000  # a few hundred kilobytes each
        self.next(self.join)

    @cache
    @step
    def join(self, inputs):
        self.total = sum(sum(i.value) for i in inputs)
        self.next(self.end)

    @cache
    @step
    def end(self):
        print("total", self.total)
"""
EXPECTED = sum(range(6)) * 50000


def _start(flow: str, store: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", flow, "--store", store, "--executor", "local", "--quiet"]
        + ["--max-workers", "2"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _committed(store: str) -> int:
    """How many task attempts of the store have committed (their done records)."""
    root = os.path.join(store, "flows")
    return sum(name.endswith(".done.json") for _, _, files in os.walk(root) for name in files)


def _entries_are_sound(store: str) -> int:
    """Every entry decodes, names a committed successful attempt, and every blob it names is there."""
    backend = open_backend(store)
    meta = MetadataStore(backend)
    count = 0
    for key, entry in all_entries(backend):
        assert entry is not None, key
        source = entry.source
        end = meta.attempt_end("RaceFlow", source.run, source.step, source.task, source.attempt)
        assert end is not None and end.succeeded, key
        count += 1
    problems = fsck(backend).problems
    assert problems == [], problems
    return count


def _total(store: str) -> int:
    backend = open_backend(store)
    meta = MetadataStore(backend)
    runs = sorted(meta.runs("RaceFlow"), key=lambda r: (len(r), r))
    latest = runs[-1]
    ends = [t for (s, t), a in meta.latest_attempts("RaceFlow", latest, "join").items()]
    end = meta.attempt_end("RaceFlow", latest, "join", ends[0], 0)
    from orchestrator.store.artifacts import load_artifact
    from orchestrator.store.cas import ContentAddressedStore

    return load_artifact(ContentAddressedStore(backend), end.artifacts["total"], "total")


@pytest.mark.parametrize("trial", range(6))
def test_kill_9_leaves_only_sound_entries(trial, tmp_path):
    flow = tmp_path / "race_flow.py"
    flow.write_text(FLOW)
    store = str(tmp_path / "store")
    process = _start(str(flow), store)
    # Kill once 1 to 4 of the run's 9 tasks have committed (plus a seeded jitter): mid-run whatever the
    # machine's speed (at least two half-second tasks are left), at a different point in each trial.
    target = 1 + trial % 4
    deadline = time.monotonic() + 120
    while _committed(store) < target and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    time.sleep(random.Random(trial).uniform(0.0, 0.2))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(0.6)  # its task processes finish or die; what they committed stays
    meta = MetadataStore(open_backend(store))
    killed = meta.runs("RaceFlow")
    assert killed and meta.run_end("RaceFlow", killed[0]) is None  # the kill landed mid-run
    _entries_are_sound(store)
    rerun = _start(str(flow), store)
    assert rerun.wait(180) == 0, rerun.stderr.read().decode()
    assert _entries_are_sound(store) >= 9 and _total(store) == EXPECTED


def test_two_runs_racing_on_the_same_keys(tmp_path):
    flow = tmp_path / "race_flow.py"
    flow.write_text(FLOW)
    store = str(tmp_path / "store")
    racers = [_start(str(flow), store) for _ in range(2)]
    for racer in racers:
        assert racer.wait(180) == 0, racer.stderr.read().decode()
    assert _entries_are_sound(store) >= 9
    third = _start(str(flow), store)
    assert third.wait(180) == 0
    backend = open_backend(store)
    meta = MetadataStore(backend)
    latest = sorted(meta.runs("RaceFlow"), key=lambda r: (len(r), r))[-1]
    done = json.loads(bytes(backend.get("flows/RaceFlow/runs/%s/done.json" % latest)))
    assert done["tasks_run"] == 0 and done["tasks_cached"] == 9 and _total(store) == EXPECTED
