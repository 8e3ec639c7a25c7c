"""In Chromium with the llama.cpp engine answering: ask under *user*, click *global*, read the
preview's token count and parts, press *Ask again under global*: the prompt sent has the same tokens and parts, the
inspector says the personalized turn was left out, and nothing of the person's writing reached the model."""

import re

import pytest

from playground import Playground, Settings
from tests.e2e.conftest import ask_in_chat, choose, settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

MARK = "MKestuarytides"
SUMMARY = re.compile(r"(\d+) tokens of a \d+-token budget · (\d+) parts")


def test_llama_cpp_engine_global_preview_is_what_ask_again_sends_in_chromium(page, llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    ada = pg.people.create_profile("Ada", interests="sailing")
    pg.library.add_sample(ada["id"], text=f"{MARK}: I sail on the estuary every weekend; the tide tables rule my life.")
    with streamlit_server(llm_env) as url:
        page.goto(f"{url}/Chat")
        ask_in_chat(page, "When should I sail?", timeout_ms=120_000)
        choose(page, "global")
        page.get_by_text("Preview under the current setting (global)").wait_for()
        settle(page)
        left_out = page.get_by_text("Left out of the history: 1 earlier turn", exact=False)
        left_out.first.wait_for()
        assert "asked under user" in left_out.first.inner_text()
        body = page.locator("body").inner_text()
        preview = SUMMARY.search(body.split("Preview under the current setting (global)")[1])
        assert preview, "the preview shows its token count and parts"
        shot(page, "honest-switch-preview")
        page.get_by_role("button", name="Ask again under global").click()
        page.get_by_text("mode global", exact=False).first.wait_for(timeout=120_000)
        settle(page)
        sent = SUMMARY.search(page.locator("body").inner_text().split("Latest turn")[1])
        assert sent and sent.groups() == preview.groups(), (preview.group(0), sent.group(0))
        shot(page, "honest-switch-sent")
    trace = pg.conversations.session_messages(pg.conversations.sessions(ada["id"])[0]["id"])[-1]["trace"]
    assert trace["mode"] == "global" and MARK not in str(trace["prompt"]["messages"])
    assert (trace["prompt"]["tokens"], len(trace["prompt"]["parts"])) == tuple(map(int, preview.groups()))
