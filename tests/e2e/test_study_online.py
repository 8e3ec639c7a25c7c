"""In Chromium with the llama.cpp engine: an online study opened from a Prolific-style URL runs to its
completion code. On the way: a reload after skipping "Your writing" does not ask again, the attention check, rating
controls with no preset value (an untouched rating is exported empty, not as 3), and a spreadsheet-safe CSV. Also: 300
fast wrong admin passphrases, then the right one, do not unlock the Study admin page. Screenshots in test-output/e2e/."""

import csv
import io

import pytest
from playwright.sync_api import expect

from playground import Playground, Settings
from playground.research import admin_guard
from tests.e2e.conftest import settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e, pytest.mark.engine]


def test_online_study_from_a_prolific_url_to_the_completion_code(page, llm_env):
    env = {**llm_env, "PLAYGROUND_MAX_TOKENS": "40"}
    pg = Playground(Settings.from_env(env))
    s = pg.studies.create_study("Online pilot", "I agree to take part.", [{"mode": "user"}, {"mode": "global"}],
                                ["Plan my weekend.", "What should I cook?"], questions=["It sounds like me."],
                                settings={"participant_param": "PROLIFIC_PID", "study_param": "STUDY_ID",
                                          "session_param": "SESSION_ID", "completion_code": "C1A2B3",
                                          "redirect_url": "https://app.prolific.com/submissions/complete?cc=C1A2B3",
                                          "min_tasks": 1, "attention_check": True})
    with streamlit_server(env) as url:
        page.goto(f"{url}/Study?study={s['code']}&PROLIFIC_PID=5f3c0a1b2c3d4e5f6a7b8c9d&STUDY_ID=S1&SESSION_ID=X9")
        page.get_by_text("I have read this and agree").click()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Skip").click()
        page.get_by_text("A quick check").wait_for()
        settle(page)
        page.reload()  # mid-study reload: the resume link is in the URL; the skipped writing step stays skipped
        page.get_by_text("A quick check").wait_for()
        assert page.get_by_text("Your writing (optional)").count() == 0
        page.get_by_text("Purple", exact=True).click()
        page.get_by_role("button", name="Continue").click()
        page.get_by_text("Task 1 of 2").wait_for()
        page.get_by_text("Which answer do you prefer?").wait_for(timeout=300_000)
        settle(page)
        radios = page.locator("[data-testid='stRadio'] input[type=radio]")
        assert radios.count() >= 10 and page.locator("[data-testid='stRadio'] input:checked").count() == 0, \
            "no rating or choice is preset"
        page.get_by_role("radiogroup", name="It sounds like me.").first.get_by_text("4").click()  # rate A only
        page.get_by_text("Answer A", exact=True).last.click()
        page.get_by_role("button", name="Submit and continue").click()
        page.get_by_role("button", name="Finish now").click()  # one task was the minimum
        page.get_by_text("Your completion code").wait_for()
        expect(page.get_by_role("link", name="Return to the study platform")).to_have_attribute(
            "href", "https://app.prolific.com/submissions/complete?cc=C1A2B3")
        settle(page)
        shot(page, "study-online-completion", full_page=True)
    [row] = list(csv.DictReader(io.StringIO(pg.studies.export_csv(s["id"]))))
    assert row["participant"] == "5f3c0a1b2c3d4e5f6a7b8c9d" and row["platform_session_id"] == "X9"
    assert row["rating_a_q1"] == "4" and row["rating_b_q1"] == "", "the untouched rating is empty, not 3"
    assert row["attention_passed"] == "True" and row["choice"] == "A"
    [p] = pg.studies.progress(s["id"])
    assert p["finished"]


def test_guessing_the_admin_passphrase_300_times_then_the_right_one_stays_locked(page, no_llm_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "right horse battery"}
    pg = Playground(Settings.from_env(env))
    for n in range(300):  # as fast as a script can send them; the counting is the server's, in SQLite
        try:
            admin_guard.check_passphrase(pg.db, "admin", f"guess{n}", "right horse battery")
        except admin_guard.LockedOut:
            pass
    with streamlit_server(env) as url:
        page.goto(f"{url}/Study_admin")
        page.get_by_label("Admin passphrase").fill("right horse battery")
        page.get_by_role("button", name="Unlock").click()
        page.get_by_text("Too many wrong passphrases").wait_for()
        settle(page)
        assert page.get_by_role("tab", name="New study").count() == 0
        shot(page, "study-admin-locked")
