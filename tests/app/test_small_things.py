"""Small things a participant notices, each where it happened: a blank message, a message too
long for the prompt, an .rtf upload, counts of one, empty admin charts, the embedding map's caveat."""

import sqlite3
from pathlib import Path

import pytest

from playground import Playground, Settings
from tests.app.conftest import _as_read, button, make_user, no_errors, start, texts


def count_messages(env: dict[str, str]) -> int:
    db = sqlite3.connect(Path(env["PLAYGROUND_DATA_DIR"]) / "playground.sqlite3")
    try:
        return db.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        db.close()


def test_a_blank_message_is_refused_without_an_empty_bubble(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    make_user(at)
    at.switch_page("pages/3_Chat.py").run()
    at.chat_input(key="chat_input").set_value("   \n\t ").run()
    no_errors(at)
    assert "Type a question first: an empty message is not sent." in [w.value for w in at.warning]
    assert count_messages(no_llm_env) == 0 and not at.get("chat_message"), "no empty bubble, nothing stored"


def test_a_too_long_message_is_explained_to_people_and_kept_to_edit(no_llm_env, set_env):
    at = start({**no_llm_env, "PLAYGROUND_PROMPT_BUDGET": "200"}, set_env)
    make_user(at)
    at.switch_page("pages/3_Chat.py").run()
    long = "Tell me about the tides of the estuary and the boats that wait for them. " * 20
    at.chat_input(key="chat_input").set_value(long).run()
    no_errors(at)
    errors = " ".join(e.value for e in at.error)
    assert "too long" in errors and "Shorten it by about" in errors
    assert "PLAYGROUND_" not in errors, "a participant cannot set environment variables"
    kept = at.text_area(key="chat_kept_box")
    assert kept.value == long, "the text is kept, to shorten and send again"
    kept.input(long[:80])
    button(at, "Send").click().run()
    no_errors(at)
    assert "Tell me about the tides of the estuary" in texts(at) and count_messages(no_llm_env) == 2


def test_an_rtf_upload_names_the_file_once_and_one_chunk_is_singular(app_no_llm):
    at = app_no_llm
    make_user(at, writing="A short note about the harbour at dawn.")
    assert "added as" in texts(at) and ", 1 chunk" in texts(at) and "1 chunks" not in texts(at)
    at.get("file_uploader")[0].set_value([("letter.rtf", b"{\\rtf1\\ansi Dear friend}", "application/rtf")])
    button(at, "Add to my samples").click().run()
    no_errors(at)
    errors = [_as_read(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].count("letter.rtf") == 1, errors


def test_the_embedding_map_warns_that_two_dimensions_distort_distances(app_no_llm):
    at = app_no_llm
    make_user(at)
    assert "distorts distances" in texts(at)


def test_an_empty_study_says_what_will_appear_instead_of_empty_charts_and_counts_one_participant(no_llm_env,
                                                                                                 set_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "pass"}
    pg = Playground(Settings.from_env(env))
    s = pg.studies.create_study("Pilot", "ok", [{"mode": "user"}, {"mode": "global"}], ["Hi"])
    pg.studies.join(s["code"], "P01")
    at = start(env, set_env)
    at.switch_page("pages/8_Study_admin.py").run()
    at.text_input(key="admin_pass").input("pass")
    button(at, "Unlock").click().run()
    no_errors(at)
    page = texts(at)
    box = at.selectbox(key="admin_study")
    assert box.format_func(box.value).endswith("· 1 participant") and "(0 judgements)" in page
    assert "No preferences yet" in page and "No ratings yet" in page
    assert not at.get("plotly_chart"), "no empty axes"


@pytest.mark.engine
def test_llama_cpp_engine_evaluation_table_uses_names_people_read_not_column_names(llm_env, set_env):
    at = start(llm_env, set_env)
    make_user(at, writing="Low tide at noon; we walked to the island over the sand and back before the water turned.")
    at.switch_page("pages/2_Writing_samples.py").run()
    pid = at.sidebar.selectbox[0].value
    at.text_area(key=f"samples_paste_{pid}__1").input("The harbour master rings the bell when the fog comes in.")
    button(at, "Add to my samples").click().run()
    at.switch_page("pages/6_Evaluate.py").run()
    button(at, "Run evaluation").click().run()
    no_errors(at)
    assert not at.error, [e.value for e in at.error]
    table = next(df.value for df in at.dataframe if "condition" in df.value)
    columns = list(table.columns)
    assert "similarity to what you wrote" in columns and "ROUGE-1" in columns, columns
    assert not {"sim_reference", "rouge1", "rougeL", "meteor"} & set(columns), columns
