"""The Chat page on a projector, with the llama.cpp engine answering: at 1280×720 and 1920×1080 the granularity
switch, the answer, the prompt summary, the first snippet's full text and the chat input are on screen together;
retrieval settings stay open while they are changed. A reload mid-answer keeps the partial answer with its reason and
a Retry button. Screenshots go to test-output/e2e/ (the README's come from test_readme_walkthrough.py)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import choose, settle, shot, streamlit_server
from tests.support.gate import Gate

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

ESSAY = ("The harbour needs a navy of its own. A fleet of frigates would guard our merchants against pirates and "
         "against the jealousy of the European powers, whose ships already crowd our coast. Commerce without "
         "protection is an invitation to plunder; a navy is the price of trading with the world.\n\n"
         "The mountains divide the western settlers from the coast, and their rivers run to a port held by a "
         "foreign crown. Whoever holds that port holds their harvest, and so their loyalty.")


def on_screen(page, locator) -> bool:
    """Whether the element's box is at least partly inside the window (not scrolled away, not below the fold)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] < size["height"] and box["y"] + box["height"] > 0 and box["x"] < size["width"]


def make_profile(env: dict[str, str], embedder) -> str:
    from playground import Playground, Settings

    pg = Playground(Settings.from_env(env), embedder=embedder)
    pid = pg.people.create_profile("Publius", interests="ships, trade")["id"]
    pg.library.add_sample(pid, text=ESSAY, title="On a navy")
    return pid


def ask(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


@pytest.mark.parametrize("width,height", [(1280, 720), (1920, 1080)])
def test_chat_layout_shows_switch_answer_prompt_summary_and_snippet_together(browser, llm_env, embedder, width,
                                                                             height):
    pid = make_profile(llm_env, embedder)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        with streamlit_server(llm_env) as url:
            page.goto(f"{url}/Chat?profile={pid}")
            page.get_by_test_id("stChatInputTextArea").wait_for()
            settle(page)
            ask(page, "Why does the union need a navy?")
            page.get_by_text("Latest turn").wait_for()
            settle(page)
            answer = page.get_by_test_id("stChatMessage").nth(1)
            checks = {
                "granularity switch": page.get_by_test_id("stRadio").first,
                "the answer": answer,
                "prompt summary": page.get_by_text("of a 1500-token budget").first,
                "first snippet's text": page.get_by_text("The harbour needs a navy of its own", exact=False).first,
                "chat input": page.get_by_test_id("stChatInputTextArea"),
            }
            hidden = [name for name, loc in checks.items() if not on_screen(page, loc)]
            # The inspector scrolls inside its own box: the page itself does not grow past the window.
            assert page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                                 " return m.scrollHeight <= m.clientHeight + 1; }"), "the page scrolls"
            assert on_screen(page, page.get_by_text("Latest turn").first)
            shot(page, f"chat-{width}x{height}")
            assert not hidden, f"off screen at {width}×{height}: {hidden}"
            # The snippet is readable in full where it is listed, not cut after a few characters.
            assert page.get_by_text("a navy is the price of trading with the world", exact=False).count() >= 1
            if width == 1280:  # a longer conversation scrolls inside its box: the input and the switch stay put
                for question in ("And the western rivers?", "Who holds the port?"):
                    ask(page, question)
                    page.get_by_text(f"“{question}”").first.wait_for()
                    settle(page)
                for name in ("granularity switch", "chat input"):
                    assert on_screen(page, checks[name]), f"{name} left the screen in a longer chat"

            # Retrieval settings stay open while settings change.
            page.get_by_text("Retrieval settings").first.click()
            page.get_by_test_id("stButtonGroup").get_by_text("bm25", exact=True).click()
            settle(page)
            assert page.get_by_text("Snippets (k)").first.is_visible(), "the settings box closed after a change"
            page.get_by_text("Retrieval settings").first.click()
            settle(page)

            choose(page, "global")
            page.get_by_text("Preview under the current setting (global)").wait_for()
            settle(page)
            page.wait_for_timeout(1000)
            settle(page)
            assert page.get_by_text("Latest turn, as it was sent").count() == 1, "one expander, no stale copy"
            assert on_screen(page, page.get_by_text("Preview under the current setting (global)"))
            assert on_screen(page, page.get_by_role("button", name="Ask again under global"))
            shot(page, f"chat-global-{width}x{height}")
    finally:
        context.close()


def wait_for_answer_row(env: dict[str, str], page) -> list[tuple]:
    """The assistant messages, once the first is saved (the worker saves it when the page stops)."""
    db = sqlite3.connect(Path(env["PLAYGROUND_DATA_DIR"]) / "playground.sqlite3")
    try:
        for _ in range(300):
            rows = db.execute("SELECT status, error, length(content) FROM messages WHERE role = 'assistant' "
                              "ORDER BY created, rowid").fetchall()
            if rows:
                return rows
            page.wait_for_timeout(200)
        return []
    finally:
        db.close()


@contextlib.contextmanager
def mid_answer(page, llm_env: dict[str, str], embedder, question: str) -> Iterator[tuple[Gate, dict[str, str]]]:
    """The Chat page with ``question`` asked and its answer streaming: the gate lets the first words through and
    then trickles, so what the test does next lands mid-answer on any machine. Yields (gate, the app's env)."""
    pid = make_profile(llm_env, embedder)
    with Gate(llm_env["PLAYGROUND_OPENAI_BASE_URL"], hold_after=4) as gate:
        env = {**llm_env, "PLAYGROUND_MAX_TOKENS": "400", "PLAYGROUND_OPENAI_BASE_URL": gate.url}
        with streamlit_server(env) as url:
            page.goto(f"{url}/Chat?profile={pid}")
            page.get_by_test_id("stChatInputTextArea").wait_for()
            settle(page)
            ask(page, question)
            assert gate.holding.wait(120), "the answer never started streaming"
            yield gate, env


def test_reload_mid_answer_keeps_the_partial_answer_with_a_reason_and_retry(page, llm_env, embedder):
    with mid_answer(page, llm_env, embedder, "Tell me everything about navies.") as (gate, env):
        page.get_by_test_id("stChatMessage").nth(1).wait_for()
        shot(page, "chat-mid-answer")
        page.reload()
        page.get_by_test_id("stChatInputTextArea").wait_for()
        row = wait_for_answer_row(env, page)
        assert row and row[0][0] == "interrupted", row
        assert "reload" in row[0][1] and row[0][2] > 0, "the partial answer is kept, with the reason"
        assert gate.hung_up.wait(30), "the model's stream was left open for a page nobody watches"
        page.reload()  # now the saved answer is on the page
        page.get_by_text("Stopped part-way", exact=False).wait_for()
        page.get_by_text("Interrupted by a reload", exact=False).first.wait_for()
        settle(page)
        shot(page, "chat-interrupted")
        assert page.get_by_role("button", name="Retry").count() == 1


def test_leaving_for_another_page_mid_answer_keeps_it_as_interrupted_by_a_page_switch(page, llm_env, embedder):
    with mid_answer(page, llm_env, embedder, "And what about the army?") as (gate, env):
        page.get_by_test_id("stSidebar").get_by_role("link", name="Profile", exact=True).click()
        page.get_by_role("heading", name="Profile").first.wait_for()
        answers = wait_for_answer_row(env, page)
        assert answers and answers[0][0] == "interrupted", answers
        assert "leaving the page" in answers[0][1] or "page switch" in answers[0][1], answers
        assert gate.hung_up.wait(30), "the model kept writing for a page nobody watches"
