"""End-to-end: `streamlit run app.py` on a free loopback port, driven by Debian's Chromium through Playwright.
Screenshots of every page go to test-output/e2e/."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import OUTPUT, ROOT
from tests.support.engine import free_port, stop

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = OUTPUT / "e2e"
SERVERS: dict[str, subprocess.Popen] = {}  # url → the streamlit process (benchmarks read its memory)


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], script: str = "app.py", timeout: float = 90) -> Iterator[str]:
    """Start `streamlit run` and wait for /_stcore/health; yield the base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited:\n{Path(log.name).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{Path(log.name).read_text()[-3000:]}")
            time.sleep(0.2)
        SERVERS[url] = proc
        yield url
    finally:
        SERVERS.pop(url, None)
        stop(proc, grace=15)
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    failed = getattr(request.node, "outcome_call", None)
    if failed is not None and failed.failed:
        # What the browser showed when the test failed: a screenshot beside the others, and the page's text in the
        # report (CI keeps the report, not the files).
        with contextlib.suppress(Exception):
            shot(pg, f"FAILED-{request.node.name}", full_page=True)
            failed.sections.append(("page text at failure", pg.inner_text("body", timeout=5_000)[-4000:]))
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.outcome_call = outcome.get_result()


def shot(page, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def settle(page) -> None:
    """Wait until Streamlit has finished running the script (no running indicator) and nothing raised."""
    page.wait_for_load_state("networkidle")
    # The app's own run state (what Streamlit's e2e tests wait on): the status widget shows only after a delay, so
    # its absence alone can be seen in the middle of a run.
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
                           ".every(c => c.querySelector('.main-svg'))", timeout=60_000)
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()


def choose(page, option: str, group=None) -> None:
    """Pick ``option`` on a radio group (the Chat page's granularity switch unless told) and wait until the app has
    taken it. A click that lands while the script is still running can be dropped by the page that the run then
    replaces, so it is repeated until the option is the checked one."""
    group = group if group is not None else page.get_by_test_id("stRadio").first
    label = group.locator("label").filter(has=page.get_by_text(option, exact=True))
    from playwright.sync_api import expect

    for attempt in range(5):
        label.click()
        try:
            expect(label.locator("input")).to_be_checked(timeout=15_000)
            break
        except AssertionError:
            if attempt == 4:
                raise
    settle(page)


def ask_in_chat(page, question: str, timeout_ms: float | None = None) -> None:
    """Type a question into the chat, send it, and wait until its turn (answer and trace) is on the page."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    settle(page)
    box.fill(question)
    box.press("Enter")
    page.get_by_text("Latest turn").first.wait_for(timeout=timeout_ms)
    settle(page)
