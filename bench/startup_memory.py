"""Start-up and memory, through a real server and Debian's Chromium.

1. First paint: time from navigation to the page title being visible, for the Home page (a fresh server, the
   embedding model not loaded) against a bare Streamlit page on a second server, alternated, same run.
   Target: Home ≤ 1.5 × bare.
2. Memory: resident memory of the Streamlit server after one chat session has answered, and after 30 sessions have
   each answered (all kept open), with the llama.cpp engine serving the tiny test model. Target: ≤ 1.3 ×.

    .venv/bin/python bench/startup_memory.py [--sessions 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, at_most, report

sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def first_paint(browser, url: str, title: str) -> float:
    context = await browser.new_context()
    page = await context.new_page()
    t0 = time.perf_counter()
    await page.goto(url)
    await page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
    elapsed = time.perf_counter() - t0
    await context.close()
    return elapsed


async def chat(browser, url: str, profile_id: str, keep: list) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(240_000)
    await page.goto(f"{url}/Chat?profile={profile_id}")
    box = page.get_by_test_id("stChatInputTextArea")
    await box.wait_for()
    await box.fill("What do I write about?")
    await box.press("Enter")
    await page.get_by_text("Latest turn", exact=False).first.wait_for()
    keep.append(context)  # stays open: an active session


async def main_async(sessions: int) -> None:
    from playwright.async_api import async_playwright

    from playground import Playground, Settings
    from tests.e2e.conftest import CHROMIUM, FLAGS, SERVERS, streamlit_server
    from tests.support.engine import llama_server
    from tests.support.tiny_gguf import write_tiny_model

    tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        env = {"PLAYGROUND_DATA_DIR": str(tmp / "paint"), "PLAYGROUND_LLM_BACKEND": "openai",
               "PLAYGROUND_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
        with streamlit_server(env) as home, streamlit_server({}, script="bench/bare_app.py") as bare:
            await first_paint(browser, bare, "Bare page")  # warm both servers' static files
            await first_paint(browser, home, "Personalization Playground")
            h, b = [], []
            for _ in range(7):
                b.append(await first_paint(browser, bare, "Bare page"))
                h.append(await first_paint(browser, home, "Personalization Playground"))
        print(f"first paint median: home {1000 * statistics.median(h):.0f} ms, bare {1000 * statistics.median(b):.0f} ms")

        model = write_tiny_model(tmp / "tiny.gguf")
        with llama_server(model) as llm:
            env = {"PLAYGROUND_DATA_DIR": str(tmp / "mem"), "PLAYGROUND_LLM_BACKEND": "openai",
                   "PLAYGROUND_OPENAI_BASE_URL": llm, "PLAYGROUND_MODEL": "tiny", "PLAYGROUND_MAX_TOKENS": "16"}
            pg = Playground(Settings.from_env(env))
            ids = []
            for i in range(sessions):
                u = pg.people.create_profile(f"Person {i}")
                pg.library.add_sample(u["id"], text=f"Person {i} writes about boats, bread and the weather, day {i}.")
                ids.append(u["id"])
            with streamlit_server(env) as url:
                pid = SERVERS[url].pid
                keep: list = []
                await chat(browser, url, ids[0], keep)
                one = rss_mb(pid)
                await asyncio.gather(*(chat(browser, url, i, keep) for i in ids[1:]))
                many = rss_mb(pid)
                for c in keep:
                    await c.close()
        await browser.close()
    print(f"server memory: {one:.0f} MB with 1 session, {many:.0f} MB with {sessions} sessions")
    report("Start-up and memory", [
        ("home first paint vs bare Streamlit page (s, median of 7)", statistics.median(h), statistics.median(b),
         at_most(1.5)),
        (f"server memory, {sessions} sessions vs 1 (MB)", many, one, at_most(1.3)),
    ])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=30)
    asyncio.run(main_async(ap.parse_args().sessions))


if __name__ == "__main__":
    main()
