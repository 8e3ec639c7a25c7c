"""The Chat page's granularity switch with the real llama.cpp engine (tiny model): after an answer, the preview
under the new granularity is exactly the prompt "Ask again" sends (same parts, same tokens); after a personalized
answer it carries none of that turn, and the inspector says which earlier turn was left out and why."""

import re

import pytest

from playground import Playground, Settings
from tests.app.conftest import button, make_user, no_errors, texts

pytestmark = pytest.mark.engine

MARK = "MKsecretestuary"


def summary_line(section: str) -> tuple[int, int]:
    m = re.search(r"\*\*Prompt: (\d+) tokens\*\* of a \d+-token budget · (\d+) parts?", section)
    assert m, section[:500]
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("first,then", [("user", "global"), ("user", "persona"), ("global", "user")])
def test_llama_cpp_engine_the_preview_after_a_switch_is_what_ask_again_sends(app_llm, llm_env, first, then):
    at = app_llm
    pid = make_user(at, "Ada", f"{MARK}: I sail on the estuary every weekend; the tide tables rule my life.")
    at.switch_page("pages/3_Chat.py").run()
    at.radio(key="chat_mode").set_value(first).run()
    at.chat_input(key="chat_input").set_value("When should I sail?").run()
    no_errors(at)
    at.radio(key="chat_mode").set_value(then).run()
    no_errors(at)
    preview = texts(at).split(f"Preview under the current setting ({then})")[1].split("Latest turn, as it was")[0]
    tokens, parts = summary_line(preview)
    button(at, f"Ask again under {then}").click().run()
    no_errors(at)
    latest = texts(at).split("Latest turn")[1]
    assert (tokens, parts) == summary_line(latest), "the prompt sent is the preview"
    pg = Playground(Settings.from_env(llm_env))
    sent = pg.conversations.session_messages(pg.conversations.sessions(pid)[0]["id"])[-1]["trace"]["prompt"]["messages"]
    if first == "user":  # nothing of the personalized turn is carried, and the inspector says so
        assert MARK not in preview and "history · " not in preview
        assert "Left out of the history: 1 earlier turn" in preview and "asked under user" in preview
        assert "Left out of the history: 1 earlier turn" in latest
        assert MARK not in str(sent) and [m["role"] for m in sent] == ["system", "user"]
    else:  # a user-level turn carries the earlier global turn, in the preview as in what is sent
        assert "history · user" in preview and "history · assistant" in preview
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
