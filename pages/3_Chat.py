"""Chat with the inspector: every answer shows what was retrieved and the exact prompt, part by part."""

import hashlib

import streamlit as st

from components import state
from components.chat_view import stream_or_record
from components.explain_view import explain_button, render_explanation
from components.inspector import (
    edited_instructions,
    prompt_parts,
    prompt_summary,
    render_resolution,
    render_snippets,
    render_trace,
    template_editor,
)
from components.safe_text import answer_md, md
from components.services import model_status
from components.setup import browser_key, may_edit, need_profile, page_setup, show_error
from playground import GRANULARITIES, RETRIEVERS, PlaygroundError, RetrievalOptions, Trace

CHAT_TITLE = "chat"  # the title of the sessions this page writes
KEPT = "chat_kept_message"   # a message the model could not take (too long): given back to edit
KEPT_BOX = "chat_kept_box"
MODE_HELP = {"user": "user: your own profile and writing samples",
             "persona": "persona: a group's description and the samples its members share",
             "global": "global: no personal data at all (the baseline)",
             "auto": "auto: user level once you have enough writing, else your persona, else global"}



def answer_label(trace: Trace, persona_names: dict) -> str:
    """Which granularity (and persona) an answer was written under, on the answer itself."""
    mode = trace.get("mode", "?")
    asked = trace.get("requested_mode", mode)
    label = f"under **{mode}**" + (f" (auto → {mode})" if asked == "auto" and mode != "auto" else "")
    if mode == "persona" and trace.get("persona_id"):
        label += f" · persona “{md(persona_names.get(trace['persona_id'], 'a persona'))}”"
    return "🏷️ Answered " + label


pg = page_setup("Chat", "Ask anything: the inspector shows what was retrieved from whose writing and the exact "
                "prompt the model received. Switch the granularity to see personalization appear and disappear.")
profile = need_profile(pg)
pid = profile["id"]
preset = pg.workshop.get_preset()

sessions = st.session_state.setdefault(state.SESSIONS, {})
sid = sessions.get(pid)
# Conversations belong to the browser: on a profile it made, it resumes the profile's latest chat; on a demo profile
# (or anyone else's) it gets a conversation of its own, never another browser's (whose turns would be shown, and
# enter this browser's prompts as history).


title = CHAT_TITLE if may_edit(profile) else f"{CHAT_TITLE} · {hashlib.sha256(browser_key().encode()).hexdigest()[:16]}"
if not sid:
    # Resume the latest chat; Compare, Evaluate and the study keep their turns in sessions of their own.
    existing = [s for s in pg.conversations.sessions(pid) if s["title"] == title]
    sid = existing[0]["id"] if existing else pg.conversations.new_session(pid, title=title)["id"]
    sessions[pid] = sid

# Laid out for a projector (1280×720 and up): the chat and the inspector each scroll inside their own box, sized to
# the window, so the granularity switch, the latest answer, the prompt summary and the chat input stay on screen
# together. Sizes follow the window (CSS), not fixed pixels. Streamlit gives a box with a height a wrapper around the
# keyed block, with the height and flex-basis on it, so the rules address that wrapper. The inspector's column is as
# tall as the window and its box takes what the controls above and below it leave: opening Retrieval settings (under
# the box) shrinks the box instead of pushing the snippets below the fold.
st.html("""<style>
.stMainBlockContainer { padding-top: 2.2rem; padding-bottom: 1rem; }
.stMainBlockContainer h1 { font-size: 2rem; padding: 0 0 0.2rem 0; }
[data-testid="stLayoutWrapper"]:has(> .st-key-chat_history) { flex: 0 0 auto !important;
  height: calc(100vh - 300px) !important; min-height: 200px; }
[data-testid="stLayoutWrapper"]:has(> .st-key-chat_side) { height: calc(100vh - 170px); min-height: 420px; }
[data-testid="stLayoutWrapper"]:has(> .st-key-chat_inspector) { flex: 1 1 0 !important; height: auto !important;
  min-height: 140px; }
.st-key-chat_inspector [data-testid="stText"], .st-key-chat_history [data-testid="stText"] {
  font-family: inherit; font-size: 0.95rem; white-space: pre-wrap; }
</style>""")
chat_col, insp_col = st.columns([1, 1], gap="medium")

with insp_col.container(key="chat_side"):
    # Streamlit forgets a widget's value when its page is left: the choice is kept under a key of its own, so a page
    # switch or Back no longer resets the granularity to user.
    if "chat_mode" not in st.session_state:
        st.session_state["chat_mode"] = st.session_state.get(state.MODE, GRANULARITIES[0])
    mode = st.radio("Granularity", GRANULARITIES, horizontal=True, key="chat_mode",
                    help="\n\n".join(MODE_HELP.values()), label_visibility="collapsed")
    st.session_state[state.MODE] = mode
    personas = pg.people.list_personas()
    names = {p["id"]: p["name"] for p in personas}
    persona_id = None
    retriever, k, threshold, mmr, use_summary = "dense", pg.settings.default_k, None, False, False
    settings_box = None
    # The style card is a granularity-level choice, not a retrieval detail: it stays visible in workshops too.
    use_style_card = st.checkbox("Add the style card (user: yours, persona: the persona's)", key="chat_style_card",
                                 help="A few lines measured from the writing (sentence length, punctuation, "
                                      "slang…), labelled “style card” in the prompt. See it on the Profile page.")
    caption = st.empty()  # filled once the retrieval settings (below the inspector) are known
    if mode == "persona":
        ids = [p["id"] for p in personas]
        default = profile["persona_id"] if profile["persona_id"] in ids else ids[0]
        if st.session_state.get("chat_persona") not in ids:
            kept_persona = st.session_state.get(state.CHAT_PERSONA)
            st.session_state["chat_persona"] = kept_persona if kept_persona in ids else default
        persona_id = st.selectbox("Active persona", ids, format_func=names.get, key="chat_persona")
        st.session_state[state.CHAT_PERSONA] = persona_id
        if persona_id != profile["persona_id"]:
            st.caption("You are not a member of this persona: you see its description and examples, not what its "
                       "members share (that reaches only members).")
    details = st.container(key="chat_inspector", height=420, border=False)  # the height follows the window (CSS)
    if not preset["hide_controls"]:
        # A fixed label and a key: the box stays open while you try settings (it used to close after each change).
        # Under the inspector and compact, so that while it is open the snippets (then listed first) stay in view.
        settings_box = st.expander("Retrieval settings", key="chat_settings_box", on_change="rerun")
        with settings_box:
            r1, r2 = st.columns([3, 2])  # the retriever's three buttons on one line at 1280 px
            retriever = r1.segmented_control(
                "Retriever", RETRIEVERS, default=RETRIEVERS[0], required=True, key="chat_retriever",
                help="dense: meaning (embeddings) · bm25: shared words · hybrid: both, fused by rank")
            k = r2.slider("Snippets (k)", 1, 10, pg.settings.default_k, key="chat_k")
            c1, c2, c3 = st.columns(3)
            if c1.checkbox("Min. score", key="chat_use_threshold",
                           help="Minimum score: drop weak matches. Scores differ by retriever: cosine for dense, "
                                "BM25 points for bm25, rank-fusion for hybrid."):
                threshold = c1.number_input("Threshold", value=0.3, step=0.05, key="chat_threshold")
            mmr = c2.checkbox("Diversify", key="chat_mmr",
                              help="Diversify (MMR): prefer snippets that are not near-duplicates.")
            use_summary = c3.checkbox("Summary", key="chat_summary",
                                      help="Add the model-written summary of my writing (user mode).")
    settings_open = settings_box is not None and bool(settings_box.open)
    if not settings_open:  # when open, the settings themselves say this
        # One line where it fits: every line here is one less of the first snippet on a 1280×720 screen.
        caption.caption(MODE_HELP[mode] + ("" if preset["hide_controls"] else f" · {retriever}, k={k}"))
    options = RetrievalOptions(retriever, k=k, threshold=threshold, mmr=mmr)

with chat_col:
    top = st.columns([3, 1], vertical_alignment="center")
    top[0].caption(f"Chatting as **{md(profile['display_name'])}**")
    if top[1].button("New chat", key="chat_new"):
        sessions[pid] = pg.conversations.new_session(pid, title=title)["id"]
        st.rerun()
    # Feedback about what was typed goes here, above the conversation: under the input it fell below the fold.
    notice = st.container(key="chat_notice")
    history = st.container(key="chat_history", height=420, autoscroll=True)  # the height follows the window (CSS)
    messages = pg.conversations.session_messages(sid)
    last = messages[-1] if messages else None
    for m in messages:
        with history.chat_message(m["role"]):
            if m["content"]:  # the person's words literally; the model's with formatting but nothing fetched
                st.markdown(md(m["content"]) if m["role"] == "user" else answer_md(m["content"]))
            if m["role"] == "assistant":
                if m["trace"]:
                    st.caption(answer_label(m["trace"], names))
                if m["status"] == "interrupted":
                    st.caption(f"⚠️ Stopped part-way: {md(m['error'] or 'the answer was interrupted.')}")
                elif m["status"] == "error":
                    st.caption(f"No answer: {md(m['error'])}")
                if m["status"] in ("interrupted", "error") and m is last and m["trace"]:
                    if st.button("Retry", key=f"chat_retry_{m['id']}", icon=":material/refresh:"):
                        st.session_state[state.PENDING_ASK] = m["trace"]["query"]
                        st.rerun()
                if m["trace"]:
                    with st.expander("How this answer was personalized"):
                        render_trace(m["trace"], key=f"trace_{m['id']}", nested=True)
                if m["trace"] and m["status"] == "complete":
                    explain_button(pg, m["trace"], key=f"explain_{m['id']}", section="chat_explain")
    if last is not None and last["role"] == "user":
        # The page was left or reloaded before the answer was saved (it is saved when the model writes again).
        with history.chat_message("assistant"):
            st.caption("⚠️ No answer yet: the page was reloaded or left while the model was answering.")
            if st.button("Retry", key=f"chat_retry_{last['id']}", icon=":material/refresh:"):
                st.session_state[state.PENDING_ASK] = last["content"]
                st.rerun()

# Inline under the chat, not pinned to the page bottom: a pinned input makes Streamlit scroll the whole page down,
# which pushes the title and the inspector's granularity switch out of view.
message = chat_col.chat_input("Ask something…", key="chat_input")
message = message or st.session_state.pop(state.PENDING_ASK, None)
if message is not None and not message.strip():
    notice.warning("Type a question first: an empty message is not sent.")
    message = None
latest = next((m["trace"] for m in reversed(messages) if m["role"] == "assistant" and m["trace"]), None)
if message:
    with chat_col:
        with history.chat_message("user"):
            st.text(message)
        with history.chat_message("assistant"):
            try:
                turn = pg.conversations.start_turn(sid, message, mode, options, persona_id=persona_id,
                                                   use_summary=use_summary,
                                     use_style_card=use_style_card, instructions=edited_instructions(mode))
            except PlaygroundError as e:
                show_error(e)
                # Nothing typed is lost: it comes back below, to edit and send again.
                st.session_state[KEPT] = st.session_state[KEPT_BOX] = message
            else:
                # The prompt is built before the model writes a word: show it now, while the room waits (the 10–20 s
                # of a slow model are the best moment to talk it through), and swap in the finished turn after.
                waiting = details.empty()
                with waiting.container():
                    st.markdown(f"**This turn, sent to the model** · “{md(message[:80])}” · ⏳ waiting for the answer")
                    render_trace(turn.trace, key="chat_waiting")
                answered = stream_or_record(pg, turn)
                waiting.empty()
                st.caption(answer_label(turn.trace, names))
                if not answered:
                    st.warning(f"No model is running, so there is no answer, but the prompt that would be sent is "
                               f"in the inspector. {model_status(pg).problem}")
                elif turn.status == "complete":  # the same key as in the history next time: one button per answer
                    explain_button(pg, turn.trace, key=f"explain_{turn.assistant_message_id}", section="chat_explain")
                latest = turn.trace
if st.session_state.get(KEPT):
    with notice.form("chat_kept_form", border=True):
        edited = st.text_area("Your message, kept: edit it and send it again", key=KEPT_BOX, height=90)
        b1, b2 = st.columns(2)
        send, drop = b1.form_submit_button("Send", type="primary"), b2.form_submit_button("Discard it")
    if send or drop:
        st.session_state.pop(KEPT, None)
        if send:
            st.session_state[state.PENDING_ASK] = edited
        st.rerun()

with details:
    if not latest:
        st.info("Ask something: the snippets retrieved from your writing and the exact prompt will appear here.")
    else:
        had_card = any(p["source"] == "style" for p in latest["prompt"]["parts"])
        changed = (latest.get("requested_mode", latest["mode"]) != mode or (had_card != use_style_card
                                                                              and latest["mode"] != "global")
                   or latest["retrieval"]["retriever"] != retriever or latest["retrieval"]["k"] != k
                   or (mode == "persona" and latest.get("persona_id") != persona_id))
        if changed and not message:
            # One click on the granularity shows the difference at once: the same message under the new setting.
            if settings_open:  # tuning retrieval: one row above the snippets, so the first one stays in view
                line, ask = st.columns([3, 2], vertical_alignment="center")
                line.markdown(f"**Preview ({mode})**, not yet sent")
            else:
                line = ask = st.container()
                line.markdown(f"**Preview under the current setting ({mode})** · “{md(latest['query'][:80])}”, "
                              "not yet sent")
            if ask.button(f"Ask again under {mode}", type="primary", key="chat_ask_again"):
                st.session_state[state.PENDING_ASK] = latest["query"]
                st.rerun()
            try:
                # The same call, on the same conversation, as the turn "Ask again" sends (start_turn).
                hits, build, _ = pg.conversations.preview(pid, latest["query"], mode, options, persona_id=persona_id,
                                            session_id=sid, use_summary=use_summary,
                                            use_style_card=use_style_card, instructions=edited_instructions(mode))
            except PlaygroundError as e:
                show_error(e)
            else:
                if not settings_open:
                    render_resolution(build.to_dict())
                    prompt_summary(build.to_dict(), key="chat_preview")
                st.markdown("**Snippets it would retrieve**")
                render_snippets([h.to_dict() for h in hits], build.mode, k)
                if settings_open:  # tuning retrieval: the snippets first, where the eye is
                    render_resolution(build.to_dict())
                    prompt_summary(build.to_dict(), key="chat_preview")
                with st.expander("The exact prompt, part by part", key="chat_preview_parts"):
                    prompt_parts(build.to_dict(), key="chat_preview")
            with st.expander(f"Latest turn, as it was sent ({latest['mode']})"):
                render_trace(latest, key="chat_latest", nested=True)
        else:
            st.markdown(f"**Latest turn** · “{md(latest['query'][:80])}”")
            render_trace(latest, key="chat_latest", snippets_first=settings_open)  # tuning: the snippets lead
    with st.expander("Prompt template: see and edit the instructions", key="chat_template"):
        template_editor(pg.conversations.template_for(), mode, key="chat_template")

# Below both columns: "Explain this answer" runs here, full width, with progress and a Cancel button.
render_explanation(pg, key="chat_explain")
