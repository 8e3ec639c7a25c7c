"""The README's promise in a real browser: load the demo data, chat as Hamilton with the llama.cpp engine answering,
see his essays in the inspector, switch to global and see them leave the prompt. Screenshots of every page."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SHOTS, ask_in_chat, choose, settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e, pytest.mark.engine]


def nav(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()


def test_llama_cpp_engine_demo_walkthrough_in_chromium(page, llm_env):
    with streamlit_server(llm_env) as url:
        page.goto(url)
        page.get_by_text("Start a workshop in one click").wait_for()
        settle(page)
        shot(page, "1-home", full_page=True)
        page.get_by_role("button", name="Load demo data").click()
        page.get_by_text("Demo data ready").wait_for(timeout=300_000)
        settle(page)

        nav(page, "Chat")
        ask_in_chat(page, "Why does the union need a navy?", timeout_ms=120_000)
        assert page.get_by_test_id("stChatMessage").count() >= 2
        page.get_by_text("from Alexander Hamilton · Federalist No.", exact=False).first.wait_for()  # snippets in full
        page.get_by_text("The exact prompt, part by part").last.click()  # the long parts are collapsible
        page.get_by_text("snippet #1 · Federalist No.", exact=False).first.wait_for()
        page.get_by_text("profile · Alexander Hamilton", exact=False).first.wait_for()
        assert page.get_by_text("model tiny", exact=False).count() >= 1
        shot(page, "2-chat-user")

        choose(page, "global")
        page.get_by_text("Preview under the current setting (global)").wait_for()
        settle(page)
        preview = page.get_by_text("Preview under the current setting (global)")
        assert preview.is_visible()
        page.get_by_text("Global mode retrieves nothing", exact=False).last.wait_for()
        shot(page, "3-chat-global-preview")
        page.get_by_role("button", name="Ask again under global").click()
        page.get_by_text("Latest turn", exact=False).first.wait_for()
        settle(page)
        page.get_by_text("mode global", exact=False).first.wait_for(timeout=120_000)
        assert page.get_by_test_id("stChatMessage").count() >= 4, "the question was asked again"
        shot(page, "4-chat-global")

        page.set_viewport_size({"width": 1440, "height": 2400})  # Streamlit scrolls inside the page: show it all
        for name in ("Profile", "Writing samples", "Personas", "Compare", "Evaluate", "Study"):
            nav(page, name)
            page.get_by_role("heading", name=name).first.wait_for()
            settle(page)
            shot(page, f"5-{name.lower().replace(' ', '-')}")
            if name == "Writing samples":  # the embedding map: each demo author's chunks as dots (no personas)
                maps = (page.get_by_test_id("stPlotlyChart").filter(has_text="Alexander Hamilton (you)")
                        .filter(has_text="James Madison").filter(has_text="John Jay").filter(has_not_text="persona:"))
                expect(maps).to_have_count(1)
                maps.first.scroll_into_view_if_needed()
                expect(maps.first.locator(".scatterlayer .point")).not_to_have_count(0)  # dots drawn, not an empty frame
                maps.first.screenshot(path=str(SHOTS / "5-writing-samples-map.png"))
