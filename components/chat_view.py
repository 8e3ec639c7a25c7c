"""Answering a turn on a page: stream it, or, with no model reachable, record it without an answer."""

from __future__ import annotations

import streamlit as st

from playground import LLMError, LLMUnavailable, Playground, Turn

from .safe_text import answer_md
from .services import model_status
from .setup import show_error


def stream_or_record(pg: Playground, turn: Turn) -> bool:
    """Stream the answer where this is called (errors shown, the partial answer kept). With no model reachable,
    record the turn with its prompt but no answer and return False, so the page can say so in its own words."""
    status = model_status(pg)
    if not (status.reachable and status.model):
        turn.preview_only(LLMUnavailable(status.problem or "No model is available."))
        return False
    box, text = st.empty(), ""
    try:
        for piece in turn.stream():  # not st.write_stream: it renders the raw answer, images and all
            text += piece
            box.markdown(answer_md(text))
    except LLMError as e:
        show_error(e)
    return True
