"""Answering a turn on a page: stream it, or, with no model reachable, record it without an answer.

While the model has not written its first word the page says it is thinking (and how many questions are ahead in
its queue, when the backend can tell). The answer is read from the model in a worker thread and handed to the page
piece by piece, so the page stays responsive while it waits; if Streamlit stops the page part-way (a reload, a page
switch, another click), the worker is told to stop: the partial answer is saved as *interrupted* with the reason,
and closing the model's stream lets the server stop generating for a page nobody watches.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

import streamlit as st

from playground import GenerationInterrupted, LLMError, LLMUnavailable, Playground, Turn

from .safe_text import answer_md
from .services import model_status
from .setup import show_error

THINKING = "The model is thinking…"
# Streamlit stops the run (StopException) on a reload, a closed tab and, in this version, a page switch; another click
# on the same page restarts it (RerunException). The reasons say what could have happened, no more.
RELOAD_REASON = "Interrupted by a reload or by leaving the page before the answer was finished."
RERUN_REASON = "Interrupted by another click or a page switch before the answer was finished."
_END = object()


def _ahead(pg: Playground, turn: Turn | None = None) -> int:
    """Questions ahead of this one at the model (never counting this one): before it queues, everyone there; once
    queued, what the model's one slot pool told the turn."""
    try:
        return max(0, int(turn.ahead if turn is not None else pg.models.ahead()))
    except Exception:  # a status hint must never break an answer
        return 0


def thinking_label(ahead: int) -> str:
    if ahead <= 0:
        return THINKING
    return f"{THINKING} {ahead} question{'s' if ahead != 1 else ''} ahead of yours in its queue."


def _pump(turn: Turn, out: "queue.Queue[Any]", cancel: threading.Event) -> None:
    """Worker: read the answer from the model; stop (and close the model's stream) when told to."""
    gen = turn.stream()
    try:
        for piece in gen:
            out.put(piece)
            if cancel.is_set():
                break
    except BaseException as e:  # handed to the page thread, which shows it
        out.put(e)
    finally:
        gen.close()  # Turn.stream's finally saves the answer (or what arrived of it) with its status
        out.put(_END)


def _pieces(pg: Playground, out: "queue.Queue[Any]", slot: Any, thinking: Any, turn: Turn) -> Iterator[str]:
    """The page side: say the model is thinking until the first piece, then hand the pieces to st.write_stream."""
    first = True
    while True:
        try:
            item = out.get(timeout=0.5)
        except queue.Empty:
            # Every half second without a word, a screen update: that is where Streamlit notices a reload, a closed
            # tab or a page switch and stops this run. Before the first word the queue count is refreshed; after
            # it, an empty piece makes the caller redraw the answer so far (a model that stalls mid-answer, e.g.
            # waiting for a slot, must not keep a page nobody watches generating).
            if first:
                thinking.update(label=thinking_label(_ahead(pg, turn)))
            else:
                yield ""
            continue
        if first:
            slot.empty()  # the first word (or the end): the thinking box goes
            first = False
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def stream_or_record(pg: Playground, turn: Turn) -> bool:
    """Stream the answer where this is called (errors shown, the partial answer kept). With no model reachable,
    record the turn with its prompt but no answer and return False, so the page can say so in its own words."""
    status = model_status(pg)
    if not status.can_answer:  # a busy or slow server still gets the question: it waits its turn
        turn.preview_only(LLMUnavailable(status.problem or "No model is available."))
        return False
    out: "queue.Queue[Any]" = queue.Queue()
    cancel = threading.Event()
    slot = st.empty()
    turn.ahead = _ahead(pg)  # until the pool reports this turn's own place
    thinking = slot.status(thinking_label(turn.ahead), state="running")
    worker = threading.Thread(target=_pump, args=(turn, out, cancel), name="answer", daemon=True)
    worker.start()
    try:
        box, text = st.empty(), ""
        for piece in _pieces(pg, out, slot, thinking, turn):  # not st.write_stream: it renders raw markdown, images too
            text += piece
            box.markdown(answer_md(text))
    except LLMError as e:
        show_error(e)
    except BaseException as e:
        # Streamlit stopped this run: StopException on a reload or closed tab, RerunException on a click elsewhere.
        if turn.status == "pending" and turn.error is None:
            reason = RERUN_REASON if "Rerun" in type(e).__name__ else RELOAD_REASON
            turn.error = GenerationInterrupted(reason)
        cancel.set()
        raise
    return True
