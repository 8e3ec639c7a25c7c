"""In a real browser: a pasted letter's personal data is listed before storing and stored as placeholders, and the
Beyond prompting page draws the routes on the pipeline. Screenshots to test-output/e2e/."""

import pytest

from playground import Playground, Settings
from tests.e2e.conftest import settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e]

LETTER = ("Dear Maria Lopez,\nthe regatta starts at nine. Write to regatta.kim.83@example.org or call (415) 555-2671 "
          "if the wind drops. We sail past the old lighthouse and back before lunch.\nBest regards,\nKim Tanaka")


def nav(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()


def test_privacy_scan_and_beyond_prompting_in_chromium(page, no_llm_env):
    pg = Playground(Settings.from_env(no_llm_env))
    pg.workshop.set_preset({"redact_uploads": "on"})
    # Made by this browser (its resume code, sent once in the address bar): a profile made outside the browser is
    # read-only to participants, so the paste form would not be shown.
    code = "heron-cedar-quartz-17"
    kim = pg.people.create_profile("Kim Tanaka", creator=code)
    with streamlit_server(no_llm_env) as url:
        page.set_viewport_size({"width": 1440, "height": 1800})
        page.goto(f"{url}/Writing_samples?profile={kim['id']}&me={code}")
        page.get_by_text("or paste some text you wrote").wait_for()
        settle(page)
        page.get_by_label("…or paste some text you wrote").fill(LETTER)
        page.get_by_role("button", name="Add to my samples").click()
        page.get_by_text("Personal data found").wait_for()
        settle(page)
        page.get_by_text("Preview with placeholders").click()
        page.get_by_text("Write to [EMAIL] or call [PHONE]", exact=False).wait_for()
        shot(page, "privacy-1-findings")
        page.get_by_role("button", name="Store these samples").click()
        page.get_by_text("replaced 1 e-mail address", exact=False).wait_for()
        settle(page)
        shot(page, "privacy-2-stored")
        stored = pg.library.sample_text(pg.library.list_samples(kim["id"])[0]["id"])
        assert "regatta.kim.83" not in stored and "Maria" not in stored and "Tanaka" not in stored

        nav(page, "Beyond prompting")
        page.get_by_role("heading", name="Beyond prompting").first.wait_for()
        settle(page)
        page.get_by_text("HYDRA: a learned reranker", exact=False).first.click()
        page.get_by_text("Zhuang et al., 2024", exact=False).wait_for()
        settle(page)
        assert page.locator("svg g.node").count() >= 12, "pipeline stages and route notes are drawn"
        shot(page, "beyond-prompting", full_page=True)
