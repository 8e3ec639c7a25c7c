"""The upload flow shows the personal data it found before anything is stored, then stores the redacted text (the
default in a private workshop), the text as given (when the person unticks redaction), or nothing (Cancel)."""

from playground import Playground, Settings
from tests.app.conftest import button, make_user, no_errors, paste_box, start, texts

LETTER = ("Dear Maria Lopez,\nthe regatta starts at nine. Write to regatta.kim.83@example.org or call (415) 555-2671 "
          "if the wind drops. We sail past the old lighthouse and back before lunch.")


def paste(at, pid: str, text: str) -> None:
    paste_box(at).input(text)
    button(at, "Add to my samples").click().run()
    no_errors(at)


def test_findings_are_shown_and_redaction_is_the_default_in_a_private_workshop(no_llm_env, set_env):
    Playground(Settings.from_env(no_llm_env)).workshop.set_preset({"private_profiles": True})
    at = start(no_llm_env, set_env)
    pid = make_user(at, "Kim")
    pg = Playground(Settings.from_env(no_llm_env))
    assert len(pg.library.list_samples(pid)) == 1, "a text without personal data is stored at once"
    paste(at, pid, LETTER)
    page = texts(at)
    assert "Personal data found" in page and "1 e-mail address, 1 phone number" in page and "1 name" in page
    findings = next(d.value for d in at.dataframe if "found" in d.value.columns)
    in_text = findings[findings["where"] == "text"]
    assert list(in_text["replaced by"]) == ["[NAME]", "[EMAIL]", "[PHONE]"]
    assert "regatta.kim.83@example.org" in list(findings["found"])
    assert len(pg.library.list_samples(pid)) == 1, "nothing is stored before the person decides"
    assert at.checkbox(key=f"samples_redact_{pid}").value is True, "private workshops redact by default"

    button(at, "Store these samples").click().run()
    no_errors(at)
    samples = pg.library.list_samples(pid)
    assert len(samples) == 2
    stored = pg.library.sample_text(samples[-1]["id"])
    assert "[EMAIL]" in stored and "[PHONE]" in stored and "[NAME]" in stored
    assert "regatta.kim.83" not in stored and "Maria" not in stored
    assert "replaced 1 e-mail address" in texts(at)


def test_unticking_stores_the_text_as_given_and_cancel_stores_nothing(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    pid = make_user(at, "Kim")
    pg = Playground(Settings.from_env(no_llm_env))
    paste(at, pid, LETTER)
    assert at.checkbox(key=f"samples_redact_{pid}").value is False, "a public playground keeps text as given"
    button(at, "Cancel").click().run()
    assert "Nothing was stored." in texts(at) and len(pg.library.list_samples(pid)) == 1
    assert "Personal data found" not in texts(at)

    paste(at, pid, LETTER)
    at.checkbox(key=f"samples_redact_{pid}").check().run()
    button(at, "Store these samples").click().run()
    assert "regatta.kim.83@example.org" not in pg.library.sample_text(pg.library.list_samples(pid)[-1]["id"])


def test_a_bad_paste_gets_an_error_and_nothing_is_stored(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    pid = make_user(at, "Kim")
    pg = Playground(Settings.from_env(no_llm_env))
    paste(at, pid, "   \n  ")
    paste(at, pid, "12345 67890")
    assert "almost no letters" in texts(at)
    assert len(pg.library.list_samples(pid)) == 1 and "Personal data found" not in texts(at)


def test_an_uploaded_file_with_personal_data_in_its_name_and_text_is_stored_redacted(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    pid = make_user(at, "Kim")
    pg = Playground(Settings.from_env(no_llm_env))
    letter = LETTER.encode()
    at.get("file_uploader")[0].set_value([("to_maria@example.net.txt", letter, "text/plain"),
                                          ("empty.txt", b"", "text/plain")])
    button(at, "Add to my samples").click().run()
    no_errors(at)
    page = texts(at)
    assert "empty.txt is empty." in page and "empty.txt: empty.txt" not in page, "the bad file says why, named once"
    assert "Personal data found" in page, "the good one waits for a decision"
    at.checkbox(key=f"samples_redact_{pid}").check().run()
    button(at, "Store these samples").click().run()
    no_errors(at)
    added = pg.library.list_samples(pid)[-1]
    assert "maria@example.net" not in added["title"] + added["source_name"]
    assert "[EMAIL]" in added["title"]
    assert "regatta.kim.83@example.org" not in pg.library.sample_text(added["id"])


def test_the_admin_preset_switches_redaction_for_every_browser(no_llm_env, set_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "sesame"}
    admin = start(env, set_env)
    admin.switch_page("pages/8_Study_admin.py").run()
    admin.text_input(key="admin_pass").input("sesame")
    button(admin, "Unlock").click().run()
    admin.radio(key="admin_redact").set_value("on")
    button(admin, "Apply to everyone").click().run()
    no_errors(admin)
    assert Playground(Settings.from_env(env)).workshop.get_preset()["redact_uploads"] == "on"

    participant = start(env, set_env)
    pid = make_user(participant, "Kim")
    paste(participant, pid, LETTER)
    assert participant.checkbox(key=f"samples_redact_{pid}").value is True, "a public playground, but the preset says on"
