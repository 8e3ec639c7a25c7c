"""Load: 30 browser sessions at once against one running app on loopback, each chatting as its own person with the
llama.cpp engine answering. Bounded in count (30) and time (each session 240 s). No errors, and no session ever sees
another person's writing."""

import asyncio
import concurrent.futures
import statistics
import time

import pytest

from playground import Playground, Settings
from tests.e2e.conftest import CHROMIUM, FLAGS, OUTPUT, streamlit_server

pytestmark = [pytest.mark.e2e, pytest.mark.engine]
SESSIONS = 30
NOT_RUNNING = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


async def one_session(browser, url: str, profile_id: str, marker: str, others: set[str]) -> dict:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(240_000)
    try:
        await page.goto(f"{url}/Chat?profile={profile_id}")
        box = page.get_by_test_id("stChatInputTextArea")
        await box.wait_for()
        t0 = time.perf_counter()
        await box.fill(f"What do you remember about {marker}?")
        await box.press("Enter")
        await page.get_by_text("Latest turn", exact=False).first.wait_for()
        await page.wait_for_function(NOT_RUNNING)
        elapsed = time.perf_counter() - t0
        body = await page.inner_text("body")
        errors = await page.get_by_test_id("stException").count()
        return {"ok": errors == 0, "own": marker in body, "leaks": sorted(m for m in others if m in body),
                "seconds": elapsed}
    finally:
        await context.close()


async def run_all(url: str, people: list[tuple[str, str]]) -> list[dict]:
    from playwright.async_api import async_playwright

    markers = {m for _, m in people}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            return await asyncio.gather(*(one_session(browser, url, pid, m, markers - {m}) for pid, m in people))
        finally:
            await browser.close()


def test_llama_cpp_engine_thirty_concurrent_sessions_without_errors_or_leaks(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    people = []
    for i in range(SESSIONS):
        marker = f"zq{i:02d}marker"
        user = pg.people.create_profile(f"Person {i}")
        pg.library.add_sample(user["id"], text=f"My private notebook mentions {marker} twice: {marker} is my code word. "
                                       f"I walk to the lake every morning and write about it.")
        people.append((user["id"], marker))
    with streamlit_server(llm_env) as url:
        t0 = time.perf_counter()
        # Its own thread and event loop: the sync Playwright of the other e2e tests keeps a loop running here.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            results = pool.submit(asyncio.run, run_all(url, people)).result(timeout=600)
        wall = time.perf_counter() - t0
    times = sorted(r["seconds"] for r in results)
    p95 = times[int(0.95 * (len(times) - 1))]
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "load.txt").write_text(f"{SESSIONS} sessions, wall {wall:.1f} s, turn p50 {statistics.median(times):.1f} s, "
                                     f"p95 {p95:.1f} s\n")
    assert all(r["ok"] for r in results), "a session showed an exception"
    assert all(r["own"] for r in results), "every session sees its own writing in the inspector"
    assert [r["leaks"] for r in results] == [[]] * SESSIONS, "no session sees anyone else's writing"
