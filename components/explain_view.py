"""“Explain this answer”: the counterfactual batch (one prompt part removed at a time) run visibly, with progress and
a Cancel button, and its result: which removal changed the answer most, a table of measures, and each variant's
answer, word diff and trace. Text from people and models is shown as plain text, never as markdown."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground import Playground, PlaygroundError, Trace
from playground.research.probes import counterfactual

from . import state
from .safe_text import md
from .setup import show_error

# Short headers with their meaning on hover, so all eight columns fit a projector's 1280-pixel-wide screen
# (tests/e2e/test_probes_browser.py checks that nothing scrolls sideways).
_TABLE_COLUMNS = {
    "removed": st.column_config.Column("removed", width=190, help="Which part of the prompt was left out"),
    "tokens": st.column_config.Column("tokens", width=65, help="Tokens that part took in the prompt"),
    "similarity": st.column_config.Column("similarity", width=85,
                                          help="Similarity of meaning to the full-prompt answer (1 = the same)"),
    "overlap": st.column_config.Column("overlap", width=70, help="Shared words ÷ all words, against the full answer"),
    "writing": st.column_config.Column("writing", width=70, help="Similarity to the person's own writing"),
    "added": st.column_config.Column("+ words", width=70, help="Words in this answer, not in the full one"),
    "dropped": st.column_config.Column("− words", width=70, help="Words in the full answer, not in this one"),
    "status": st.column_config.Column("status", width=85),
}


def diff_text(diff: list[dict[str, str]]) -> str:
    """A word diff as plain text, wdiff style: [-removed-] {+added+}."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return " ".join(marks[d["op"]].format(d["text"]) for d in diff)


def _runs() -> dict[str, dict[str, Any]]:
    """{section key: {"run": explanation id, "go": run it now}}: each page has its own explanation."""
    return st.session_state.setdefault(state.EXPLAIN, {})


def explain_button(pg: Playground, trace: Trace, key: str, section: str,
                   label: str = "Explain this answer") -> None:
    """The action under an answer: start a batch for the prompt exactly as it was sent, shown in ``section``."""
    if st.button(label, key=key, help="Answer again with one part of the prompt left out at a time."):
        try:
            rid = pg.start_explanation(None, "", trace["mode"], trace=trace, model=trace.get("model") or "")
        except PlaygroundError as e:
            show_error(e)
            return
        _runs()[section] = {"run": rid, "go": True}
        st.rerun()


def _cancel(pg: Playground, rid: str, section: str) -> None:
    # The click itself stops the script that was running the batch (Streamlit reruns); the request in the database
    # also stops a batch run from another tab between two variants.
    pg.cancel_explanation(rid)
    _runs()[section] = {"run": rid, "go": False}


def scroll_into_view(container_key: str) -> None:
    """Bring the container with ``key=container_key`` into view (the panel starts below the fold, under the chat)."""
    import streamlit.components.v1 as components

    components.html("<script>const el = window.parent.document.querySelector('.st-key-" + container_key + "');"
                    "if (el) { el.scrollIntoView({behavior: 'smooth', block: 'start'}); }</script>", height=0)


def render_explanation(pg: Playground, key: str) -> None:
    """The explanation section ``key``, if one was asked for in this browser session; runs the batch when due, with
    the panel scrolled into view so the progress is where the person looks."""
    current = _runs().get(key)
    if not current:
        return
    rid = current["run"]
    try:
        run = pg.explanation(rid)
    except PlaygroundError:
        _runs().pop(key, None)
        return
    with st.container(key=f"{key}_panel"):
        _panel(pg, key, current, rid, run)


def _panel(pg: Playground, key: str, current: dict[str, Any], rid: str, run: dict[str, Any]) -> None:
    st.subheader("What did each part do?")
    st.caption(counterfactual.EXPLAINED)
    limit = next((v.trace.get("max_tokens") for v in run["variants"] if v.trace.get("max_tokens")), None)
    st.caption(f"Message: “{md(run['message'][:120])}” · {run['mode']} · model {md(run['model'])} · temperature 0 · "
               f"{run['total']} answers (the full prompt, then one per removed part)"
               + (f" · each cut at {limit} tokens, so they compare at the same length" if limit else ""))
    top = st.columns([1, 1, 4])
    if top[1].button("Close", key=f"{key}_close"):
        _runs().pop(key, None)
        st.rerun()
    if current.get("go") and run["status"] in ("running", "cancelled", "error"):
        scroll_into_view(f"{key}_panel")
        cancel = top[0].empty()  # shown only while the batch runs
        cancel.button("Cancel", key=f"{key}_cancel", on_click=_cancel, args=(pg, rid, key), type="primary")
        bar = st.progress(len(run["variants"]) / run["total"], text="Starting…")

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(done / total, 1.0), text=f"{done} of {total} answered · now: {stage}")

        current["go"] = False
        try:
            run = pg.run_explanation(rid, progress=progress)
        except PlaygroundError as e:
            show_error(e)
            run = pg.explanation(rid)
        bar.empty()
        cancel.empty()
    if run["status"] in ("cancelled", "running", "error") and len(run["variants"]) < run["total"]:
        st.warning(f"Stopped after {len(run['variants'])} of {run['total']} answers.")
        if top[0].button("Resume", key=f"{key}_resume"):
            _runs()[key] = {"run": rid, "go": True}
            st.rerun()
    _result(run, key)


def _fmt(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _result(run: dict[str, Any], key: str) -> None:
    variants = run["variants"]
    if not variants:
        return
    most = run["most_changed"]
    so_far = " so far" if len(variants) < run["total"] else ""
    if most and most["changed"]:
        st.info(f"Removing {md(most['label'])} changed the answer most{so_far} (similarity to the full-prompt answer "
                f"{_fmt(most['similarity'])}, word overlap {_fmt(most['overlap'])}).", icon="🔎")
    elif most:
        st.info("No removal changed the answer: for this question the model ignored every personal part.", icon="🔎")
    elif len(variants) == 1 and run["status"] == "complete":
        st.info("This prompt has no personal part to remove (global mode, or an empty profile).", icon="🔎")
    st.dataframe([{"removed": v.label, "tokens": v.removed_tokens, "similarity": _fmt(v.similarity),
                   "overlap": _fmt(v.overlap), "writing": _fmt(v.person_similarity),
                   "added": v.counts.get("added"), "dropped": v.counts.get("removed"), "status": v.status}
                  for v in variants],
                 hide_index=True, width="stretch", key=f"{key}_table", column_config=_TABLE_COLUMNS)
    st.caption("Similarity: cosine of all-MiniLM-L6-v2 embeddings of this answer and the full-prompt answer (1 = same "
               "meaning). Overlap: shared words ÷ all words. Writing: cosine to the mean of the person's writing's "
               "chunks. Words added and dropped: against the full-prompt answer.")
    base = variants[0]
    for v in variants:
        with st.expander(f"{'Full prompt' if v.key == counterfactual.ORIGINAL else 'Without ' + md(v.label)}"
                         f" · {v.status}"):
            st.text(v.answer or "(no answer)")
            if v.error:
                st.caption(f"⚠️ {md(v.error)}")
            if v is not base:
                st.caption("Word diff against the full-prompt answer: [-only in the full answer-] {+only here+}")
                st.text(diff_text(v.diff))
            st.caption("Its trace: the messages sent and how")
            st.json({"trace": v.trace, "messages": v.messages}, expanded=False)
