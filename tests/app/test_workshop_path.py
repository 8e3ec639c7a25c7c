"""The workshop path in AppTest from app.py: create a profile, upload writing, chat, read the inspector, switch the
granularity; the demo data; deletion needs confirmation; a bad upload keeps what was there."""

from tests.app.conftest import _as_read, button, make_user, no_errors, start, texts
from tests.conftest import closed_port


def test_home_paints_without_a_model_and_says_how_to_get_one(app_no_llm):
    at = app_no_llm
    assert at.title[0].value == "Personalization Playground"
    page = texts(at)
    assert "No model server answers" in page and "Everything else works without a model" in page
    assert "Chroma ✓" in page
    assert at.get("graphviz_chart"), "the pipeline diagram is drawn"


def test_create_profile_upload_sample_chat_and_switch_granularity(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/1_Profile.py").run()
    at.text_input(key="new_display_name").input("Ada")
    at.text_input(key="new_interests").input("rivers, sailing")
    button(at, "Create profile").click().run()
    no_errors(at)
    assert "Profile “Ada” created" in texts(at)
    assert at.sidebar.selectbox(key="sidebar_profile").format_func(at.sidebar.selectbox(key="sidebar_profile").value) \
        == "Ada"

    at.switch_page("pages/2_Writing_samples.py").run()
    pid = at.sidebar.selectbox(key="sidebar_profile").value
    river = ("The river rose all night. By morning the water covered the lower field and we moved the sheep to the "
             "hill pasture. Flood season always tests our fences and our patience.").encode()
    at.get("file_uploader")[0].set_value([("flood_diary.txt", river, "text/plain")])
    button(at, "Add to my samples").click().run()
    no_errors(at)
    assert "flood_diary.txt: added as “flood diary”" in texts(at)
    assert at.dataframe[0].value["title"].tolist() == ["flood diary"]

    at.switch_page("pages/3_Chat.py").run()
    at.chat_input(key="chat_input").set_value("What happens in flood season?").run()
    no_errors(at)
    page = texts(at)
    assert "No model is running, so there is no answer, but the prompt that would be sent is in the inspector" in page
    assert "snippet #1 · flood diary" in page, "the inspector shows the retrieved snippet and where it came from"
    assert "profile · Ada" in page and "rivers, sailing" in page
    assert "The river rose all night" in page
    snippets_table = at.dataframe[0].value
    assert snippets_table["sample"].tolist()[0] == "flood diary" and snippets_table["from"].tolist()[0] == "Ada"

    at.radio(key="chat_mode").set_value("global").run()
    no_errors(at)
    page = texts(at)
    assert "Preview under the current setting (global)" in page
    preview = page.split("Preview under the current setting (global)")[1].split("Latest turn, as it was sent")[0]
    assert "snippet #" not in preview and "profile · Ada" not in preview and "The river rose" not in preview
    assert "Global mode retrieves nothing" in preview
    button(at, "Ask again under global").click().run()
    no_errors(at)
    latest = texts(at).split("Latest turn")[1]
    assert "mode **global**" in latest and "snippet #" not in latest
    assert pid


def test_demo_data_lets_you_chat_as_hamilton_and_see_his_essays(app_no_llm):
    at = app_no_llm
    button(at, "Load demo data").click().run()
    no_errors(at)
    assert "Demo data ready: Alexander Hamilton, James Madison, John Jay" in texts(at)
    at.switch_page("pages/3_Chat.py").run()
    sel = at.sidebar.selectbox(key="sidebar_profile")
    assert sel.format_func(sel.value) == "Alexander Hamilton"
    at.chat_input(key="chat_input").set_value("Why does the union need a standing army?").run()
    no_errors(at)
    table = at.dataframe[0].value
    assert set(table["from"]) == {"Alexander Hamilton"}
    assert all(t.startswith("Federalist No.") for t in table["sample"])
    at.radio(key="chat_mode").set_value("global").run()
    preview = texts(at).split("Preview under the current setting (global)")[1].split("Latest turn, as it was")[0]
    assert "Federalist No." not in preview and "Global mode retrieves nothing" in preview


def test_deleting_a_profile_needs_a_confirmation(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/1_Profile.py").run()
    at.text_input(key="new_display_name").input("Temporary")
    button(at, "Create profile").click().run()
    delete = at.button(key="profile_delete")
    assert delete.disabled
    at.checkbox(key="profile_delete_sure").check().run()
    at.button(key="profile_delete").click().run()
    no_errors(at)
    assert "Deleted “Temporary” and all of its data" in texts(at)
    assert not at.sidebar.selectbox


def test_a_bad_upload_is_explained_and_keeps_existing_samples(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/1_Profile.py").run()
    at.text_input(key="new_display_name").input("Bo")
    button(at, "Create profile").click().run()
    at.switch_page("pages/2_Writing_samples.py").run()
    at.text_area(key=f"samples_paste_{at.sidebar.selectbox(key='sidebar_profile').value}").input(
        "I keep bees on the roof of the library; they make a dark, strong honey in late summer.")
    button(at, "Add to my samples").click().run()
    png = b"\x89PNG\r\n\x1a\n\x00\x00"
    at.get("file_uploader")[0].set_value([("empty.txt", b"", "text/plain"), ("photo.png", png, "image/png"),
                                          ("<img src=x onerror=alert(1)> bees.txt", b"Bees, honey.", "text/plain")])
    button(at, "Add to my samples").click().run()
    no_errors(at)
    errors = [_as_read(e.value) for e in at.error]
    assert not any("<img" in e.value for e in at.error), "the file name is escaped, not HTML"
    assert any("empty.txt is empty" in e for e in errors)
    assert any("photo.png" in e and "not supported" in e for e in errors)
    assert len(at.dataframe[0].value) == 2, "the earlier sample and the good file are both there"
    assert at.dataframe[0].value["title"].tolist()[1] == "<img src=x onerror=alert(1)> bees", "shown as text"


def test_personas_page_lists_the_shipped_personas_and_creates_one(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/4_Personas.py").run()
    no_errors(at)
    assert "9 personas" in texts(at)
    at.text_input(key="personas_new_name").input("Night-shift nurses")
    at.text_area(key="personas_new_desc").input("You are talking with nurses who work nights.")
    at.text_area(key="personas_new_ex").input("Handover at seven. Quiet ward tonight.\n\nCoffee at three, again.")
    button(at, "Create persona").click().run()
    no_errors(at)
    assert "Persona “Night-shift nurses” created" in texts(at) and "10 personas" in texts(at)


def test_deleting_a_sample_needs_a_confirmation_and_removes_it(app_no_llm):
    at = app_no_llm
    pid = make_user(at, "Cy", "Notes on the night train to the coast, written by lamplight.", title="train notes")
    assert at.button(key=f"samples_delete_{pid}").disabled
    at.checkbox(key=f"samples_delete_sure_{pid}").check().run()
    at.button(key=f"samples_delete_{pid}").click().run()
    no_errors(at)
    assert "Deleted “train notes” and its vectors." in texts(at)
    assert "No writing yet" in texts(at)


def test_without_ollama_the_chat_says_how_to_start_it_records_the_message_and_shows_the_prompt(tmp_path, set_env):
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}", "PLAYGROUND_MODEL": ""}
    at = start(env, set_env)
    assert "ollama serve" in texts(at, "sidebar"), "the sidebar says how to start the model in one line"
    make_user(at, "Dee", "Every spring I repaint the boat and check the rigging twice.")

    at.switch_page("pages/3_Chat.py").run()
    at.chat_input(key="chat_input").set_value("How do I get the boat ready?").run()
    no_errors(at)
    warning = " ".join(w.value for w in at.warning)
    assert "Ollama is not running" in warning and "`ollama serve`" in warning and "`ollama pull llama3.2`" in warning
    page = texts(at)
    assert "Latest turn** · “How do I get the boat ready?”" in page
    inspector = page.split("Latest turn**")[1]
    assert "your message**] · " in inspector and "snippet #1 · " in inspector and "repaint the boat" in inspector, \
        "the prompt that would be sent is shown, part by part"
    at.run()  # what stays after the next rerun: the message was recorded, with its (answerless) trace
    no_errors(at)
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert "No answer: Ollama is not running" in texts(at)
    assert [e.label for e in at.expander].count("How this answer was personalized") == 1


def test_compare_without_a_model_diffs_the_prompts_asks_no_preference_and_stays_out_of_the_chat(app_no_llm):
    at = app_no_llm
    make_user(at, "Eve", "My allotment gives more courgettes than anyone can eat.")
    at.switch_page("pages/5_Compare.py").run()
    at.text_area(key="compare_message").input("What should I grow next year?")
    button(at, "Answer under all three").click().run()
    no_errors(at)
    page = texts(at)
    assert "No model is running, so only the prompts are compared" in page
    diff = [e for e in at.expander if e.label.startswith("global → user")]
    assert diff and "lines added" in diff[0].label
    assert "+About the person you are talking with:" in diff[0].code[0].value, "the profile is what user mode adds"
    assert "courgettes" in diff[0].code[0].value, "and the snippet from the writing"
    assert "There are no answers to choose between yet" in page
    assert "compare_choice" not in [r.key for r in at.radio] and "Record my preference" not in [b.label for b in at.button]
    at.switch_page("pages/3_Chat.py").run()
    no_errors(at)
    assert not at.chat_message, "the comparison's turns are not resumed as a chat"
