"""parallel_map, parallel_imap_unordered and profile: Metaflow's helpers for work inside a step."""

from __future__ import annotations

import glob
import os
import time

import pytest

from orchestrator import parallel_imap_unordered, parallel_map, profile
from orchestrator.multicore_utils import MulticoreException


def _children() -> set:
    """This process's child processes, zombies included (from /proc: the test runner may have others)."""
    found = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.add(int(stat.split("/")[2]))
    return found


def test_results_come_back_in_order_from_closures_and_lambdas():
    offset = 100  # a closure: nothing is pickled on the way in
    assert parallel_map(lambda x: x * x + offset, range(12), max_parallel=3) == [x * x + 100 for x in range(12)]
    pids = parallel_map(lambda _: os.getpid(), range(4), max_parallel=2)
    assert os.getpid() not in pids and len(set(pids)) == 4  # a forked child per item


def test_large_results_travel_whole():
    sizes = [8_000_000, 1, 3_000_000]
    assert [len(b) for b in parallel_map(lambda n: b"x" * n, sizes)] == sizes


def test_unordered_yields_as_children_finish():
    delays = [0.6, 0.0, 0.3]
    order = list(parallel_imap_unordered(lambda d: (time.sleep(d), d)[1], delays, max_parallel=3))
    assert sorted(order) == sorted(delays) and order[0] == 0.0


def test_a_failing_child_raises_and_no_child_outlives_the_call():
    def work(x):
        if x == 0:
            raise ZeroDivisionError("boom")
        time.sleep(30)
        return x

    before = _children()
    with pytest.raises(MulticoreException, match="Child failed"):
        parallel_map(work, [1, 0, 2], max_parallel=3)
    assert _children() <= before  # the two still sleeping were stopped, and every child was reaped


def test_stopping_early_stops_the_children():
    before = _children()
    results = parallel_imap_unordered(lambda x: (time.sleep(30 if x else 0), x)[1], [0, 1, 2], max_parallel=3)
    assert next(results) == 0
    assert len(_children() - before) == 2  # the two sleepers
    results.close()
    assert _children() <= before


def test_profile_prints_or_adds_up(capsys):
    stats = {}
    for _ in range(2):
        with profile("load", stats):
            time.sleep(0.01)
    assert stats["load"] >= 20 and capsys.readouterr().out == ""
    with profile("fit"):
        pass
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PROFILE: fit starting" and out[1].startswith("PROFILE: fit completed in ")
