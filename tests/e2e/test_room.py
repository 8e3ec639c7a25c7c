"""What a room of strangers sees (issue 19): other people's names in charts, demo profiles shared by browsers,
feedback above the fold at 1280×720, the prompt shown while the model thinks, two browsers loading the demo."""

from __future__ import annotations

import threading

import pytest

from playground import Playground, Settings
from tests.e2e.conftest import settle, shot, streamlit_server
from tests.e2e.test_rendering_other_peoples_text import Recorder

pytestmark = [pytest.mark.e2e]


def test_names_in_other_peoples_charts_show_literally_and_fetch_nothing(page, no_llm_env, embedder):
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(recorder.url) else None)
    try:
        pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
        link = f'<a href="{recorder.url}/x">x</a>'
        img = f'<img src="{recorder.url}/i.png">'
        for name in (link, img):
            p = pg.create_profile(name)
            pg.add_sample(p["id"], text="Ships and lighthouses at sea, every night, and the harbour in the fog.")
        bob = pg.create_profile("Bob")
        pg.add_sample(bob["id"], text="I bake bread on Sundays and walk the dog along the canal.")
        with streamlit_server(no_llm_env) as url:
            page.set_viewport_size({"width": 1440, "height": 2400})
            page.goto(f"{url}/Writing_samples?profile={bob['id']}")
            page.get_by_role("heading", name="Style at a glance").wait_for()
            settle(page)
            legend = page.locator("[data-testid='stPlotlyChart'] .legendtext")
            legend.first.wait_for()
            shown = legend.all_text_contents()
            shot(page, "room-chart-names", full_page=True)
            links = page.locator("[data-testid='stPlotlyChart'] .legend a").count()
            page.wait_for_timeout(1000)  # time for any late image load
    finally:
        recorder.shutdown()
    assert links == 0, "a display name became a link in another person's chart"
    assert link in shown and img in shown, shown
    assert recorder.paths == [] and asked == [], (recorder.paths, asked)
