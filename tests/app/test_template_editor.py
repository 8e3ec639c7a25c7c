"""The inspector's template editor: a person sees the instructions of the template in use, edits them, and the edit
is what this browser session's next prompt carries, as its own labelled part; Reset goes back to the template."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _editor_app() -> None:
    import streamlit as st

    from components.inspector import edited_instructions, template_editor
    from playground import build_prompt

    template_editor("small", "user", key="t")
    build = build_prompt("What is my dog called?", "user", count_tokens=lambda t: len(t.split()), budget=1500,
                         template="small", instructions=edited_instructions("user"))
    st.text(f"first part: {build.parts[0].label} :: {build.parts[0].text}")


def _first_part(at: AppTest) -> str:
    return next(t.value for t in at.text if str(t.value).startswith("first part:"))


def test_an_edit_is_used_for_the_next_prompt_as_its_own_part_and_reset_restores_the_template():
    at = AppTest.from_function(_editor_app, default_timeout=60).run()
    box = at.text_area[0]
    assert "Use the facts in the user's notes" in box.value  # the small template's own instructions, shown
    assert _first_part(at).startswith("first part: instructions · small template")
    box.set_value("Answer like a pirate, and always use my notes.").run()
    assert _first_part(at).startswith("first part: instructions · small template")  # not used before "Use"
    at.button(key="t_use").click().run()
    assert _first_part(at) == "first part: your edited instructions :: Answer like a pirate, and always use my notes."
    at.button(key="t_reset").click().run()
    assert _first_part(at).startswith("first part: instructions · small template")
    assert "Use the facts in the user's notes" in at.text_area[0].value
