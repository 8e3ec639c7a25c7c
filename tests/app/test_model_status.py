"""The model status the pages show (components/services.model_status), in two browsers of one server: a failed
listing is never served to another browser, a slow server is told apart from a stopped one, and "busy" is read
fresh. The backend is a stand-in whose listing is switched between working, down and slow."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from streamlit.testing.v1 import AppTest

from playground.errors import LLMSlow, LLMUnavailable
from playground.models.selection import ModelChoice
from playground.settings import Settings

FAKE = SimpleNamespace()  # the Playground the page below reads (set by each test)


class SwitchBackend:
    name = "openai"

    def __init__(self) -> None:
        self.where = f"http://fake-{uuid.uuid4().hex[:8]}/v1"  # its own cache key: tests do not share a status
        self.mode = "up"
        self.listings = 0

    def list_models(self) -> list[str]:
        self.listings += 1
        if self.mode == "down":
            raise LLMUnavailable(f"No model server answers at {self.where}.", "Start it.")
        if self.mode == "slow":
            raise LLMSlow(f"The model server at {self.where} did not answer in time.")
        return ["tiny"]


def status_page() -> None:
    import streamlit as st

    from components.services import model_status
    from tests.app.test_model_status import FAKE

    s = model_status(FAKE)
    st.text(f"state={s.state} can_answer={s.can_answer}")
    st.text(s.problem or s.note or "ok")


def browser() -> AppTest:
    at = AppTest.from_function(status_page, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    return " | ".join(t.value for t in at.text)


def install() -> SwitchBackend:
    backend = SwitchBackend()
    FAKE.settings = Settings(llm_backend="openai")
    FAKE.models = ModelChoice(FAKE.settings, None, backend)  # type: ignore[arg-type]  # the real door, its pool
    FAKE.models.preferred_model = lambda: ""  # no database behind this fake: no workshop preset to read
    return backend


def test_a_failed_model_listing_is_not_served_to_another_browser_once_the_model_is_back():
    backend = install()
    backend.mode = "down"
    first = browser()
    assert "state=down can_answer=False" in shown(first) and "No model server answers" in shown(first)
    backend.mode = "up"
    second = browser()  # another participant, a moment later: sees the running model, not the cached failure
    assert "state=ready can_answer=True" in shown(second)
    # A good listing is shared: a third browser does not ask the server again.
    before = backend.listings
    assert "state=ready" in shown(browser()) and backend.listings == before


def test_a_slow_listing_says_slow_not_down_and_questions_are_still_sent():
    backend = install()
    backend.mode = "slow"
    at = browser()
    assert "state=slow can_answer=True" in shown(at)
    assert "running but slow" in shown(at) and "No model" not in shown(at)


def test_busy_is_read_fresh_while_this_app_writes_an_answer():
    install()
    assert "state=ready" in shown(browser())
    with FAKE.models.generation_queue.slot(timeout=5):
        at = browser()
        assert "state=busy can_answer=True" in shown(at) and "answering 1 question" in shown(at)
    assert "state=ready" in shown(browser())


def test_a_listing_slowed_down_by_our_own_answer_says_busy_not_down():
    backend = install()
    backend.mode = "slow"
    with FAKE.models.generation_queue.slot(timeout=5):
        at = browser()
        assert "state=busy can_answer=True" in shown(at) and "answering 1 question" in shown(at)
