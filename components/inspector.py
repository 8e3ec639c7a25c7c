"""The personalization inspector: what was retrieved, and the exact prompt, part by part."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import streamlit as st

from playground import Trace
from playground.pipeline.prompting import TEMPLATES, template_instructions
from playground.wording import plural

from .charts import prompt_tokens_figure
from .safe_text import md

# Streamlit's markdown colours for each prompt source (the plotly charts use the matching hex colours).
SOURCE_MD = {"instructions": "gray", "persona": "violet", "profile": "blue", "summary": "green",
             "style": "red", "snippets": "orange", "snippet": "orange", "history": "gray", "message": "green"}
WHERE = {"instructions": "the prompt template's instructions (or your edit of them)", "persona": "the persona's description",
         "profile": "the profile's attributes", "summary": "the model-written summary of the writing",
         "style": "the style card measured from the writing",
         "snippets": "the playground (how to read the snippets)", "snippet": "retrieved from writing samples",
         "history": "earlier turns of this chat", "message": "what was typed"}


def render_resolution(prompt: Mapping[str, Any]) -> None:
    res = prompt.get("resolution")
    if res:
        st.info(f"**auto → {res['mode']}**: {md(res['reason'])}", icon="🧭")  # the reason names people


SOURCE_NAME = {"snippets": "snippet preamble", "snippet": "snippet"}  # how the summary names each source


def render_snippets(hits: Sequence[Mapping[str, Any]], mode: str, k: int | None = None) -> None:
    """Each snippet readable in full where it is listed: rank, score and source on one line, the text under it."""
    if mode == "global":
        st.caption("Global mode retrieves nothing: no personal data reaches the prompt.")
        return
    if not hits:
        st.caption("No snippets were retrieved (no writing in this scope matched, or all were below the threshold).")
        return
    if k and len(hits) < k:
        st.caption(f"Only {len(hits)} of the {k} snippets asked for matched at all.",
                   help="Dense retrieval leaves out chunks whose similarity is zero or less (unrelated in meaning); "
                        "BM25 leaves out chunks sharing no word with the message.")
    for h in hits:
        with st.container(border=True):
            who = h.get("owner_name") or h["owner_id"]
            st.markdown(f":orange[**#{h['rank']}**] · score **{h['score']:.3f}** · from {md(who)} · "
                        f"{md(h['sample_title'])}, chunk {h['position'] + 1}")
            st.text(h["text"])


def history_excluded_text(prompt: Mapping[str, Any]) -> str:
    """One line saying which earlier turns the history left out, and why ('' when none)."""
    left = prompt.get("history_excluded") or []
    if not left:
        return ""
    total = max(prompt.get("history_excluded_total") or 0, len(left))
    s = "" if total == 1 else "s"
    names = _persona_names()
    items = "; ".join(f"turn {x['turn']} ({_named(x['reason'], x.get('persona_id'), names)})" for x in left)
    more = f" (the {len(left)} latest are listed)" if total > len(left) else ""
    return f"Left out of the history: {total} earlier turn{s}{more}: {items}."


def _persona_names() -> dict[str, str]:
    """Persona ids → the names people see (a reason must not say "persona (psoups-concise)")."""
    if not st.runtime.exists():  # called outside a running app (unit tests): ids stay as they are
        return {}
    try:
        from .services import playground

        return {p["id"]: p["name"] for p in playground().people.list_personas()}
    except Exception:  # a note's wording must never break the inspector
        return {}


def _named(reason: str, persona_id: str | None, names: Mapping[str, str]) -> str:
    if persona_id and persona_id in names:
        return reason.replace(f"persona ({persona_id})", f"persona “{md(names[persona_id])}”")
    return reason


def render_history_excluded(prompt: Mapping[str, Any]) -> None:
    text = history_excluded_text(prompt)
    if text:
        st.caption("🔒 " + text)


def prompt_summary(prompt: Mapping[str, Any], key: str) -> None:
    """The prompt at a glance: tokens against the budget, split by where they came from."""
    parts = prompt["parts"]
    total, budget = prompt["tokens"], prompt["budget"]
    by_source: dict[str, list[int]] = {}
    for p in parts:
        by_source.setdefault(p["source"], []).append(p["tokens"])
    split = " · ".join(f":{SOURCE_MD.get(src, 'gray')}[{SOURCE_NAME.get(src, src)}" +
                       (f" ×{len(ts)}" if len(ts) > 1 else "") + f" {sum(ts)}]" for src, ts in by_source.items())
    # The template on the summary's own line, its description in the tooltip: a caption line of its own pushed the
    # first snippet below the fold of a 1280×720 inspector.
    name = prompt.get("template") or "standard"
    edited = " · **instructions edited by you**" if prompt.get("edited_instructions") else ""
    st.markdown(f"**Prompt: {plural(total, 'token')}** of a {budget}-token budget · {plural(len(parts), 'part')}"
                f" · template **{md(name)}**{edited}  \n{split}", help=template_line(prompt))
    if prompt.get("cut"):
        st.warning("Cut to fit the budget: " + ", ".join(f"{md(c['label'])} ({plural(c['tokens'], 'token')})"
                                                          for c in prompt["cut"]))
    render_history_excluded(prompt)


EDITED = "inspector_edited_instructions"  # {mode: the instructions this browser session uses instead}


def edited_instructions(mode: str) -> str | None:
    """The instructions this browser session edited for ``mode`` (None: the template's own)."""
    return st.session_state.get(EDITED, {}).get(mode)


def template_line(prompt: Mapping[str, Any]) -> str:
    name = prompt.get("template") or "standard"
    edited = " · **instructions edited by you**" if prompt.get("edited_instructions") else ""
    desc = TEMPLATES[name].description if name in TEMPLATES else ""
    return f"Prompt template **{md(name)}**{edited} — {md(desc)}"


def _use_edit(box: str, mode: str, own: str) -> None:
    text = str(st.session_state.get(box, "")).strip()
    edits = st.session_state.setdefault(EDITED, {})
    if text and text != own:
        edits[mode] = text
    else:
        edits.pop(mode, None)


def _reset_edit(box: str, mode: str, own: str) -> None:
    st.session_state.setdefault(EDITED, {}).pop(mode, None)
    st.session_state[box] = own


def template_editor(template: str, mode: str, key: str) -> None:
    """See and edit the template's instructions: the edit is used from this browser session's next question on,
    shown in the prompt as its own part ("your edited instructions"); Reset goes back to the template."""
    own = template_instructions(template, mode) if template in TEMPLATES else ""
    current = edited_instructions(mode)
    st.caption(f"The **{md(template)}** template's instructions for **{mode}** mode. Edit them and press Use: your "
               "next question is asked with your wording, so you can see how instructions shape personalization.")
    box = f"{key}_box_{template}_{mode}"
    if box not in st.session_state:
        st.session_state[box] = current or own
    st.text_area("Instructions sent to the model", key=box, height=110)
    c1, c2 = st.columns(2)
    c1.button("Use for my next question", key=f"{key}_use", type="primary", on_click=_use_edit,
              args=(box, mode, own))
    c2.button("Reset to the template", key=f"{key}_reset", on_click=_reset_edit, args=(box, mode, own))
    if current is not None:
        st.caption("✏️ Your edit is in use for this mode: it appears in the prompt as “your edited instructions”.")


def prompt_parts(prompt: Mapping[str, Any], key: str) -> None:
    """The token bar against the budget, then every part: label, tokens, where it came from, its exact text."""
    st.plotly_chart(prompt_tokens_figure(prompt["parts"], prompt["budget"]), width="stretch", key=f"{key}_tokens",
                    config={"displayModeBar": False})
    for p in prompt["parts"]:
        color = SOURCE_MD.get(p["source"], "gray")
        st.markdown(f":{color}[**{md(p['label'])}**] · {plural(p['tokens'], 'token')} · from "
                    f"{WHERE.get(p['source'], p['source'])}")
        st.code(p["text"], language=None, wrap_lines=True)


def render_trace_summary(trace: Trace) -> None:
    bits = [f"mode **{trace['mode']}**", f"retriever {trace['retrieval']['retriever']}, k={trace['retrieval']['k']}"]
    if trace.get("model"):
        bits.append(f"model **{md(trace['model'])}**")
    if trace.get("latency_s") is not None and trace.get("status") != "error":
        bits.append(f"{trace['latency_s']:.2f} s")
    if trace.get("ttft_s") is not None:
        bits.append(f"first token {trace['ttft_s']:.2f} s")
    bits.append(f"prompt {plural(trace['prompt_tokens'], 'token')}")
    if trace.get("output_tokens") is not None and trace.get("status") != "error":
        est = " (estimated)" if trace.get("output_tokens_estimated") else ""
        bits.append(f"answer {plural(trace['output_tokens'], 'token')}{est}")
    st.caption(" · ".join(bits))


def render_trace(trace: Trace, key: str, nested: bool = False, snippets_first: bool = False) -> None:
    """Everything about one turn: summary line, the prompt at a glance, snippets in full, the prompt's parts
    (``nested``: already inside an expander, where Streamlit allows no other; ``snippets_first``: while retrieval
    is being tuned the snippets are what is watched, so they lead)."""
    if snippets_first:
        st.markdown("**Retrieved snippets**")
        render_snippets(trace["hits"], trace["mode"], trace["retrieval"].get("k"))
    render_trace_summary(trace)
    render_resolution(trace["prompt"])
    prompt_summary(trace["prompt"], key)
    if not snippets_first:
        st.markdown("**Retrieved snippets**")
        render_snippets(trace["hits"], trace["mode"], trace["retrieval"].get("k"))
    if nested:
        st.markdown("**The exact prompt, part by part**")
        prompt_parts(trace["prompt"], key)
        return
    with st.expander("The exact prompt, part by part", key=f"{key}_parts"):
        prompt_parts(trace["prompt"], key)
