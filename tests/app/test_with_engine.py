"""AppTest with the real llama.cpp engine serving the generated tiny model: streamed answers and their traces, the
three-way comparison with a recorded preference, and a blind study from join to export."""

import json

import pytest

from components import state
from playground import Playground, Settings
from tests.app.conftest import _walk, button, make_user, no_errors, start, texts

pytestmark = pytest.mark.engine


def test_llama_cpp_engine_streams_an_answer_and_each_answer_keeps_its_trace(app_llm):
    at = app_llm
    assert "Chatting with **tiny**" in texts(at)
    make_user(at)
    at.switch_page("pages/3_Chat.py").run()
    at.chat_input(key="chat_input").set_value("When should I sail?").run()
    no_errors(at)
    answers = [m for m in at.chat_message if m.name == "assistant"]
    assert answers and answers[-1].markdown, "an answer was written"
    at.chat_input(key="chat_input").set_value("And in winter?").run()
    no_errors(at)
    expanders = [e for e in at.expander if e.label == "How this answer was personalized"]
    assert len(expanders) == 1 and "Latest turn" in texts(at), "the new answer's trace is in the inspector"
    at.run()
    expanders = [e for e in at.expander if e.label == "How this answer was personalized"]
    assert len(expanders) == 2, "every earlier answer keeps its own trace"
    first = texts(at).split("How this answer was personalized")[1]
    assert "model **tiny**" in first and "first token" in first and "answer" in first and "tokens" in first
    assert "snippet #1" in first


def test_llama_cpp_engine_compare_three_granularities_and_record_a_preference(app_llm, llm_env):
    at = app_llm
    pid = make_user(at)
    at.switch_page("pages/5_Compare.py").run()
    at.text_area(key="compare_message").input("Plan my Saturday.")
    button(at, "Answer under all three").click().run()
    no_errors(at)
    page = texts(at)
    assert all(f"\n{m}\n" in f"\n{page}\n" for m in ("user", "persona", "global"))
    assert "global → user" in page and "lines added" in page
    at.radio(key="compare_choice").set_value("user")
    button(at, "Record my preference").click().run()
    no_errors(at)
    assert "Recorded" in texts(at)
    pg = Playground(Settings.from_env(llm_env))
    row = pg.db.one("SELECT * FROM preferences")
    assert row["profile_id"] == pid and row["choice"] == "user" and set(json.loads(row["traces"])) == {
        "user", "persona", "global"}


def test_llama_cpp_engine_blind_study_never_shows_a_condition(llm_env, set_env):
    pg = Playground(Settings.from_env(llm_env))
    s = pg.studies.create_study("Pilot", "Please agree.", [{"mode": "user"}, {"mode": "global"}],
                                ["Plan my weekend.", "What should I cook?"], blind=True)
    at = start(llm_env, set_env)
    at.switch_page("pages/7_Study.py").run()
    at.text_input(key="study_code").input(s["code"])
    at.text_input(key="study_pid").input("P07")
    button(at, "Join").click().run()
    no_errors(at)
    assert "Please agree." in texts(at)
    assert at.button(key="study_consent").disabled
    at.checkbox(key="study_agree").check().run()
    at.button(key="study_consent").click().run()
    at.text_area(key="study_writing").input("Weekends are for the allotment and long lunches with my sister.")
    at.button(key="study_add_writing").click().run()
    no_errors(at)
    seen = []
    for task in range(2):
        page = texts(at) + texts(at, "sidebar")
        # The tiny model's word salad may contain "model" or "global" by chance: the answers are not the leak.
        for answer in pg.studies.task_view(at.session_state[state.PARTICIPANT], task)["answers"].values():
            page = page.replace(answer["text"], "<answer>") if answer["text"] else page
        keys = [str(getattr(el, "key", "")) for where in (at.main, at.sidebar) for el in _walk(where)]
        seen += [page, *keys]  # what the browser receives: text, labels and widget keys
        assert f"Task {task + 1} of 2" in page and "Answer A" in page and "Answer B" in page
        at.radio(key=f"study_choice_{task}").set_value("A")
        at.text_area(key=f"study_reason_{task}").input("Warmer.")
        button(at, "Submit and continue").click().run()
        no_errors(at)
    assert "All done" in texts(at)
    everything = "\n".join(seen)
    for leak in ("user · dense", "global · dense", "c1", "c2", "mode", "global", "retriever"):
        assert leak not in everything, f"the condition leaks through {leak!r}"
    rows = pg.studies.judgement_rows(s["id"])
    assert [r["choice"] for r in rows] == ["A", "A"] and rows[0]["reason"] == "Warmer."
