"""In a real browser with the llama.cpp engine: 'Explain this answer' is cancelled mid-batch with its Cancel
button (and really stops), then resumed; the bias probe page; the personalized judge on the Study admin page.
Screenshots go to test-output/e2e/."""

import re
import time

import pytest
from playwright.sync_api import expect

from playground import Playground, Settings
from playground.research.probes import counterfactual
from tests.e2e.conftest import ask_in_chat, settle, shot, streamlit_server
from tests.support.gate import Gate

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

WRITING = ("I sail on the estuary every weekend; the tide tables rule my life. In winter I repair the boat and "
           "read about navigation, and in spring I teach my nephew to tie a bowline.")


def visible_or_explain(page, locator, timeout_ms: int, what: str) -> None:
    """Wait for ``locator``; if it never shows, fail with a screenshot and what the page said instead."""
    try:
        locator.wait_for(timeout=timeout_ms)
    except Exception as e:  # Playwright's TimeoutError: say what was on screen, for a CI log
        shot(page, f"failed-{what.replace(' ', '-')}", full_page=True)
        text = page.evaluate("() => document.body.innerText")
        raise AssertionError(f"{what} did not appear within {timeout_ms / 1000:.0f} s; the page said:\n"
                             f"{text[-3000:]}") from e


def nav(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()


def test_llama_cpp_engine_explain_cancel_resume_bias_and_judge_in_chromium(page, llm_env):
    # The gate makes the model slow after the first words of every answer (a few seconds each), so Cancel lands
    # while the batch runs on any machine; it is released once Cancel has been checked.
    with Gate(llm_env["PLAYGROUND_OPENAI_BASE_URL"], hold_after=8, trickle=0.3) as gate:
        run_the_probes(page, {**llm_env, "PLAYGROUND_MAX_TOKENS": "40", "PLAYGROUND_ADMIN_PASSPHRASE": "sesame",
                              "PLAYGROUND_OPENAI_BASE_URL": gate.url}, gate)


def run_the_probes(page, env: dict[str, str], gate: Gate) -> None:
    pg = Playground(Settings.from_env(env))
    ada = pg.people.create_profile("Ada", occupation="hydrologist", location="Leith")
    pg.library.add_sample(ada["id"], text=WRITING, title="sea")
    pg.library.add_sample(ada["id"], text="Bread on Sundays: a slow sourdough, baked hot, eaten with the tide.",
                          title="bread")
    with streamlit_server(env) as url:
        page.goto(url)
        settle(page)
        nav(page, "Chat")
        ask_in_chat(page, "When should I sail?", timeout_ms=180_000)
        page.get_by_role("button", name="Explain this answer").first.click()
        page.get_by_text("What did each part do?").wait_for()
        visible_or_explain(page, page.get_by_text(re.compile(r"\d+ of \d+ answered")).first, 120_000,
                           "the batch's progress")
        # Cancel once the baseline is stored (read from the database, not from a progress text that may change
        # faster than the page is looked at): the other answers still take seconds each, so the click lands mid-batch.
        rid = pg.db.one("SELECT id FROM explanations")["id"]
        deadline = time.monotonic() + 180
        while not counterfactual.get_run(pg.db, rid)["variants"]:
            if time.monotonic() > deadline:
                visible_or_explain(page, page.get_by_text("no such text, to fail with the page's text"), 1, "baseline")
            time.sleep(0.25)
        visible_or_explain(page, page.get_by_role("button", name="Cancel"), 30_000, "Cancel while the batch runs")
        page.get_by_role("button", name="Cancel").click()
        visible_or_explain(page, page.get_by_text("Stopped after", exact=False), 60_000, "Stopped after")
        settle(page)
        run = pg.db.one("SELECT id, status FROM explanations")
        stopped_at = len(counterfactual.get_run(pg.db, run["id"])["variants"])
        total = counterfactual.get_run(pg.db, run["id"])["total"]
        assert run["status"] == "cancelled" and 1 <= stopped_at < total
        streams = gate.streams
        time.sleep(6)  # longer than one variant takes: nothing is still generating in the background
        assert len(counterfactual.get_run(pg.db, run["id"])["variants"]) <= stopped_at + 1
        assert gate.streams <= streams + 1, "cancelled, yet the model was still asked for more variants"
        shot(page, "explain-cancelled")
        gate.release()  # full speed from here on
        page.get_by_role("button", name="Resume").click()
        deadline = time.monotonic() + 120
        while counterfactual.get_run(pg.db, run["id"])["status"] != "complete":
            if time.monotonic() > deadline:
                visible_or_explain(page, page.get_by_text("no such text, to fail with the page's text"), 1,
                                   f"the resumed batch's end ({counterfactual.get_run(pg.db, run['id'])['status']})")
            time.sleep(1)
        settle(page)
        page.wait_for_function("() => !document.body.innerText.includes('Stopped after')", timeout=60_000)
        # Cancel goes once the batch is done (waited for: the page's last delta may land a moment after the run ends).
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0, timeout=30_000)
        # At a projector's 1280×720 the comparison table shows every column, the right-hand ones too, without
        # scrolling sideways (the grid draws on a canvas: its scroller's widths say whether anything is cut off).
        page.set_viewport_size({"width": 1280, "height": 720})
        settle(page)
        grid = page.get_by_test_id("stDataFrame").last
        grid.scroll_into_view_if_needed()
        expect(grid).to_be_visible()
        widths = grid.evaluate("g => { const s = g.querySelector('.dvn-scroller'); "
                               "return s ? [s.scrollWidth, s.clientWidth] : null; }")
        assert widths and widths[1] > 0, "the Explain table's scroller was not found"
        shot(page, "explain-table-1280")
        assert widths[0] <= widths[1] + 2, f"the Explain table hides columns at 1280 px (scroll {widths[0]} > {widths[1]})"
        page.set_viewport_size({"width": 1440, "height": 2400})
        page.get_by_text("Without profile · Ada", exact=False).first.click()  # open one variant
        settle(page)
        shot(page, "explain-complete", full_page=True)

        page.set_viewport_size({"width": 1440, "height": 1000})
        nav(page, "Bias probe")
        page.get_by_role("heading", name="Bias probe").first.wait_for()
        settle(page)
        page.get_by_label("Questions, one per line", exact=False).fill("What should I read?\nHow do I relax?")
        page.get_by_role("button", name="Ask both").click()
        page.get_by_text("age range: “18-24” vs “65+”").wait_for(timeout=300_000)
        page.get_by_text("What this can show", exact=False).wait_for()
        settle(page)
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0, timeout=30_000)  # gone once it is done
        page.set_viewport_size({"width": 1440, "height": 2000})
        shot(page, "bias-probe", full_page=True)

        s = pg.studies.create_study("Pilot", "Agree?", [{"mode": "user"}, {"mode": "global"}],
                                    ["Plan my weekend.", "What should I cook?"])
        p = pg.studies.join(s["code"], "P1")
        pg.studies.consent(p["id"])
        pg.library.add_sample(pg.studies.get_participant(p["id"])["profile_id"], text=WRITING, title="sea")
        for task, choice in enumerate("AB"):
            pg.studies.generate_answers(p["id"], task)
            pg.studies.judge(p["id"], task, choice, {slot: {q["id"]: 4 for q in s["questions"]} for slot in "AB"})
        nav(page, "Study admin")
        page.get_by_label("Admin passphrase").fill("sesame")
        page.get_by_role("button", name="Unlock").click()
        page.get_by_text("Personalized judge").wait_for()
        settle(page)
        page.get_by_role("button", name="Run the judge").click()
        page.get_by_text("Cohen's kappa").wait_for(timeout=300_000)
        settle(page)
        assert len(pg.db.query("SELECT * FROM judge_verdicts")) == 2
        page.get_by_text("Personalized judge").scroll_into_view_if_needed()
        shot(page, "study-admin-judge", full_page=True)
