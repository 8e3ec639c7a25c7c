"""Text from other people is shown as text: markdown images, links and HTML placed in a sample title, a display name,
a sample's text, a persona's name and description, a model answer and a study's texts make no browser fetch anything.

A recorder HTTP server on loopback counts every request it gets; the payloads point at it. Alice (payload name,
title and text) shares her writing with a persona (payload name and description); Bob, in the same persona, opens
Chat in persona mode (his inspector shows Alice's snippet, name and title, and an answer carrying payloads), the
Personas page, Alice's Writing samples page (anyone may pick her in a public workshop), and a study participant
opens the consent page of a study whose texts are payloads. The recorder must have had zero requests, and the
browser must never have asked for the recorder's address."""

from __future__ import annotations

import http.server
import threading

import pytest

from playground import LLMUnavailable, Playground, Settings
from tests.e2e.conftest import choose, settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e]


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def payloads(base: str, tag: str) -> str:
    return (f"![p]({base}/{tag}-md.png) [link]({base}/{tag}-link) <img src=\"{base}/{tag}-html.png\"> "
            f"![ref][r{tag}]\n\n[r{tag}]: {base}/{tag}-ref.png\n\n<{base}/{tag}-auto>")


def short(base: str, tag: str) -> str:
    """Names have at most 80 characters: the image alone."""
    return f"![.]({base}/{tag}.png)"


def seed(env: dict[str, str], embedder, base: str) -> dict[str, str]:
    pg = Playground(Settings.from_env(env), embedder=embedder)
    persona = pg.create_persona_with_examples(short(base, "pn"), "You talk with sailors. " + payloads(base, "pd"),
                                payloads(base, "ps"), ["Short answers about ships and the sea, please."])
    alice = pg.people.create_profile(short(base, "an"), persona_id=persona["id"], share_with_persona=True)
    pg.library.add_sample(alice["id"], text="Ships and lighthouses at sea, every night. " + payloads(base, "st"),
                  title=payloads(base, "tt").replace("\n", " ")[:200])
    # Bob is this browser's own profile (made with its resume code, sent as me= below): the browser sees his
    # conversation, as the person who made him would.
    bob = pg.people.create_profile("Bob", persona_id=persona["id"], creator=BOB_CODE)
    session = pg.conversations.new_session(bob["id"], title="chat")
    turn = pg.conversations.start_turn(session["id"], "Tell me about ships at sea at night", "persona")
    assert any(h.owner_id == alice["id"] for h in turn.hits), "Alice's shared chunk reaches Bob's inspector"
    turn.preview_only(LLMUnavailable("No model."))
    answered = pg.conversations.start_turn(session["id"], "And lighthouses?", "persona")
    answered.answer, answered.status = "**Bold** is fine. " + payloads(base, "ans"), "complete"
    pg.conversations.save_answer(answered)  # an answer as a model could have written it (e.g. copying a shared snippet)
    study = pg.studies.create_study(short(base, "sn"), "Please agree. " + payloads(base, "sc"),
                                    [{"mode": "user"}, {"mode": "global"}], [payloads(base, "sp")])
    participant = pg.studies.join(study["code"], "P01")
    return {"alice": alice["id"], "bob": bob["id"], "resume": participant["resume_token"]}


BOB_CODE = "otter-birch-quill-23"


def test_other_peoples_markdown_and_html_make_no_browser_request(page, no_llm_env, embedder):
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(recorder.url) else None)
    try:
        ids = seed(no_llm_env, embedder, recorder.url)
        with streamlit_server(no_llm_env) as url:
            page.set_viewport_size({"width": 1440, "height": 2000})
            page.goto(f"{url}/Chat?profile={ids['bob']}&me={BOB_CODE}")
            page.get_by_test_id("stChatInputTextArea").wait_for()
            settle(page)
            choose(page, "persona")
            page.get_by_text("Latest turn").first.wait_for()
            settle(page)
            title = page.get_by_text(f"{recorder.url}/tt-md.png", exact=False)
            title.filter(visible=True).first.wait_for()  # the title, as text
            answer = page.get_by_text("Bold is fine.", exact=False)
            answer.filter(visible=True).first.wait_for()  # the answer keeps its formatting
            shot(page, "xss-chat-bob")

            page.goto(f"{url}/Personas?profile={ids['bob']}")
            page.get_by_role("heading", name="Personas").first.wait_for()
            settle(page)
            # open the persona's expander by its name, shown as text
            page.get_by_text(f"{recorder.url}/pn.png", exact=False).filter(visible=True).first.click()
            page.get_by_text(f"{recorder.url}/pd-md.png", exact=False).filter(visible=True).first.wait_for()
            member = page.get_by_text(f"{recorder.url}/an.png", exact=False)
            member.filter(visible=True).first.wait_for()  # Alice, a member who shares
            shot(page, "xss-personas")

            page.goto(f"{url}/Writing_samples?profile={ids['alice']}")
            page.get_by_role("heading", name="Writing samples").first.wait_for()
            settle(page)
            page.get_by_text(f"Preview: ![p]({recorder.url}/tt-md.png)", exact=False).filter(visible=True).first.click()
            page.get_by_text(f"{recorder.url}/st-md.png", exact=False).filter(visible=True).first.wait_for()
            shot(page, "xss-writing-samples")

            page.goto(f"{url}/Study?resume={ids['resume']}")
            page.get_by_role("heading", name="Consent").wait_for()
            settle(page)
            page.get_by_text(f"{recorder.url}/sc-md.png", exact=False).filter(visible=True).first.wait_for()
            shot(page, "xss-study-consent")
            page.wait_for_timeout(1500)  # time for any late image load
    finally:
        recorder.shutdown()
    assert recorder.paths == [], f"the browser fetched what people wrote: {recorder.paths}"
    assert asked == [], f"the browser asked for: {asked}"
