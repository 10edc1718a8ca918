"""``orch report``: one self-contained HTML file with the run's DAG, timeline, parameters and artifacts."""

from __future__ import annotations

import re
import shutil
import subprocess

from orchestrator import Flow
from orchestrator.cli.main import main
from tests.conftest import FLOWS


def test_report_of_a_run_with_retries_and_a_foreach(orch, tmp_path, capsys):
    code, _, err = orch("run", str(FLOWS / "reliability" / "crash_flow.py"), "--pause", "0")
    assert code == 0, err
    code, _, err = orch("run", str(FLOWS / "reliability" / "slow_retry_flow.py"), "--seconds", "0")
    assert code == 0, err
    run = Flow("CrashFlow").latest_run
    out = tmp_path / "report.html"
    capsys.readouterr()
    assert main(["report", "CrashFlow/%s" % run.id, "--store", orch.store, "--out", str(out)]) == 0
    assert "Wrote %s (CrashFlow/%s, 27 tasks)" % (out, run.id) in capsys.readouterr().out
    page = out.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch: it opens offline
    assert "<script" not in page
    for step in ("start", "left", "right", "meet", "fan", "work", "gather", "end"):
        assert 'id="step-%s" data-status="succeeded"' % step in page
    assert page.count('class="bar status-succeeded"') == 27  # one bar per attempt on the timeline
    assert "<td><code>pause</code></td><td><code>0.0</code></td>" in page  # the parameter and its value
    assert "<code>payload</code> bytes" in page and "over 20 tasks" in page  # artifact summary of the foreach
    assert "<code>big</code> bytes, 3.0 MB" in page

    # a retried step shows both attempts; the latest run of a flow is the default
    assert main(["report", "SlowRetryFlow", "--store", orch.store, "--out", str(tmp_path / "retry.html")]) == 0
    assert (tmp_path / "retry.html").read_text().count('class="bar status-') == 3


def test_report_errors_are_clear(orch, capsys):
    capsys.readouterr()
    assert main(["report", "NoSuchFlow", "--store", orch.store]) == 1
    assert "Flow NoSuchFlow has no runs in this store." in capsys.readouterr().err
    assert main(["report", "NoSuchFlow/12", "--store", orch.store]) == 1
    assert "Run NoSuchFlow/12 does not exist in this store." in capsys.readouterr().err
    assert main(["report", "A/1/2", "--store", orch.store]) == 2


def test_report_opens_in_a_browser_with_no_network(orch, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (make fixtures installs it)"
    code, _, err = orch("run", str(FLOWS / "reliability" / "crash_flow.py"), "--pause", "0")
    assert code == 0, err
    out = tmp_path / "report.html"
    assert main(["report", "CrashFlow", "--store", orch.store, "--out", str(out)]) == 0
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--proxy-server=127.0.0.1:9",
        "--user-data-dir=%s" % (tmp_path / "profile"),
    ]
    dom = subprocess.run([chromium, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    assert 'id="step-work"' in dom.stdout and 'class="timeline"' in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, "--screenshot=%s" % shot, "--window-size=1200,1600", out.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
