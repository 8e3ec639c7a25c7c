"""Compare: one message answered under user, persona and global, side by side."""

import difflib

import streamlit as st

from components import state
from components.chat_view import stream_or_record
from components.explain_view import explain_button, render_explanation
from components.inspector import render_snippets
from components.judge_view import render_pair_judge
from components.safe_text import answer_md
from components.services import model_status
from components.setup import need_profile, page_setup, show_error
from playground import PlaygroundError, RetrievalOptions
from playground.wording import plural

pg = page_setup("Compare", "The same message, three granularities, three answers side by side. The differences "
                "between the prompts are exactly what personalization added.")
profile = need_profile(pg)
pid = profile["id"]
persona_id = profile["persona_id"] or st.selectbox(
    "You have no persona; compare with", [p["id"] for p in pg.people.list_personas()],
    format_func={p["id"]: p["name"] for p in pg.people.list_personas()}.get, key="compare_persona")
MODES = ("user", "persona", "global")

with st.form("compare_form"):
    message = st.text_area("Your message", key="compare_message", placeholder="e.g. How should I spend a free Sunday?")
    go = st.form_submit_button("Answer under all three", type="primary")

if go and message.strip():
    status = model_status(pg)
    result = {"message": message.strip(), "traces": {}, "answers": {}}
    cols = st.columns(3)
    for col, mode in zip(cols, MODES):
        with col:
            st.subheader(mode)
            session = pg.conversations.new_session(pid, title=f"compare {mode}")
            try:
                turn = pg.conversations.start_turn(session["id"], message, mode, RetrievalOptions(k=pg.settings.default_k),
                                     persona_id=persona_id)
            except PlaygroundError as e:
                show_error(e)
                continue
            if not stream_or_record(pg, turn):
                st.caption("No model: prompts only.")
            result["traces"][mode] = turn.trace
            result["answers"][mode] = turn.answer
    if not status.can_answer:
        st.warning(f"No model is running, so only the prompts are compared. {status.problem}")
    st.session_state[state.COMPARE] = result
elif go:
    st.warning("Type a message first.")

result = st.session_state.get(state.COMPARE)
if result and result["traces"]:
    if not go:
        cols = st.columns(3)
        for col, mode in zip(cols, MODES):
            with col:
                st.subheader(mode)
                st.markdown(answer_md(result["answers"].get(mode) or "") or "_no answer_")
    explainable = [m for m in ("user", "persona") if result["answers"].get(m)
                   and result["traces"][m].get("status") == "complete"]
    if explainable:
        for col, mode in zip(st.columns(3), MODES):
            if mode in explainable:
                with col:
                    explain_button(pg, result["traces"][mode], key=f"compare_explain_{mode}",
                                   section="compare_explain", label=f"Explain the {mode} answer")
    render_explanation(pg, key="compare_explain")
    st.subheader("What each prompt retrieved")
    cols = st.columns(3)
    for col, mode in zip(cols, MODES):
        with col:
            trace = result["traces"].get(mode)
            if trace:
                st.caption(f"{mode}: {plural(trace['prompt_tokens'], 'prompt token')}")
                render_snippets(trace["hits"], mode)

    st.subheader("How the prompts differ")
    base = st.radio("Compare against", ("global", "persona"), horizontal=True, key="compare_base")
    for mode in ("user", "persona"):
        if mode == base or mode not in result["traces"] or base not in result["traces"]:
            continue
        a = result["traces"][base]["prompt"]["messages"][0]["content"].splitlines()
        b = result["traces"][mode]["prompt"]["messages"][0]["content"].splitlines()
        added = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
                 if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        with st.expander(f"{base} → {mode}: {sum(1 for x in added if x[0] == '+')} lines added, "
                         f"{sum(1 for x in added if x[0] == '-')} removed", expanded=mode == "user"):
            st.code("\n".join(added) or "identical system prompts", language="diff", wrap_lines=True)

    user_hits = [h["text"] for h in (result["traces"].get("user") or {}).get("hits", [])]
    render_pair_judge(pg, profile, result["message"], result["answers"], user_hits)
    st.subheader("Which answer do you prefer?")
    if not any(result["answers"].values()):
        st.info("There are no answers to choose between yet: start a model (see the sidebar) and ask again.")
        st.stop()
    with st.form("compare_pref"):
        choice = st.radio("Preferred", (*MODES, "none"), horizontal=True, key="compare_choice",
                          format_func=lambda c: "no preference" if c == "none" else c)
        reason = st.text_input("Why? (optional)", key="compare_reason")
        if st.form_submit_button("Record my preference"):
            try:
                pg.preferences.record(pid, result["message"], MODES, choice,
                                      {m: t["id"] for m, t in result["traces"].items()}, reason)
            except PlaygroundError as e:
                show_error(e)
            else:
                st.success("Recorded. Thank you: preferences like this are how personalization is judged.")
