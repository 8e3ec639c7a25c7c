"""A private workshop: every browser sees only the profiles it created (and the public demo ones); a reload with
typing the resume code resumes; study participants never appear in anyone's list."""

from streamlit.testing.v1 import AppTest

from components.state import BROWSER
from playground import Playground, Settings
from tests.app.conftest import button, new_name_box, no_errors, start, texts
from tests.conftest import ROOT


def names(at):
    box = at.sidebar.selectbox[0] if at.sidebar.selectbox else None
    return sorted(box.format_func(o) for o in box.options) if box else []


def test_each_browser_sees_only_its_own_profiles(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    pg.workshop.set_preset({"private_profiles": True})
    pg.people.create_profile("Demo person")  # public, like the demo data
    s = pg.studies.create_study("Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    pg.studies.join(s["code"], "P01")

    browsers = {}
    for who in ("Ana", "Ben"):
        at = start(no_llm_env, set_env)
        at.switch_page("pages/1_Profile.py").run()
        new_name_box(at).input(who)
        button(at, "Create profile").click().run()
        no_errors(at)
        browsers[who] = at
    assert names(browsers["Ana"]) == ["Ana", "Demo person"]
    assert names(browsers["Ben"]) == ["Ben", "Demo person"]
    assert "Participant P01" not in names(browsers["Ana"]) + names(browsers["Ben"])
    # A fresh browser session (a reload) sees only the public profiles, until Ana types her resume code.
    code = browsers["Ana"].session_state[BROWSER]
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    again.run()
    assert names(again) == ["Demo person"]
    resume(again, code.upper().replace("-", " "))  # as typed by a hurried person
    no_errors(again)
    assert names(again) == ["Ana", "Demo person"]


def resume(at: AppTest, code: str) -> None:
    at.sidebar.text_input(key="sidebar_resume_code").input(code)
    button(at, "Resume").click().run()


def test_the_address_bar_never_shows_the_resume_code_and_a_photographed_link_gives_nothing(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    pg.workshop.set_preset({"private_profiles": True})
    at = start(no_llm_env, set_env)
    at.switch_page("pages/1_Profile.py").run()
    new_name_box(at).input("Cleo")
    button(at, "Create profile").click().run()
    no_errors(at)
    code = at.session_state[BROWSER]
    address = "&".join(f"{k}={v}" for k, v in at.query_params.items())
    assert "me" not in at.query_params and code not in address, address
    assert code not in texts(at, "main") and code not in texts(at, "sidebar"), "hidden until asked for"
    # Someone who photographed the projected address bar opens exactly that address: Cleo's profile is not there.
    stranger = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in at.query_params.items():
        stranger.query_params[k] = v
    stranger.run()
    no_errors(stranger)
    assert "Cleo" not in names(stranger)
    # Guessing does not work either, and says so.
    resume(stranger, "otter-maple-flint-42" if code != "otter-maple-flint-42" else "otter-maple-flint-43")
    assert "No profiles have that code" in " ".join(e.value for e in stranger.error)
    assert "Cleo" not in names(stranger)


def test_switching_privacy_on_hides_earlier_profiles_from_every_browser_until_the_admin_decides(no_llm_env,
                                                                                                  set_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "open sesame"}
    pg = Playground(Settings.from_env(env))
    pg.people.create_profile("Early bird", notes="wrote before privacy was on")
    pg.people.create_profile("Alexander Hamilton")  # a demo profile stays public
    admin = start(env, set_env)
    admin.switch_page("pages/8_Study_admin.py").run()
    admin.text_input(key="admin_pass").input("open sesame")
    button(admin, "Unlock").click().run()
    assert "hides every existing non-demo profile" in texts(admin)
    admin.checkbox(key="admin_private").check()
    button(admin, "Apply to everyone").click().run()
    no_errors(admin)
    assert "1 existing profile hidden from every browser" in texts(admin)
    listed = [n for df in admin.dataframe if "name" in df.value for n in df.value["name"].tolist()]
    assert listed == ["Early bird"], "the admin sees what was hidden"

    stranger = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    stranger.run()
    assert names(stranger) == ["Alexander Hamilton"], "the earlier profile is hidden, the demo one is not"

    button(admin, "Make them public again").click().run()
    stranger.run()
    assert names(stranger) == ["Alexander Hamilton", "Early bird"]


def test_the_private_profiles_setting_starts_private_from_the_first_click(no_llm_env, set_env):
    env = {**no_llm_env, "PLAYGROUND_PRIVATE_PROFILES": "true"}
    pg = Playground(Settings.from_env(env))
    pg.people.create_profile("Left over", notes="from yesterday's session")
    first = start(env, set_env)
    assert names(first) == [], "what an earlier session left public is hidden at start-up"
    first.switch_page("pages/1_Profile.py").run()
    new_name_box(first).input("Dee")
    button(first, "Create profile").click().run()
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    other.run()
    assert names(first) == ["Dee"] and names(other) == []


def test_the_personas_page_never_names_other_browsers_members(no_llm_env, set_env):
    from tests.app.conftest import texts

    pg = Playground(Settings.from_env(no_llm_env))
    pg.workshop.set_preset({"private_profiles": True})
    persona = pg.people.list_personas()[0]
    pg.people.create_profile("Demo person", persona_id=persona["id"])  # public
    pg.people.create_profile("Ana Mine", owner_token="otter-maple-flint-11", persona_id=persona["id"],
                             share_with_persona=True)
    pg.people.create_profile("Ben Elsewhere", owner_token="raven-moss-pine-22", persona_id=persona["id"],
                             share_with_persona=True)
    s = pg.studies.create_study("Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    pg.people.update_profile(pg.studies.join(s["code"], "P01")["profile_id"], persona_id=persona["id"])

    set_env(no_llm_env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["me"] = "otter-maple-flint-11"
    at.run()
    at.switch_page("pages/4_Personas.py").run()
    no_errors(at)
    page = texts(at)
    assert "Ana Mine" in page and "Demo person" in page
    assert "Ben Elsewhere" not in page and "Participant P01" not in page


def test_the_address_bar_cannot_claim_the_admin_or_a_study_participant(no_llm_env, set_env):
    """`?me=hidden:admin` used to list every profile privacy hid, with their writing; `?me=study:…` a participant's."""
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "open sesame"}
    pg = Playground(Settings.from_env(env))
    pg.people.create_profile("Early bird", notes="my biopsy result came back")
    pg.workshop.set_preset({"private_profiles": True})
    from playground.people import privacy

    assert privacy.hide_existing(pg.db) == 1
    s = pg.studies.create_study("Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    participant = pg.studies.join(s["code"], "P01")
    for claim in ("hidden:admin", "HIDDEN:ADMIN", f"study:{participant['id']}", "", "%20"):
        set_env(env)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["me"] = claim
        at.run()
        no_errors(at)
        assert names(at) == [], (claim, names(at))
        at.switch_page("pages/1_Profile.py").run()
        assert "biopsy" not in texts(at) and "Early bird" not in texts(at), claim


def test_owner_tokens_have_one_parser():
    from playground.people.owner import HIDDEN, PUBLIC, Owner
    from playground.people.privacy import HIDDEN as STORED_HIDDEN

    assert Owner.parse("") == PUBLIC and Owner.parse(STORED_HIDDEN) == HIDDEN
    assert Owner.parse("study:part_1") == Owner.study("part_1")
    assert Owner.parse("otter-maple-flint-42").kind == "browser"
    for sent in ("hidden:admin", "study:x", "", None, "otter-maple-flint-4"):
        assert Owner.from_browser_input(sent) is None, sent
    assert Owner.from_browser_input("Otter Maple Flint 42") == Owner.browser("otter-maple-flint-42")
    for o in (PUBLIC, HIDDEN, Owner.study("p"), Owner.browser("otter-maple-flint-42")):
        assert Owner.parse(o.token) == o
