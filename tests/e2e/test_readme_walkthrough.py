"""The README's walkthrough in Chromium with the model a fresh install has: the embedded SmolLM2-135M answers (no
Ollama, no server). Load the demo, ask Hamilton's question, see a real streamed answer with its snippets from
Federalist No. 11, switch to global and ask again: no snippets, no profile, and the answer no longer draws on the
essays. The README's screenshots are copied from test-output/e2e/readme-*.png after this test."""

from __future__ import annotations

import pytest

from tests.conftest import closed_port
from tests.e2e.conftest import ask_in_chat, choose, settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e, pytest.mark.realmodel]


def test_walkthrough_with_the_embedded_model_answering(browser, tmp_path):
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "auto",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}", "PLAYGROUND_TEMPERATURE": "0",
           "PLAYGROUND_MAX_TOKENS": "80"}
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(300_000)
    try:
        with streamlit_server(env) as url:
            page.goto(url)
            page.get_by_role("button", name="Load demo data").wait_for()
            settle(page)
            assert page.get_by_text("SmolLM2-135M-Instruct", exact=False).count() >= 1, "Home names the model"
            assert page.get_by_text("very small model", exact=False).count() >= 1, "and says it is small"
            shot(page, "readme-home")
            page.get_by_role("button", name="Load demo data").click()
            page.get_by_text("Demo data ready").wait_for(timeout=600_000)
            settle(page)
            page.get_by_test_id("stSidebar").get_by_role("link", name="Chat", exact=True).click()
            ask_in_chat(page, "Why does the union need a navy?")  # the page's 300 s default timeout
            answer = page.get_by_test_id("stChatMessage").nth(1).inner_text()
            assert len(answer.split()) >= 5, answer
            assert page.get_by_text("Federalist No. 11", exact=False).count() >= 1, "snippets from the navy essay"
            assert page.get_by_text("SmolLM2-135M-Instruct", exact=False).count() >= 1, "the trace names the model"
            shot(page, "readme-chat")

            choose(page, "global")
            page.get_by_text("Preview under the current setting (global)").wait_for()
            settle(page)
            page.get_by_role("button", name="Ask again under global").click()
            page.get_by_text("mode global", exact=False).first.wait_for()
            settle(page)
            assert page.get_by_test_id("stChatMessage").count() >= 4, "the question was asked again under global"
            assert page.get_by_text("Global mode retrieves nothing", exact=False).count() >= 1
            shot(page, "readme-chat-global")
    finally:
        context.close()
