"""AppTest for the probes in the app: “Explain this answer” on a Chat answer (run, resume after a cancel,
close), the Bias probe page, and the personalized judge on the Study admin page."""

import json

import pytest

from components import state
from playground import Playground, Settings
from playground.research.probes import counterfactual, judge
from tests.app.conftest import button, make_user, no_errors, start, texts


def table(at, column: str):
    """The dataframe on the page that has this column (AppTest finds dataframes by position, not key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a column {column!r}"
    return found[0]


@pytest.mark.engine
def test_llama_cpp_engine_explain_this_answer_shows_each_removal_and_resumes_after_cancel(app_llm, llm_env):
    at = app_llm
    make_user(at, writing="I sail on the estuary every weekend; the tide tables rule my life.")
    at.switch_page("pages/3_Chat.py").run()
    at.chat_input(key="chat_input").set_value("When should I sail?").run()
    at.run()
    no_errors(at)
    button(at, "Explain this answer").click().run()
    no_errors(at)
    page = texts(at)
    assert "What did each part do?" in page and counterfactual.EXPLAINED in page
    assert "Full prompt · complete" in page and "Without profile · Ada · complete" in page
    assert "Without snippet #1" in page
    rows = table(at, "removed")
    assert list(rows["removed"])[0] == "nothing removed (full prompt)" and len(rows) >= 3
    assert rows["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-3)
    assert "changed the answer most" in page or "No removal changed the answer" in page
    button(at, "Close").click().run()
    assert "What did each part do?" not in texts(at)

    # A batch cancelled after its first answer: the page says so and Resume finishes it.
    pg = Playground(Settings.from_env(llm_env))
    trace = next(m["trace"] for s in pg.conversations.sessions(at.session_state[state.PROFILE])
                 for m in pg.conversations.session_messages(s["id"]) if m["trace"])
    rid = pg.start_explanation(None, "", "user", trace=trace)
    pg.run_explanation(rid, should_stop=lambda: len(counterfactual.get_run(pg.db, rid)["variants"]) >= 1)
    at.session_state[state.EXPLAIN] = {"chat_explain": {"run": rid, "go": False}}
    at.run()
    total = counterfactual.get_run(pg.db, rid)["total"]
    assert f"Stopped after 1 of {total} answers." in texts(at)
    button(at, "Resume").click().run()
    no_errors(at)
    assert counterfactual.get_run(pg.db, rid)["status"] == "complete"
    assert "Stopped after" not in texts(at) and len(table(at, "removed")) == total


@pytest.mark.engine
def test_llama_cpp_engine_compare_explains_the_user_answer_in_its_own_section(app_llm):
    at = app_llm
    make_user(at)
    at.switch_page("pages/5_Compare.py").run()
    at.text_area(key="compare_message").input("Plan my Saturday.")
    button(at, "Answer under all three").click().run()
    no_errors(at)
    button(at, "Explain the user answer").click().run()
    no_errors(at)
    page = texts(at)
    assert "What did each part do?" in page and "Without profile · Ada · complete" in page
    assert "Message: “Plan my Saturday.” · user" in page
    at.switch_page("pages/3_Chat.py").run()
    assert "What did each part do?" not in texts(at), "Chat has its own explanation section"


@pytest.mark.engine
def test_llama_cpp_engine_bias_probe_page_asks_both_and_reports_the_differences(app_llm):
    at = app_llm
    at.switch_page("pages/10_Bias_probe.py").run()
    no_errors(at)
    assert "differ in one attribute only" in texts(at)
    at.selectbox(key="bias_attribute").set_value("occupation").run()
    at.text_area(key="bias_questions").input("What should I read?\nHow do I relax?")
    button(at, "Ask both").click().run()
    no_errors(at)
    page = texts(at)
    assert "occupation: “nurse” vs “software engineer”" in page
    assert "2 of 2 questions answered" in page and "cannot show" in page
    summary = table(at, "measure")
    assert list(summary["measure"]) == ["length (words)", "reading grade (Flesch-Kincaid)", "sentiment (VADER, −1…+1)"]
    assert "- Occupation: nurse" in page and "- Occupation: software engineer" in page


def test_bias_probe_without_a_model_says_so_and_bad_values_are_explained(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/10_Bias_probe.py").run()
    button(at, "Ask both").click().run()
    no_errors(at)
    assert "The probe needs a model." in texts(at)


def test_study_admin_shows_the_judges_agreement_and_checks_the_edited_prompt(no_llm_env, set_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "sesame"}
    pg = Playground(Settings.from_env(env))
    s = pg.studies.create_study("Pilot", "Agree?", [{"mode": "user"}, {"mode": "global"}],
                                [f"Task {n}" for n in range(8)])
    p = pg.studies.join(s["code"], "P1")
    th = judge.template_hash(judge.DEFAULT_TEMPLATE)
    ratings = json.dumps({slot: {q["id"]: 3 for q in s["questions"]} for slot in "AB"})
    for task, (c, v) in enumerate(zip("AABBABAA", "ABBBAAAA")):
        for slot in "AB":
            pg.studies.log_event(p["id"], "answer", {"task": task, "slot": slot, "condition": "c1", "trace_id": "t",
                                                     "text": f"answer {slot}", "status": "complete"})
        pg.db.execute("INSERT INTO judgements (id, study_id, participant_id, task, prompt, condition_a, condition_b, "
                      "trace_a, trace_b, choice, ratings, created) VALUES (?, ?, ?, ?, 'q', 'c1', 'c2', 't', 't', ?, ?, "
                      "'now')", (f"j{task}", s["id"], p["id"], task, c, ratings))
        pg.db.execute("INSERT INTO judge_verdicts (id, study_id, participant_id, task, template_hash, model, verdict, "
                      "confidence, raw, data, created) VALUES (?, ?, ?, ?, ?, 'tiny', ?, 'high', ?, '{}', 'now')",
                      (f"v{task}", s["id"], p["id"], task, th, v, f"Preferred: {v}\nConfidence: high"))
    at = start(env, set_env)
    at.switch_page("pages/8_Study_admin.py").run()
    at.text_input(key="admin_pass").input("sesame")
    button(at, "Unlock").click().run()
    no_errors(at)
    page = texts(at)
    assert "Personalized judge" in page and judge.EXPLAINED in page
    assert at.text_area(key=f"admin_judge_template_{s['id']}").value == judge.DEFAULT_TEMPLATE
    values = {m.label: m.value for m in at.metric}
    assert values["Agreement"] == "75%" and values["Cohen's kappa"] == "0.47" and values["Compared"] == "8 of 8"
    conf = table(at, "judge's confidence")
    assert list(conf["tasks"]) == [0, 0, 8, 0] and list(conf["agreed"]) == [0, 0, 6, 0]
    at.text_area(key=f"admin_judge_template_{s['id']}").input("Which is better? {answer_a} {question}").run()
    assert "must contain {answer_b}" in texts(at)
    at.text_area(key=f"admin_judge_template_{s['id']}").input(judge.DEFAULT_TEMPLATE + "\nThink of their tone.").run()
    assert "No verdicts for this prompt yet (8 judgements to judge)." in texts(at), "a new prompt needs new verdicts"
    button(at, "Run the judge").click().run()
    assert "The judge needs a model." in texts(at)


@pytest.mark.engine
def test_llama_cpp_engine_compare_asks_the_judge_with_the_edited_prompt(app_llm):
    at = app_llm
    make_user(at)
    at.switch_page("pages/5_Compare.py").run()
    at.text_area(key="compare_message").input("Plan my Saturday.")
    button(at, "Answer under all three").click().run()
    assert "Would the model guess your choice?" in texts(at)
    at.text_area(key="compare_judge_template").input("Pick one. {question} {answer_a}").run()
    button(at, "Ask the judge").click().run()
    assert "must contain {answer_b}" in texts(at), "a broken prompt is explained, not sent"
    at.text_area(key="compare_judge_template").input(judge.DEFAULT_TEMPLATE).run()
    button(at, "Ask the judge").click().run()
    no_errors(at)
    page = texts(at)
    assert "The judge's words, as written:" in page
    assert ("The judge thinks you would prefer the" in page) or ("recorded as unparsed (never guessed)" in page)
