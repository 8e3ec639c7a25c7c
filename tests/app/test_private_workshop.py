"""A private workshop: every browser sees only the profiles it created (and the public demo ones); a reload with
the same URL resumes; study participants never appear in anyone's list."""

from streamlit.testing.v1 import AppTest

from playground import Playground, Settings
from playground import study as studies
from playground.workshop import set_preset
from tests.app.conftest import button, no_errors, start
from tests.conftest import ROOT


def names(at):
    box = at.sidebar.selectbox[0] if at.sidebar.selectbox else None
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
