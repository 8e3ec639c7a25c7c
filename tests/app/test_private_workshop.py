"""A private workshop: every browser sees only the profiles it created (and the public demo ones); a reload with
the same URL resumes; study participants never appear in anyone's list."""

from streamlit.testing.v1 import AppTest

from playground import Playground, Settings
from playground import study as studies
from playground.workshop import set_preset
from tests.app.conftest import button, no_errors, start
from tests.conftest import ROOT


def names(at):
    box = at.sidebar.selectbox(key="sidebar_profile") if at.sidebar.selectbox else None
    return sorted(box.format_func(o) for o in box.options) if box else []


def test_each_browser_sees_only_its_own_profiles(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    set_preset(pg, {"private_profiles": True})
    pg.create_profile("Demo person")  # public, like the demo data
    s = studies.create_study(pg, "Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    studies.join(pg, s["code"], "P01")

    browsers = {}
    for who in ("Ana", "Ben"):
        at = start(no_llm_env, set_env)
        at.switch_page("pages/1_Profile.py").run()
        at.text_input(key="new_display_name").input(who)
        button(at, "Create profile").click().run()
        no_errors(at)
        browsers[who] = at
    assert names(browsers["Ana"]) == ["Ana", "Demo person"]
    assert names(browsers["Ben"]) == ["Ben", "Demo person"]
    assert "Participant P01" not in names(browsers["Ana"]) + names(browsers["Ben"])
    # A fresh browser session with Ana's URL token (a reload) gets Ana's profiles back.
    token = browsers["Ana"].query_params["me"][0] if isinstance(browsers["Ana"].query_params["me"], list) \
        else browsers["Ana"].query_params["me"]
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    again.query_params["me"] = token
    again.run()
    assert names(again) == ["Ana", "Demo person"]


def test_the_personas_page_never_names_other_browsers_members(no_llm_env, set_env):
    from tests.app.conftest import texts

    pg = Playground(Settings.from_env(no_llm_env))
    set_preset(pg, {"private_profiles": True})
    persona = pg.list_personas()[0]
    pg.create_profile("Demo person", persona_id=persona["id"])  # public
    pg.create_profile("Ana Mine", owner_token="tok-ana", persona_id=persona["id"], share_with_persona=True)
    pg.create_profile("Ben Elsewhere", owner_token="tok-ben", persona_id=persona["id"], share_with_persona=True)
    s = studies.create_study(pg, "Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    pg.update_profile(studies.join(pg, s["code"], "P01")["profile_id"], persona_id=persona["id"])

    set_env(no_llm_env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["me"] = "tok-ana"
    at.run()
    at.switch_page("pages/4_Personas.py").run()
    no_errors(at)
    page = texts(at)
    assert "Ana Mine" in page and "Demo person" in page
    assert "Ben Elsewhere" not in page and "Participant P01" not in page
