"""With the real embedded model (SmolLM2-135M-Instruct, temperature 0), personalization must change the answers:
a fact that exists only in one person's writing reaches that person's user-mode answers, and never a global answer
or another person's. A persona's description must visibly change what the model writes. If retrieval, prompt
assembly or the granularity switch breaks, these fail."""

from __future__ import annotations

from playground.research.fact_recall import load_facts


def test_a_personal_fact_reaches_its_owner_in_user_mode_and_never_global_or_another_person(real_pg):
    people = load_facts()
    result = real_pg.fact_recall.run(people, questions_per_person=2, max_tokens=40)
    table = result["table"]
    assert result["model"] == "SmolLM2-135M-Instruct" and result["backend"] == "embedded"
    assert table["user"]["asked"] == 2 * len(people)
    assert table["user"]["used"] >= 0.6 * table["user"]["asked"], result["rows"]
    assert table["global"]["used"] == 0, [r for r in result["rows"] if r["mode"] == "global" and r["used"]]
    assert table["other person's user"]["used"] == 0, [r for r in result["rows"]
                                                        if r["mode"] == "other person's user" and r["used"]]


def _answer(pg, profile_id, question, mode, persona_id=None):
    turn = pg.conversations.start_turn(pg.conversations.new_session(profile_id)["id"], question, mode, persona_id=persona_id)
    return "".join(turn.stream()), turn


def test_a_persona_description_visibly_changes_the_answer(real_pg):
    pg = real_pg
    sailors = pg.create_persona_with_examples("Sailors", "People who live on boats and love the sea, sailing and ships.",
                                style_guidance="Talk about boats and the sea.")
    user = pg.people.create_profile("Sam")
    sea_words = ("sail", "boat", "sea", "ship", "ocean")
    for question in ("What should I do this weekend?", "What do I love?"):
        persona_answer, turn = _answer(pg, user["id"], question, "persona", sailors["id"])
        global_answer, _ = _answer(pg, user["id"], question, "global")
        assert any(p.source == "persona" for p in turn.prompt.parts)
        assert any(w in persona_answer.lower() for w in sea_words), (question, persona_answer)
        assert not any(w in global_answer.lower() for w in sea_words), (question, global_answer)


def test_the_embedded_model_streams_a_real_answer_and_the_trace_names_it(real_pg):
    pg = real_pg
    status = pg.models.llm_status()
    assert status.reachable and status.backend == "embedded" and status.model == "SmolLM2-135M-Instruct"
    answer, turn = _answer(pg, None, "What is the capital of France?", "global")
    assert "paris" in answer.lower(), answer
    t = turn.trace
    assert t["backend"] == "embedded" and t["model"] == "SmolLM2-135M-Instruct" and t["status"] == "complete"
    assert t["output_tokens"] > 1 and not t["output_tokens_estimated"] and t["ttft_s"] is not None
