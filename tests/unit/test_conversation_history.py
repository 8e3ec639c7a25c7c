"""Which earlier turns a new turn may carry (playground.pipeline.conversation_history), on plain message rows: global sees
no personalized turn, persona sees no user-level turn nor another persona's, user sees everything; what is left out
is reported with the reason."""

from __future__ import annotations

from typing import Any

from playground.pipeline.conversation_history import select_history


def turn(n: int, mode: str | None, persona_id: str | None = None, *, history_ids: list[str] | None = None,
         legacy_history: bool = False) -> list[dict[str, Any]]:
    """A question and (unless ``mode`` is None) its answer with a trace, as Playground.session_messages returns."""
    q = {"id": f"q{n}", "role": "user", "content": f"question {n}", "status": "complete", "trace": None}
    if mode is None:
        return [q]
    trace: dict[str, Any] = {"mode": mode, "persona_id": persona_id, "user_message_id": f"q{n}",
                             "prompt": {"parts": [{"source": "history"}] if legacy_history else []}}
    if not legacy_history:
        trace["history_ids"] = history_ids or []
    a = {"id": f"a{n}", "role": "assistant", "content": f"answer {n}", "status": "complete", "trace": trace}
    return [q, a]


def contents(choice) -> list[str]:
    return [m["content"] for m in choice.messages]


def test_global_carries_only_global_turns_and_says_why_the_others_are_left_out():
    rows = turn(1, "user") + turn(2, "global") + turn(3, "persona", "p1")
    choice = select_history(rows, "global", None, limit=10)
    assert contents(choice) == ["question 2", "answer 2"]
    assert choice.message_ids == ["q2", "a2"]
    assert [(x["message_id"], x["mode"], x["turn"]) for x in choice.excluded] == [("a1", "user", 1),
                                                                                   ("a3", "persona", 3)]
    assert all("global mode sees no personal data" in x["reason"] for x in choice.excluded)
    assert choice.excluded_total == 2


def test_persona_carries_its_own_persona_and_global_turns_but_no_user_level_or_other_persona_turn():
    rows = turn(1, "user") + turn(2, "persona", "p1") + turn(3, "persona", "p2") + turn(4, "global")
    choice = select_history(rows, "persona", "p1", limit=10)
    assert contents(choice) == ["question 2", "answer 2", "question 4", "answer 4"]
    reasons = {x["turn"]: x["reason"] for x in choice.excluded}
    assert "no user-level data" in reasons[1] and "only its own persona" in reasons[3]


def test_user_level_carries_every_turn_of_the_conversation():
    rows = turn(1, "user") + turn(2, "persona", "p1") + turn(3, "global") + turn(4, None)
    choice = select_history(rows, "user", None, limit=10)
    assert len(choice.messages) == 7 and not choice.excluded


def test_a_turn_recorded_before_the_rule_carries_what_it_saw_so_global_leaves_it_out():
    # Turn 2 was asked under global by the old code, which sent turn 1's personalized answer along as history.
    rows = turn(1, "user") + turn(2, "global", legacy_history=True) + turn(3, "global")
    choice = select_history(rows, "global", None, limit=10)
    assert contents(choice) == ["question 3", "answer 3"]
    assert "carried personal data from earlier turns" in choice.excluded[1]["reason"]
    # A legacy global turn with no history is plain global.
    rows = turn(1, "global", legacy_history=False) + turn(2, "user")
    assert contents(select_history(rows, "global", None, limit=10)) == ["question 1", "answer 1"]


def test_a_question_without_a_recorded_answer_is_left_out_unless_user_level():
    rows = turn(1, "global") + turn(2, None)
    assert contents(select_history(rows, "global", None, limit=10)) == ["question 1", "answer 1"]
    assert "granularity is unknown" in select_history(rows, "persona", "p", limit=10).excluded[0]["reason"]
    assert contents(select_history(rows, "user", None, limit=10))[-1] == "question 2"


def test_the_limit_counts_only_messages_that_may_be_carried():
    rows = turn(1, "global") + turn(2, "user") + turn(3, "user") + turn(4, "global")
    assert contents(select_history(rows, "global", None, limit=3)) == ["answer 1", "question 4", "answer 4"]
    assert select_history(rows, "global", None, limit=0).messages == []


def test_an_answer_paired_by_its_trace_not_by_position():
    # Two questions asked at once in one conversation: the answers arrive in the other order.
    q1, a1 = turn(1, "user")
    q2, a2 = turn(2, "global")
    choice = select_history([q1, q2, a2, a1], "global", None, limit=10)
    assert contents(choice) == ["question 2", "answer 2"]
