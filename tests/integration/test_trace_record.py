"""The stored trace of a turn is the record the inspector, Explain, the study and the exports read: every key it
holds is one ``Trace`` declares (playground/pipeline/trace.py, which the type checker holds the code to), for an
answered turn and for one recorded without a model."""

from __future__ import annotations

from typing import get_type_hints

import pytest

from playground import LLMUnavailable, Playground, Trace
from tests.support.fake_llm import EchoBackend

pytestmark = pytest.mark.fake_embedder

DECLARED = set(get_type_hints(Trace))
BUILT = {"id", "mode", "requested_mode", "query", "profile_id", "persona_id", "retrieval", "hits", "prompt",
         "prompt_tokens", "template", "session_id", "user_message_id", "history_ids", "history_excluded"}


def stored(pg: Playground, session_id: str) -> list[dict]:
    return [m["trace"] for m in pg.conversations.session_messages(session_id) if m["role"] == "assistant"]


def test_an_answered_turn_and_a_turn_without_a_model_store_only_declared_keys(settings, embedder):
    pg = Playground(settings, embedder=embedder, backend=EchoBackend())
    me = pg.people.create_profile("Ada")
    pg.library.add_sample(me["id"], text="I sail a small boat called the MKboat on the lake every summer.",
                          title="Summer")
    sid = pg.conversations.new_session(me["id"], title="t")["id"]
    turn = pg.conversations.start_turn(sid, "What is my boat called?", "user")
    answer = "".join(turn.stream())
    assert "MKboat" in answer, "the snippet reached the prompt the backend read"

    offline = Playground(settings, embedder=embedder)  # the same data, no model server
    turn2 = offline.conversations.start_turn(sid, "And where do I sail?", "global")
    turn2.preview_only(LLMUnavailable("No model."))

    answered, previewed = stored(pg, sid)
    for trace in (answered, previewed):
        assert set(trace) <= DECLARED, f"undeclared trace keys: {set(trace) - DECLARED}"
        assert BUILT <= set(trace), f"missing: {BUILT - set(trace)}"
    assert answered["status"] == "complete" and answered["hits"] and answered["mode"] == "user"
    assert previewed["status"] == "error" and previewed["mode"] == "global" and previewed["hits"] == []
