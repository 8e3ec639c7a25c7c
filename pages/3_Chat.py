"""Chat with the inspector: every answer shows what was retrieved and the exact prompt, part by part."""

import streamlit as st

from components import state
from components.chat_view import stream_or_record
from components.explain_view import explain_button, render_explanation
from components.inspector import render_prompt, render_resolution, render_snippets, render_trace
from components.safe_text import answer_md, md
from components.services import model_status
from components.setup import need_profile, page_setup, show_error
from playground import GRANULARITIES, RETRIEVERS, PlaygroundError, RetrievalOptions
from playground.workshop import get_preset

CHAT_TITLE = "chat"  # the title of the sessions this page writes
MODE_HELP = {"user": "user: your own profile and writing samples",
             "persona": "persona: a group's description and the samples its members share",
             "global": "global: no personal data at all (the baseline)",
             "auto": "auto: user level once you have enough writing, else your persona, else global"}

pg = page_setup("Chat", "Ask anything. Beside the answer you see what was retrieved from whose writing and the exact "
                "prompt the model received. Switch the granularity to see personalization appear and disappear.",
                icon="💬")
profile = need_profile(pg)
pid = profile["id"]
preset = get_preset(pg)

sessions = st.session_state.setdefault(state.SESSIONS, {})
sid = sessions.get(pid)
if not sid:
    # Resume the latest chat; Compare, Evaluate and the study keep their turns in sessions of their own.
    existing = [s for s in pg.sessions(pid) if s["title"] == CHAT_TITLE]
    sid = existing[0]["id"] if existing else pg.new_session(pid, title=CHAT_TITLE)["id"]
    sessions[pid] = sid

chat_col, insp_col = st.columns([3, 2], gap="large")

with insp_col:
    st.subheader("Inspector")
    mode = st.radio("Granularity", GRANULARITIES, horizontal=True, key="chat_mode",
                    help="\n\n".join(MODE_HELP.values()))
    st.caption(MODE_HELP[mode])
    personas = pg.list_personas()
    names = {p["id"]: p["name"] for p in personas}
    persona_id = None
    if mode == "persona":
        ids = [p["id"] for p in personas]
        default = profile["persona_id"] if profile["persona_id"] in ids else ids[0]
        persona_id = st.selectbox("Active persona", ids, index=ids.index(default), format_func=names.get,
                                  key="chat_persona")
        if persona_id != profile["persona_id"]:
            st.caption("You are not a member of this persona: you see its examples and the samples its members share.")
    retriever, k, threshold, mmr, use_summary = "dense", pg.settings.default_k, None, False, False
    if not preset["hide_controls"]:
        with st.expander(f"Retrieval settings: {st.session_state.get('chat_retriever', 'dense')}, "
                         f"k={st.session_state.get('chat_k', pg.settings.default_k)}"):
            retriever = st.radio("Retriever", RETRIEVERS, horizontal=True, key="chat_retriever",
                                 help="dense: meaning (embeddings) · bm25: shared words · hybrid: both, fused by rank")
            k = st.slider("Snippets (k)", 1, 10, pg.settings.default_k, key="chat_k")
            if st.checkbox("Minimum score", key="chat_use_threshold",
                           help="Drop weak matches. Scores differ by retriever: cosine for dense, BM25 points for "
                                "bm25, rank-fusion for hybrid."):
                threshold = st.number_input("Threshold", value=0.3, step=0.05, key="chat_threshold")
            mmr = st.checkbox("Diversify (MMR)", key="chat_mmr", help="Prefer snippets that are not near-duplicates.")
            use_summary = st.checkbox("Add the model-written summary of my writing (user mode)", key="chat_summary")
    options = RetrievalOptions(retriever, k=k, threshold=threshold, mmr=mmr)
    # Fixed heights keep the granularity switch and the chat input on screen together (a 1000-px-high window).
    details = st.container(height=500, border=False)

with chat_col:
    top = st.columns([4, 1])
    top[0].caption(f"Chatting as **{md(profile['display_name'])}**")
    if top[1].button("New chat", key="chat_new"):
        sessions[pid] = pg.new_session(pid, title=CHAT_TITLE)["id"]
        st.rerun()
    history = st.container(height=520, border=False)
    messages = pg.session_messages(sid)
    for m in messages:
        with history.chat_message(m["role"]):
            if m["content"]:  # the person's words literally; the model's with formatting but nothing fetched
                st.markdown(md(m["content"]) if m["role"] == "user" else answer_md(m["content"]))
            if m["role"] == "assistant":
                if m["status"] == "interrupted":
                    st.caption(f"⚠️ Stopped part-way: {md(m['error'])}")
                elif m["status"] == "error":
                    st.caption(f"No answer: {md(m['error'])}")
                if m["trace"]:
                    with st.expander("How this answer was personalized"):
                        render_trace(m["trace"], key=f"trace_{m['id']}")
                if m["trace"] and m["status"] == "complete":
                    explain_button(pg, m["trace"], key=f"explain_{m['id']}", section="chat_explain")

# Inline under the chat, not pinned to the page bottom: a pinned input makes Streamlit scroll the whole page down,
# which pushes the title and the inspector's granularity switch out of view.
message = chat_col.chat_input("Ask something…", key="chat_input")
message = message or st.session_state.pop(state.PENDING_ASK, None)
latest = next((m["trace"] for m in reversed(messages) if m["role"] == "assistant" and m["trace"]), None)
if message:
    with chat_col:
        with history.chat_message("user"):
            st.markdown(md(message))
        with history.chat_message("assistant"):
            try:
                turn = pg.start_turn(sid, message, mode, options, persona_id=persona_id, use_summary=use_summary)
            except PlaygroundError as e:
                show_error(e)
                st.stop()
            if not stream_or_record(pg, turn):
                st.warning(f"No model is running, so there is no answer, but the prompt that would be sent is in the "
                           f"inspector. {model_status(pg).problem}")
            elif turn.status == "complete":  # the same key as in the history next time: one button per answer
                explain_button(pg, turn.trace, key=f"explain_{turn.assistant_message_id}", section="chat_explain")
            latest = turn.trace

with details:
    if not latest:
        st.info("Ask something: the snippets retrieved from your writing and the exact prompt will appear here.")
    else:
        changed = (latest.get("requested_mode", latest["mode"]) != mode
                   or latest["retrieval"]["retriever"] != retriever or latest["retrieval"]["k"] != k
                   or (mode == "persona" and latest.get("persona_id") != persona_id))
        if changed and not message:
            # One click on the granularity shows the difference at once: the same message under the new setting.
            st.markdown(f"**Preview under the current setting ({mode})** · “{md(latest['query'][:80])}”, not yet sent")
            if st.button(f"Ask again under {mode}", type="primary", key="chat_ask_again"):
                st.session_state[state.PENDING_ASK] = latest["query"]
                st.rerun()
            try:
                hits, build, _ = pg.preview(pid, latest["query"], mode, options, persona_id=persona_id,
                                            use_summary=use_summary)
            except PlaygroundError as e:
                show_error(e)
            else:
                render_resolution(build.to_dict())
                render_snippets([h.to_dict() for h in hits], build.mode)
                render_prompt(build.to_dict(), key="chat_preview")
            with st.expander(f"Latest turn, as it was sent ({latest['mode']})"):
                render_trace(latest, key="chat_latest")
        else:
            st.markdown(f"**Latest turn** · “{md(latest['query'][:80])}”")
            render_trace(latest, key="chat_latest")

# Below both columns: "Explain this answer" runs here, full width, with progress and a Cancel button.
render_explanation(pg, key="chat_explain")
