"""orch ui page times on a big store: 1,000 runs, and one run with a 10,000-task foreach.

The records are written straight into a fresh local store (what a run would
write, without running 10,000 tasks); each page is fetched cold (records read
from the store) and warm (records cached: they are write-once). Target: every
warm page under 1 s; cold pages read each record once.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from orchestrator.store.local import LocalBackend
from orchestrator.store.metadata import MetadataStore

RUNS, TASKS = 1000, 10_000
GRAPH = {
    "steps": [
        {"name": "start", "type": "foreach", "next": ["work"], "decorators": []},
        {"name": "work", "type": "linear", "next": ["join"], "decorators": []},
        {"name": "join", "type": "join", "next": ["end"], "decorators": []},
        {"name": "end", "type": "end", "next": [], "decorators": []},
    ]
}


def _fill(root: str) -> str:
    meta = MetadataStore(LocalBackend(root))
    now = time.time() - 3600
    for index in range(RUNS):
        run = str(1_000_000 + index)
        meta.create_run(
            "ManyRuns",
            run,
            {
                "created_at": now + index,
                "user": "bench",
                "tags": ["t%d" % (index % 7)],
                "graph": GRAPH,
                "parameter_values": {"i": index},
            },
        )
        meta.finish_run("ManyRuns", run, {"status": "succeeded", "finished_at": now + index + 5})
    big = "2000000"
    meta.create_run("BigForeach", big, {"created_at": now, "user": "bench", "graph": GRAPH, "parameter_values": {}})

    def task(number: int) -> None:
        step = "start" if number == 0 else "join" if number == TASKS + 1 else "end" if number == TASKS + 2 else "work"
        stack = [["start", "items", number - 1, TASKS]] if step == "work" else []
        meta.start_attempt(
            "BigForeach",
            big,
            step,
            str(number + 1),
            0,
            {"started_at": now + number * 0.01, "foreach_stack": stack, "host": "h"},
        )
        meta.finish_attempt(
            "BigForeach",
            big,
            step,
            str(number + 1),
            0,
            {"status": "ok", "finished_at": now + number * 0.01 + 0.5, "artifacts": {"x": ["0" * 64, [], 5, "int"]}},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(task, range(TASKS + 3)))
    meta.finish_run("BigForeach", big, {"status": "succeeded", "finished_at": now + TASKS * 0.01 + 1})
    return big


def run() -> list:
    from orchestrator.ui.server import create_app

    lines = []
    with tempfile.TemporaryDirectory() as root:
        began = time.perf_counter()
        big = _fill(root)
        lines.append("%-38s %.1fs" % ("wrote %d runs + a %d-task run" % (RUNS, TASKS), time.perf_counter() - began))
        client = create_app(root).test_client()
        pages = [
            ("runs list (%d runs)" % (RUNS + 1), "/"),
            ("runs list, filtered", "/?q=t3"),
            ("run page, %d tasks" % TASKS, "/runs/BigForeach/%s" % big),
            ("task page in that run", "/runs/BigForeach/%s/work/5000" % big),
        ]
        for label, url in pages:
            times = []
            for _ in range(3):
                began = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200, (url, response.status_code)
            lines.append("%-38s cold %6.3fs   warm %6.3fs (target warm < 1 s)" % (label, times[0], min(times[1:])))
    return lines
