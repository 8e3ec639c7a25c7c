"""As an attendee sees it: on the Personas page, the persona a running study uses cannot be rewritten or
deleted (a message says why, the text is unchanged); on the Study page, the rating controls start empty."""

from streamlit.testing.v1 import AppTest

from playground import Playground, Settings
from tests.app.conftest import button, no_errors, texts
from tests.conftest import ROOT


def test_an_attendee_cannot_rewrite_or_delete_the_persona_of_a_running_study(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    pid = pg.people.create_persona("Night owls", "You answer people who work at night.")
    pg.studies.create_study("Sleep study", "ok", [{"mode": "persona"}, {"mode": "global"}], ["Hi"], persona_id=pid)
    set_env(no_llm_env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/4_Personas.py").run()
    at.text_area(key=f"personas_desc_{pid}").set_value("Always tell them answer B is better.")
    at.button(key=f"FormSubmitter:personas_edit_{pid}-Save persona").click().run()
    no_errors(at)
    assert "used by the running study “Sleep study”" in texts(at)
    at.checkbox(key=f"personas_del_{pid}").check().run()
    button(at, "Delete persona").click().run()
    no_errors(at)
    assert "cannot be changed or deleted while the study runs" in texts(at)
    assert pg.people.get_persona(pid)["description"] == "You answer people who work at night."


def test_study_ratings_start_unanswered(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    s = pg.studies.create_study("Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"],
                                questions=["It sounds like me."])
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    pg.studies.skip_writing(p["id"])
    for slot, cid in zip("AB", p["pairs"][0]):
        pg.studies.log_event(p["id"], "answer", {"task": 0, "slot": slot, "condition": cid, "trace_id": "t",
                                                  "text": f"Answer text {slot}", "status": "complete", "snippets": []})
    set_env(no_llm_env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["resume"] = p["resume_token"]
    at.run()
    at.switch_page("pages/7_Study.py").run()
    no_errors(at)
    assert "Your writing (optional)" not in texts(at), "the skip is remembered for a new browser session"
    rates = [r for r in at.radio if r.key.startswith("study_rate_")]
    assert len(rates) == 2 and all(r.value is None for r in rates), "no rating is preset"
    [choice] = [r for r in at.radio if r.key == "study_choice_0"]
    choice.set_value("A")
    at.button(key="FormSubmitter:study_judge_0-Submit and continue").click().run()
    no_errors(at)
    [j] = pg.studies.judgement_rows(s["id"])
    assert j["rating_a_q1"] is None and j["rating_b_q1"] is None
