"""``orch ui`` in a real browser: Debian's chromium, headless, driven by Selenium through Debian's
chromedriver (no browser download). Pages are checked against the store; screenshots are kept in
``.test-artifacts/ui``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from orchestrator import Flow
from tests.conftest import FLOWS, ROOT, wait_for

SHOTS = ROOT / ".test-artifacts" / "ui"


@pytest.fixture
def ui(orch):
    """The UI over the test's store, served from a thread on a free loopback port."""
    from werkzeug.serving import make_server

    from orchestrator.ui.server import create_app

    server = make_server("127.0.0.1", 0, create_app(orch.store), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_port
    server.shutdown()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium")
    driver_binary = shutil.which("chromedriver")
    assert binary and driver_binary, "Debian's chromium and chromium-driver are needed (make fixtures installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % (tmp_path / "chromium"))
    driver = webdriver.Chrome(service=Service(driver_binary), options=options)
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _text(browser, element_id: str):
    """An element's text read in one script, so a page being replaced (a submitted form, a live
    fragment) gives None for a moment rather than a stale element."""
    try:
        return browser.execute_script(
            "var e = document.getElementById(arguments[0]); return e ? e.textContent : null", element_id
        )
    except Exception:
        return None


def test_runs_list_run_page_and_task_page(orch, ui, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for flow in ("crash_flow.py", "crash_flow.py"):
        code, _, err = orch("run", str(FLOWS / "reliability" / flow), "--pause", "0")
        assert code == 0, err
    code, _, err = orch("run", str(FLOWS / "reliability" / "slow_retry_flow.py"), "--seconds", "0")
    assert code == 0, err

    browser.get(ui + "/")
    assert browser.find_element(By.ID, "count").text == "3 runs"
    browser.save_screenshot(str(SHOTS / "runs.png"))
    search = browser.find_element(By.NAME, "q")
    search.send_keys("SlowRetry", Keys.ENTER)
    assert wait_for(lambda: _text(browser, "count") == "1 run"), _text(browser, "count")

    run = Flow("CrashFlow").latest_run
    browser.get("%s/runs/CrashFlow/%s" % (ui, run.id))
    for step in run:
        node = browser.find_element(By.ID, "step-%s" % step.id)
        assert node.get_attribute("data-status") == "succeeded"
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    assert len(bars) == 27
    assert "pause" in browser.page_source
    browser.save_screenshot(str(SHOTS / "run.png"))

    task = run["work"].tasks()[3]
    browser.get("%s/runs/CrashFlow/%s/work/%s" % (ui, run.id, task.id))
    assert browser.find_element(By.ID, "stdout").text == task.stdout.strip()
    names = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table td:first-child code")]
    assert names == sorted(a.id for a in task)
    row = names.index("square")
    browser.find_elements(By.CSS_SELECTOR, "button.preview")[row].click()
    wait_for(lambda: browser.find_element(By.ID, "preview-%d" % row).text not in ("", "loading..."))
    assert browser.find_element(By.ID, "preview-%d" % row).text == str(task.data.square)
    browser.save_screenshot(str(SHOTS / "task.png"))


def test_a_live_run_is_followed_until_it_finishes(orch, ui, browser):
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", str(FLOWS / "reliability" / "slow_retry_flow.py")]
        + ["--store", orch.store, "--executor", "local", "--seconds", "6"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        runs = wait_for(lambda: list(Path(orch.store).glob("flows/SlowRetryFlow/runs/*/run.json")), 30)
        run_id = runs[0].parent.name
        wait_for(lambda: list(Path(orch.store).glob("flows/SlowRetryFlow/runs/*/steps/slow/*/0.start.json")), 30)
        browser.get("%s/runs/SlowRetryFlow/%s" % (ui, run_id))

        def status(element_id: str) -> str:  # read in one script: the live fragment is replaced as it updates
            return browser.execute_script("return document.getElementById(arguments[0]).dataset.status", element_id)

        assert status("live") == "running"
        assert status("step-slow") == "running"
        browser.save_screenshot(str(SHOTS / "live-running.png"))
        assert process.wait(120) == 0
        finished = wait_for(lambda: status("live") == "succeeded", 30)
        assert finished, "the page did not follow the run to its end"
        assert status("step-end") == "succeeded"
        browser.save_screenshot(str(SHOTS / "live-finished.png"))
    finally:
        process.kill()


def test_compare_two_runs(orch, ui, browser):
    from selenium.webdriver.common.by import By

    for pause in ("0", "0.01"):
        code, _, err = orch("run", str(FLOWS / "reliability" / "crash_flow.py"), "--pause", pause)
        assert code == 0, err
    first, second = sorted(r.id for r in Flow("CrashFlow").runs())
    browser.get("%s/compare?a=CrashFlow/%s&b=CrashFlow/%s" % (ui, first, second))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "pause 0.0 0.01 differs" in text
    assert "start.pause" in text  # the parameter artifact differs; every computed artifact is identical
    assert "work[3].square" not in text


def test_the_ui_is_read_only(orch, ui):
    import urllib.error
    import urllib.request

    for method in ("POST", "PUT", "DELETE"):
        request = urllib.request.Request(ui + "/", method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 405


def test_a_new_users_run_page_reads_well(orch, ui, browser):
    """The fixes a new user asked for on GenreStatsFlow: the whole CSV parameter is one click away, the
    default environment is named with its Python, foreach tasks show their values, short tasks are
    visible bars."""
    from tests.conftest import EXAMPLES

    code, _, err = orch("run", str(EXAMPLES / "genre_stats_flow.py"))
    assert code == 0, err
    run = Flow("GenreStatsFlow").latest_run
    browser.get("%s/runs/GenreStatsFlow/%s" % (ui, run.id))
    page = browser.page_source
    assert "<details><summary><code>" in page and "characters; show all" in page  # movie_data, shortened
    assert "default environment" in page and "python 3." in page and ">?<br>" not in page
    genres = sorted(t.data.genre for t in run["compute_statistics"])
    for task in run["compute_statistics"]:
        assert "%s [%s]" % (task.id, task.data.genre) in page
    assert genres
    widths = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.timeline rect.bar')).map(r => +r.getAttribute('width'))"
    )
    assert widths and min(widths) >= 4
    browser.save_screenshot(str(SHOTS / "run_page_genre_stats.png"))


def _in_card(browser, frame, script: str):
    """Run ``script`` inside a card's frame (sandboxed: another origin, reached through WebDriver)."""
    browser.switch_to.frame(frame)
    try:
        return browser.execute_script(script)
    finally:
        browser.switch_to.default_content()


def test_cards_on_the_task_page(orch, ui, browser):
    """A card with Markdown, a Table from a DataFrame, a matplotlib Image and a VegaChart shows all four
    on its task page; the run page links the tasks that have cards."""
    from selenium.webdriver.common.by import By

    from tests.conftest import EXAMPLES

    code, _, err = orch("run", str(EXAMPLES / "movie_cards_flow.py"))
    assert code == 0, err
    run = Flow("MovieCardsFlow").latest_run
    report = run["report"].task
    browser.get("%s/runs/MovieCardsFlow/%s" % (ui, run.id))
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href$='#cards']")]
    assert any(link.endswith("/report/%s#cards" % report.id) for link in links), links
    browser.get("%s/runs/MovieCardsFlow/%s/report/%s" % (ui, run.id, report.id))
    (frame,) = browser.find_elements(By.CSS_SELECTOR, "iframe.card")
    assert frame.get_attribute("sandbox") == "allow-scripts allow-popups"  # no same-origin: it cannot reach the UI
    found = wait_for(
        lambda: _in_card(
            browser,
            frame,
            "return document.readyState === 'complete' && {"
            " heading: (document.querySelector('h1') || {}).textContent,"
            " chart: document.querySelectorAll('.orch-chart svg').length,"
            " image: (document.querySelector('figure.orch-image img') || {src: ''}).src.slice(0, 22),"
            " headers: Array.from(document.querySelectorAll('th')).map(t => t.textContent),"
            " rows: document.querySelectorAll('table tr').length}",
        ),
        30,
    )
    assert found["heading"] == "Gross by genre"  # Markdown
    assert found["chart"] == 1  # the VegaChart, drawn to SVG
    assert found["image"] == "data:image/png;base64,"  # the matplotlib figure
    assert found["headers"] == ["genre", "million USD"] and found["rows"] == 9  # Table.from_dataframe, top 8
    assert wait_for(lambda: int(frame.get_attribute("offsetHeight")) > 700, 10), "the frame did not fit its card"
    browser.execute_script("document.getElementById('cards').scrollIntoView()")
    browser.save_screenshot(str(SHOTS / "cards_task_page.png"))


def test_a_live_card_changes_in_the_browser(orch, ui, browser):
    from selenium.webdriver.common.by import By

    from tests.conftest import EXAMPLES

    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.main", "run", str(EXAMPLES / "movie_cards_flow.py")]
        + ["--store", orch.store, "--executor", "local", "--pause", "0.5"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = wait_for(
            lambda: list(Path(orch.store).glob("flows/MovieCardsFlow/runs/*/steps/report/*/0.start.json")), 60
        )
        run_id, task_id = started[0].parts[-5], started[0].parts[-2]
        browser.get("%s/runs/MovieCardsFlow/%s/report/%s" % (ui, run_id, task_id))

        def progress():
            frames = browser.find_elements(By.CSS_SELECTOR, "iframe.card")
            if not frames:
                return None
            try:
                return _in_card(
                    browser,
                    frames[0],
                    "var b = document.querySelector('[role=progressbar]');"
                    " return b && +b.getAttribute('aria-valuenow')",
                )
            except Exception:  # the frame was replaced by a newer render meanwhile
                return None

        first = wait_for(progress, 30)
        assert first is not None and first < 15, "no live card while the task ran"
        assert "live" in browser.find_element(By.ID, "cards").text
        browser.save_screenshot(str(SHOTS / "cards_live.png"))
        later = wait_for(lambda: (progress() or 0) > first and progress(), 30)
        assert later and later > first, "the live card did not change on the page"
        assert process.wait(120) == 0
        final = wait_for(lambda: browser.find_element(By.ID, "cards").get_attribute("data-done") == "true", 30)
        assert final, "the page did not switch to the final card"
        assert progress() == 15
    finally:
        process.kill()


def test_a_report_shows_the_cards_offline(orch, tmp_path, browser):
    """``orch report`` embeds the run's cards whole: the file opens with no network and shows them."""
    from selenium.webdriver.common.by import By

    from orchestrator.cli.main import main
    from tests.conftest import EXAMPLES

    assert orch("run", str(EXAMPLES / "movie_cards_flow.py"))[0] == 0
    out = tmp_path / "report.html"
    assert main(["report", "MovieCardsFlow", "--store", orch.store, "--out", str(out)]) == 0
    page = out.read_text()
    assert page.count('<iframe class="card"') == 2
    assert not re.search(r"""<(script|img|link)[^>]+(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    browser.get(out.as_uri())
    frames = browser.find_elements(By.CSS_SELECTOR, "iframe.card")
    texts = [
        wait_for(lambda f=f: _in_card(browser, f, "return document.body && document.body.innerText"), 20)
        for f in frames
    ]
    assert "Movies at a glance" in texts[0] and "Avatar" in texts[0]
    assert "Gross by genre" in texts[1]
    assert _in_card(browser, frames[1], "return document.querySelectorAll('.orch-chart svg, figure img').length") == 2
    browser.execute_script("arguments[0].scrollIntoView()", frames[0])
    browser.save_screenshot(str(SHOTS / "report_cards.png"))
