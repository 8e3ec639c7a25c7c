"""What strangers in one room can do to each other: profiles made elsewhere (and the demo ones) are
read-only, every browser has its own conversation on a demo profile, the granularity survives a page switch, and
each answer says which granularity wrote it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from playground import Playground, Settings
from tests.app.conftest import button, new_name_box, no_errors, start, texts
from tests.conftest import ROOT


def fresh(env, set_env) -> AppTest:
    set_env(env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    no_errors(at)
    return at


def test_a_new_browser_opens_on_create_and_cannot_edit_or_delete_someone_elses_profile(no_llm_env, set_env):
    ana = start(no_llm_env, set_env)
    ana.switch_page("pages/1_Profile.py").run()
    assert ana.tabs[0].label == "Create a new profile", [t.label for t in ana.tabs]
    new_name_box(ana).input("Ana")
    button(ana, "Create profile").click().run()
    no_errors(ana)
    assert any(b.label == "Delete profile" for b in ana.button), "the browser that made it may delete it"

    stranger = fresh(no_llm_env, set_env)
    stranger.switch_page("pages/1_Profile.py").run()
    no_errors(stranger)
    assert stranger.sidebar.selectbox[0].format_func(stranger.sidebar.selectbox[0].value) == "Ana"
    assert stranger.tabs[0].label == "Create a new profile", [t.label for t in stranger.tabs]
    labels = [b.label for b in stranger.button]
    assert "Delete profile" not in labels and "Save changes" not in labels, labels
    assert "made in another browser session" in texts(stranger)
    stranger.switch_page("pages/2_Writing_samples.py").run()
    assert "Add to my samples" not in [b.label for b in stranger.button]


def test_demo_profiles_are_read_only_and_each_browser_has_its_own_conversation(no_llm_env, set_env, embedder):
    pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
    hamilton = pg.demo.load(essays_per_author=1)[0]
    first, second = fresh(no_llm_env, set_env), fresh(no_llm_env, set_env)
    for at in (first, second):
        at.switch_page("pages/3_Chat.py").run()
        no_errors(at)
        assert at.sidebar.selectbox[0].value == hamilton["id"]
    first.chat_input(key="chat_input").set_value("MKfirst my biopsy result came back").run()
    no_errors(first)
    assert "MKfirst" in texts(first)
    second.run()
    second.chat_input(key="chat_input").set_value("Why does the union need a navy?").run()
    no_errors(second)
    page = texts(second)
    assert "MKfirst" not in page, "another browser's message is shown"
    chats = pg.conversations
    turn = chats.session_messages(next(s["id"] for s in chats.sessions(hamilton["id"])
                                       if any(m["content"].startswith("Why does") for m in chats.session_messages(s["id"]))))
    assert all("MKfirst" not in p["text"] for m in turn if m["trace"] for p in m["trace"]["prompt"]["parts"]), \
        "another browser's turn entered this prompt"
    # Read-only: no edit, no delete, no upload, no sample deletion.
    second.switch_page("pages/1_Profile.py").run()
    assert not {"Delete profile", "Save changes"} & {b.label for b in second.button}
    assert "a demo profile" in texts(second)
    second.switch_page("pages/2_Writing_samples.py").run()
    assert not {"Add to my samples", "Delete sample"} & {b.label for b in second.button}


def test_the_granularity_survives_a_page_switch_and_answers_say_their_mode(no_llm_env, set_env):
    pg = Playground(Settings.from_env(no_llm_env))
    pg.people.create_profile("Ana")
    at = fresh(no_llm_env, set_env)
    at.switch_page("pages/3_Chat.py").run()
    at.radio(key="chat_mode").set_value("global").run()
    at.chat_input(key="chat_input").set_value("Hello there").run()
    no_errors(at)
    at.switch_page("pages/1_Profile.py").run()
    at.switch_page("pages/3_Chat.py").run()
    no_errors(at)
    assert at.radio(key="chat_mode").value == "global", "the granularity went back to user"
    at.radio(key="chat_mode").set_value("persona").run()
    at.chat_input(key="chat_input").set_value("Hello again").run()
    at.switch_page("pages/4_Personas.py").run()
    at.switch_page("pages/3_Chat.py").run()
    no_errors(at)
    history = texts(at).replace("**", "")
    assert "Answered under global" in history, history
    persona = at.selectbox(key="chat_persona")
    assert f"Answered under persona · persona “{persona.format_func(persona.value)}”" in history, history
