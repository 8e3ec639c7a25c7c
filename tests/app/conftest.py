"""AppTest helpers: the app from its entry point, with the environment of the test."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def start(env: dict[str, str], set_env) -> AppTest:
    set_env(env)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str) -> Any:
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def _walk(node: Any):
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        yield node  # a block: its label (expander, tab) is text too
        for key in sorted(children):
            yield from _walk(children[key])
    else:
        yield node


def texts(at: AppTest, where: str = "main") -> str:
    """Everything a person can read on the page, in page order: text of every element, one per line."""
    out = []
    for el in _walk(getattr(at, where)):
        for attr in ("value", "body", "label"):
            v = getattr(el, attr, None)
            if isinstance(v, str) and v:
                out.append(_as_read(v))
                break
    return "\n".join(out)


def _as_read(markdown: str) -> str:
    """What a person reads: people's text is escaped for markdown (components/safe_text.py), the escapes are not
    visible on screen."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown.replace("  \n", "\n")))


def make_user(at: AppTest, name: str = "Ada",
              writing: str = "I sail on the estuary every weekend; the tide tables rule my life.",
              title: str = "") -> str:
    """Create a profile on the Profile page and paste one writing sample; return the profile id."""
    at.switch_page("pages/1_Profile.py").run()
    at.text_input(key="new_display_name").input(name)
    button(at, "Create profile").click().run()
    at.switch_page("pages/2_Writing_samples.py").run()
    pid = at.sidebar.selectbox(key="sidebar_profile").value
    at.text_area(key=f"samples_paste_{pid}").input(writing)
    if title:
        at.text_input(key=f"samples_title_{pid}").input(title)
    button(at, "Add to my samples").click().run()
    return pid


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def app_no_llm(no_llm_env, set_env):
    return start(no_llm_env, set_env)


@pytest.fixture
def app_llm(llm_env, set_env):
    return start(llm_env, set_env)
