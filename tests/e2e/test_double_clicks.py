"""A participant double-clicks: two real mouse clicks 150 ms apart in Chromium on the buttons that write. Exactly one
profile and one sample are created, the new profile is the active one (the sidebar included), and nothing typed is
thrown away with a "Choose a file" warning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import settle, shot, streamlit_server

pytestmark = [pytest.mark.e2e]

WRITING = ("Every spring I repair the dry-stone walls on my uncle's hill farm. The frost lifts the capstones and the "
           "sheep do the rest; a wall is a conversation with the weather that never quite ends.")


def rows(env: dict[str, str], sql: str, *params: str) -> list[tuple]:
    db = sqlite3.connect(Path(env["PLAYGROUND_DATA_DIR"]) / "playground.sqlite3")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def double_click(page, locator) -> None:
    """Two clicks 150 ms apart at the same spot, as a hurried person makes them (the second may land on whatever the
    first click's rerun left there)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)


def nav(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()


def active_in_sidebar(page) -> str:
    """What the sidebar's profile box shows (its text and the value of its input, whichever carries the name)."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")
    return box.evaluate("b => b.innerText + ' ' + [...b.querySelectorAll('input')].map(i => i.value).join(' ')")


def test_double_clicks_create_one_profile_select_it_and_add_one_sample(page, no_llm_env):
    from playground import Playground, Settings

    Playground(Settings.from_env(no_llm_env)).people.create_profile("Demo person")  # the profile that was active before
    with streamlit_server(no_llm_env) as url:
        page.goto(url + "/Profile")
        page.get_by_role("heading", name="Profile").first.wait_for()
        settle(page)
        assert "Demo person" in active_in_sidebar(page)

        page.get_by_role("tab", name="Create a new profile").click()
        page.get_by_label("Display name").last.fill("Ada Quennell")
        double_click(page, page.get_by_role("button", name="Create profile"))
        page.get_by_text("Profile “Ada Quennell” created and selected").wait_for()
        settle(page)
        page.wait_for_timeout(1500)  # let a late second run finish too
        settle(page)
        shot(page, "double-click-profile")
        made = rows(no_llm_env, "SELECT id FROM profiles WHERE display_name = ?", "Ada Quennell")
        assert len(made) == 1, f"one double click made {len(made)} profiles"
        assert "Ada Quennell" in active_in_sidebar(page), "the new profile is the active one in the sidebar"
        assert page.get_by_test_id("stException").count() == 0

        nav(page, "Writing samples")
        page.get_by_role("heading", name="Writing samples").first.wait_for()
        settle(page)
        assert "Ada Quennell" in page.get_by_role("heading", name="Ada Quennell's samples").inner_text()
        page.get_by_label("…or paste some text you wrote").fill(WRITING)
        double_click(page, page.get_by_role("button", name="Add to my samples"))
        page.get_by_text("pasted text: added as", exact=False).wait_for(timeout=120_000)
        settle(page)
        page.wait_for_timeout(1500)
        settle(page)
        shot(page, "double-click-sample")
        samples = rows(no_llm_env, "SELECT owner_id, status FROM samples WHERE owner_kind = 'profile'")
        assert samples == [(made[0][0], "ready")], f"one double click stored {samples}"
        assert page.get_by_text("Choose a file or paste some text first").count() == 0
        assert page.get_by_text("already in your samples").count() == 0
        assert "Ada Quennell" in active_in_sidebar(page), "still writing as the new profile"


def test_a_double_click_on_delete_removes_only_the_profile_and_sample_it_was_meant_for(page, no_llm_env, embedder):
    from playground import Playground, Settings

    pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
    # Made by this browser (its resume code, sent once in the address bar): only the browser that made a profile
    # may delete it or its writing.
    code = "otter-maple-flint-42"
    keep = pg.people.create_profile("Keep me", creator=code)["id"]
    pg.library.add_sample(keep, text="The lighthouse keeper's log: fog at six, the bell rung every two minutes.",
                          title="log")
    pg.library.add_sample(keep, text="Recipe for my aunt's seed cake, with caraway and far too much butter.", title="cake")
    gone = pg.people.create_profile("Delete me", creator=code)["id"]
    with streamlit_server(no_llm_env) as url:
        # A sample: tick, then double-click Delete; the second click must not delete the next sample in the list.
        page.goto(f"{url}/Writing_samples?profile={keep}&me={code}")
        page.get_by_role("heading", name="Keep me's samples").wait_for()
        settle(page)
        page.get_by_text("Yes, delete “log”").click()
        settle(page)
        double_click(page, page.get_by_role("button", name="Delete sample"))
        page.get_by_text("Deleted “log” and its vectors.").wait_for(timeout=180_000)  # a purge, slow on a busy machine
        settle(page)
        page.wait_for_timeout(1500)
        settle(page)
        left = rows(no_llm_env, "SELECT title FROM samples WHERE owner_id = ?", keep)
        assert left == [("cake",)], f"a double click on Delete sample left {left}"

        # A profile: the second click must not delete the profile that becomes active after the first.
        page.goto(f"{url}/Profile?profile={gone}&me={code}")
        page.get_by_role("tab", name="Edit the active profile").click()  # the page opens on Create
        page.get_by_role("heading", name="Delete this profile").wait_for()
        settle(page)
        page.get_by_text("Yes, delete “Delete me” and everything in it").click()
        settle(page)
        double_click(page, page.get_by_role("button", name="Delete profile"))
        page.get_by_text("Deleted “Delete me” and all of its data.").wait_for(timeout=180_000)
        settle(page)
        page.wait_for_timeout(1500)
        settle(page)
        names = rows(no_llm_env, "SELECT display_name FROM profiles")
        assert names == [("Keep me",)], f"a double click on Delete profile left {names}"


def test_home_at_720p_shows_load_demo_data_and_its_progress_without_scrolling(browser, no_llm_env):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        with streamlit_server(no_llm_env) as url:
            page.goto(url)
            page.get_by_text("Start a workshop in one click").wait_for()
            settle(page)
            shot(page, "home-1280x720")
            box = page.get_by_role("button", name="Load demo data").bounding_box()
            assert box and box["y"] + box["height"] < 720 - 60, "the button leaves room under it for the progress bar"
            assert page.get_by_text("about 20 seconds", exact=False).count() == 1, "an honest load time"
    finally:
        context.close()
