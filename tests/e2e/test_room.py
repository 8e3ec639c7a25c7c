"""What a room of strangers sees: other people's names in charts, feedback and the retrieved snippets above the fold
at 1280×720 (also with Retrieval settings open), and two browsers on one demo profile, each with a conversation of
its own that a reload keeps."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from playground import Playground, Settings
from tests.e2e.conftest import ask_in_chat, settle, shot, streamlit_server
from tests.e2e.test_rendering_other_peoples_text import Recorder

pytestmark = [pytest.mark.e2e]


def test_names_in_other_peoples_charts_show_literally_and_fetch_nothing(page, no_llm_env, embedder):
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(recorder.url) else None)
    try:
        pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
        link = f'<a href="{recorder.url}/x">x</a>'
        img = f'<img src="{recorder.url}/i.png">'
        for name in (link, img):
            p = pg.people.create_profile(name)
            pg.library.add_sample(p["id"], text="Ships and lighthouses at sea, every night, and the harbour in the fog.")
        bob = pg.people.create_profile("Bob")
        pg.library.add_sample(bob["id"], text="I bake bread on Sundays and walk the dog along the canal.")
        with streamlit_server(no_llm_env) as url:
            page.set_viewport_size({"width": 1440, "height": 2400})
            page.goto(f"{url}/Writing_samples?profile={bob['id']}")
            page.get_by_role("heading", name="Style at a glance").wait_for()
            settle(page)
            legend = page.locator("[data-testid='stPlotlyChart'] .legendtext")
            legend.first.wait_for()
            shown = legend.all_text_contents()
            shot(page, "room-chart-names", full_page=True)
            links = page.locator("[data-testid='stPlotlyChart'] .legend a").count()
            page.wait_for_timeout(1000)  # time for any late image load
    finally:
        recorder.shutdown()
    assert links == 0, "a display name became a link in another person's chart"
    assert link in shown and img in shown, shown
    assert recorder.paths == [] and asked == [], (recorder.paths, asked)


def on_screen(page, locator) -> bool:
    """The element's whole box is inside the 1280×720 window (not scrolled away, not below the fold)."""
    locator.wait_for()
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] < size["width"]


ESSAY = ("The harbour needs a navy of its own. A navy is the price of trading with the world, and trade is the "
         "life of the towns along the coast. Ships carry grain and timber to every port we can reach.")


def test_feedback_is_on_screen_at_1280x720(browser, no_llm_env, embedder):
    env = {**no_llm_env, "PLAYGROUND_PROMPT_BUDGET": "200"}
    pg = Playground(Settings.from_env(env), embedder=embedder)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        with streamlit_server(env) as url:
            # Made in this browser (so it may add writing to it).
            page.goto(f"{url}/Profile")
            page.get_by_label("Display name").first.fill("Ana Lindqvist")
            page.get_by_role("button", name="Create profile").click()
            page.get_by_text("created and selected").wait_for()
            settle(page)
            pid = pg.people.list_profiles()[0]["id"]
            pg.library.add_sample(pid, text=ESSAY, title="On a navy")

            # Through the sidebar (a reload is a new browser session, which did not make the profile).
            page.get_by_role("link", name="Writing samples").first.click()
            page.get_by_role("heading", name="Writing samples").first.wait_for()
            settle(page)
            page.get_by_label("…or paste some text you wrote").fill(
                "Write to me at ana@example.com about the tides.\n\nWarm wishes, Jonas")
            page.get_by_label("Title for the pasted text (optional)").fill("Letter to Maria")
            page.get_by_role("button", name="Add to my samples").click()
            found = page.get_by_role("heading", name="Personal data found: check before storing")
            found.wait_for()
            settle(page)
            shot(page, "room-720-privacy-scan")
            assert on_screen(page, found), "the privacy scan's result is below the fold"
            assert on_screen(page, page.get_by_role("button", name="Store these samples"))
            page.get_by_text("Replace personal data with placeholders").click()  # off by default in a public room
            settle(page)
            page.get_by_role("button", name="Store these samples").click()
            done = page.get_by_text("replaced before storing", exact=False).first
            done.wait_for(timeout=120_000)
            settle(page)
            shot(page, "room-720-privacy-stored")
            assert on_screen(page, done), "what was replaced is not shown after storing"
            for was in ("“ana@example.com” → [EMAIL]", "“Jonas” → [NAME]", "“Maria” → [NAME]"):
                assert page.get_by_text(was, exact=False).count() >= 1, was
            stored = pg.library.list_samples(pid)
            assert "Maria" not in " ".join(s["title"] for s in stored), "the title kept the name"

            page.get_by_role("link", name="Chat").first.click()
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for()
            settle(page)
            box.fill("   ")
            box.press("Enter")
            notice = page.get_by_text("Type a question first", exact=False)
            notice.wait_for()
            settle(page)
            shot(page, "room-720-empty-message")
            assert on_screen(page, notice), "the empty-message notice is below the fold"

            box.fill("Tell me about the tides of the estuary and the boats that wait for them. " * 20)
            box.press("Enter")
            kept = page.get_by_label("Your message, kept: edit it and send it again")
            kept.wait_for()
            settle(page)
            shot(page, "room-720-kept-message")
            assert on_screen(page, kept), "the kept too-long message is below the fold"
    finally:
        context.close()


def seen_height(locator) -> float:
    """How many pixels of the element can be seen: inside the window and inside the inspector's scrolling box."""
    return locator.evaluate("""el => {
        const b = el.getBoundingClientRect();
        const clip = document.querySelector('.st-key-chat_inspector').getBoundingClientRect();
        return Math.max(0, Math.min(b.bottom, clip.bottom, window.innerHeight) - Math.max(b.top, clip.top, 0)); }""")


def assert_first_snippet_in_view(page, where: str, lines: int = 2) -> None:
    """The first snippet's rank, score and source wholly in view, with ``lines`` lines of its text, and the page
    itself not scrolled (nothing below the fold)."""
    heading = (page.locator(".st-key-chat_inspector").get_by_test_id("stMarkdownContainer")
               .filter(has_text=re.compile(r"^#1 · score \d")).first)
    heading.wait_for()
    card = heading.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")  # its bordered box
    text = card.get_by_test_id("stText").first
    line = text.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    height = heading.bounding_box()["height"]
    assert seen_height(heading) >= height - 1, f"{where}: the first snippet's rank, score and source are cut off"
    assert seen_height(text) >= lines * line, f"{where}: less than {lines} lines of the first snippet's text in view"
    assert page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                         " return m.scrollHeight <= m.clientHeight + 1; }"), f"{where}: the page scrolls"


def test_the_first_snippet_stays_in_view_with_retrieval_settings_open_at_1280x720(browser, no_llm_env, embedder,
                                                                                  tmp_path):
    # The demo's essay titles are long: a snippet's rank, score and source take three lines of the inspector.
    Playground(Settings.from_env(no_llm_env), embedder=embedder).demo.load(essays_per_author=1)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        with streamlit_server(no_llm_env) as url:
            page.goto(f"{url}/Chat")
            ask_in_chat(page, "Why does the union need a navy?")
            # Closed, the prompt summary comes first (test_projector.py): the snippet's source is in view.
            assert_first_snippet_in_view(page, "settings closed", lines=0)
            page.get_by_text("Retrieval settings").first.click()
            # The page has run with the box open: the snippets lead the inspector, ahead of the turn's summary line.
            page.wait_for_function("""() => {
                const els = [...document.querySelectorAll('.st-key-chat_inspector [data-testid="stMarkdownContainer"], '
                                                          + '.st-key-chat_inspector [data-testid="stCaptionContainer"]')];
                const at = t => els.findIndex(e => e.innerText.startsWith(t));
                return at('Retrieved snippets') >= 0 && at('Retrieved snippets') < at('mode user ·'); }""")
            settle(page)
            page.screenshot(path=str(tmp_path / "chat-720-settings-open.png"))
            assert on_screen(page, page.get_by_text("Snippets (k)").first), "the settings are below the fold"
            assert_first_snippet_in_view(page, "settings open")

            # Tuning: another retriever previews its snippets, and the first of them is in view as well.
            page.get_by_test_id("stButtonGroup").get_by_text("bm25", exact=True).click()
            page.get_by_role("button", name="Ask again under user").wait_for()
            settle(page)
            page.screenshot(path=str(tmp_path / "chat-720-settings-open-bm25.png"))
            assert on_screen(page, page.get_by_role("button", name="Ask again under user"))
            assert_first_snippet_in_view(page, "bm25 preview", lines=1)  # the Ask again row takes one
    finally:
        context.close()


def pick_profile(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=name, exact=True).click()
    settle(page)
    expect(page.get_by_text(f"Chatting as {name}")).to_be_visible()


def ask(page, question: str) -> None:
    """Send a question and wait until the inspector shows it as the latest turn (an earlier turn's is already there)."""
    ask_in_chat(page, question)
    expect(page.locator(".st-key-chat_inspector")).to_contain_text(f"Latest turn · “{question}”")
    settle(page)


def history_parts(page) -> list[str]:
    """The text of every history part of the inspector's final prompt (opened part by part)."""
    inspector = page.locator(".st-key-chat_inspector")
    inspector.get_by_text("The exact prompt, part by part").first.click()
    inspector.get_by_text("history · user", exact=False).first.wait_for()
    return inspector.evaluate("""box => {
        const els = [...box.querySelectorAll('[data-testid="stMarkdownContainer"], [data-testid="stCode"]')];
        return els.flatMap((e, i) => e.innerText.startsWith('history ·') && els[i + 1]
                                     && els[i + 1].matches('[data-testid="stCode"]') ? [els[i + 1].innerText] : []);
    }""")


@pytest.mark.parametrize("private", [False, True], ids=["open-room", "private-workshop"])
def test_two_browsers_on_one_demo_profile_each_keep_a_conversation_of_their_own(browser, no_llm_env, embedder,
                                                                                tmp_path, private):
    pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
    pg.demo.load(essays_per_author=1)
    if private:
        pg.workshop.set_preset({"private_profiles": True})
    words = {"ana": "MKpelican", "ben": "MKwalrus"}
    contexts = {who: browser.new_context(viewport={"width": 1440, "height": 1000}) for who in words}  # two browsers
    pages = {who: c.new_page() for who, c in contexts.items()}
    try:
        with streamlit_server(no_llm_env) as url:
            for who, page in pages.items():
                page.set_default_timeout(60_000)
                page.goto(f"{url}/Chat")
                page.get_by_test_id("stChatInputTextArea").wait_for()
                settle(page)
                pick_profile(page, "Alexander Hamilton")
            # Turn by turn, so that a shared conversation would carry each one's words into the other's prompt.
            for question in ("Tell me about the {} in the harbour", "And what about the navy?"):
                for who, page in pages.items():
                    ask(page, question.format(words[who]))

            for when in ("after the turns", "after a reload"):
                for who, page in pages.items():
                    other = next(w for o, w in words.items() if o != who)
                    chat = page.locator(".st-key-chat_history")
                    expect(chat).to_contain_text(words[who])
                    expect(chat).to_contain_text("And what about the navy?")
                    assert other not in chat.inner_text(), f"{when}: {who} sees the other browser's message"
                    inspector = page.locator(".st-key-chat_inspector")
                    expect(inspector).to_contain_text("Latest turn · “And what about the navy?”")
                    history = history_parts(page)
                    assert any(words[who] in h for h in history), f"{when}: {who}'s own turn left the history"
                    assert not any(other in h for h in history), f"{when}: the other browser's turn is in {who}'s prompt"
                    assert other not in inspector.inner_text(), f"{when}: {who}'s inspector shows the other's words"
                    page.screenshot(path=str(tmp_path / f"{who}-{when.replace(' ', '-')}.png"))
                if when == "after the turns":
                    for page in pages.values():
                        page.reload()
                        page.get_by_test_id("stChatInputTextArea").wait_for()
                        settle(page)
                        expect(page.get_by_text("Chatting as Alexander Hamilton")).to_be_visible()
    finally:
        for c in contexts.values():
            c.close()
