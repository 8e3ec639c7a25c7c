"""Study: join with a code, consent, share some writing, then compare pairs of answers."""

import streamlit as st

from components import state
from components.safe_text import answer_md, md
from components.setup import page_setup, show_error
from playground import PlaygroundError
from playground.research import study as studies

pg = page_setup("Study", "For participants in a study: your researcher gave you a study code and a participant ID. "
                "No real name is needed.", icon="🔬")

# Resume from this browser session, or from the resume link (?resume=<secret>); a participant id alone opens nothing.
pid = st.session_state.get(state.PARTICIPANT)
participant = None
if pid:
    try:
        participant = studies.get_participant(pg, pid)
    except PlaygroundError:
        st.session_state.pop(state.PARTICIPANT, None)
elif st.query_params.get("resume"):
    try:
        participant = studies.resume(pg, st.query_params["resume"])
    except PlaygroundError as e:
        show_error(e)
        del st.query_params["resume"]
    else:
        st.session_state[state.PARTICIPANT] = participant["id"]

if not participant:
    with st.form("study_join"):
        code = st.text_input("Study code", key="study_code")
        who = st.text_input("Participant ID", key="study_pid")
        if st.form_submit_button("Join", type="primary"):
            try:
                participant = studies.join(pg, code, who)
            except PlaygroundError as e:
                show_error(e)
            else:
                st.session_state[state.PARTICIPANT] = participant["id"]
                st.query_params["resume"] = participant["resume_token"]  # a reload (only this link) resumes here
                st.rerun()
    st.stop()

study = studies.get_study(pg, participant["study_id"])
st.caption(f"Study **{md(study['name'])}** · participant **{md(participant['code'])}**")

if not participant["consented"]:
    st.subheader("Consent")
    st.markdown(answer_md(study["consent_text"]))  # the researcher's formatting, but nothing fetched
    agree = st.checkbox("I have read this and agree to take part", key="study_agree")
    if st.button("Continue", disabled=not agree, type="primary", key="study_consent"):
        studies.consent(pg, participant["id"])
        st.rerun()
    st.stop()

profile_id = participant["profile_id"]
samples = pg.list_samples(profile_id) if profile_id else []
if not samples and not st.session_state.get("study_skip_samples"):
    st.subheader("Your writing (optional)")
    st.markdown("Paste something you wrote (an e-mail, a post, a short essay). It is used only to personalize answers "
                "for you in this study, and you can ask the researcher to delete it at any time.")
    if pg.redaction_default(profile_id):
        st.caption("Before your writing is stored, e-mail addresses, phone numbers, web and postal addresses, card "
                   "and bank numbers, dates of birth and names after cues like “my name is” are replaced by "
                   "placeholders such as [EMAIL]. Other names are not found automatically: leave them out.")
    text = st.text_area("Your writing", key="study_writing", height=160)
    c1, c2 = st.columns(2)
    if c1.button("Add my writing", type="primary", key="study_add_writing"):
        try:
            s = pg.add_sample(profile_id, text=text, title="my writing")
            studies.log_event(pg, participant["id"], "upload", {"sample_id": s["id"], "title": s["title"],
                                                               "chunks": s["n_chunks"]})
        except PlaygroundError as e:
            show_error(e)
        else:
            st.rerun()
    if c2.button("Skip", key="study_skip"):
        st.session_state["study_skip_samples"] = True
        st.rerun()
    st.stop()

done = {r["task"] - 1 for r in studies.judgement_rows(pg, study["id"], participant["id"])}
todo = [t for t in range(len(study["prompts"])) if t not in done]
st.progress(len(done) / len(study["prompts"]), text=f"{len(done)} of {len(study['prompts'])} tasks done")
if not todo:
    studies.end_resume(pg, participant["id"])
    st.query_params.pop("resume", None)
    st.success("All done: thank you for taking part!")
    st.stop()

task = todo[0]
view = studies.task_view(pg, participant["id"], task)
st.subheader(f"Task {task + 1} of {view['of']}")
st.markdown(f"**The request:** {md(view['prompt'])}")
# One slot for everything below the request: while the answers are written, the spinner replaces the previous task's
# answers, sliders and submit button (they used to stay visible, and clickable, under the spinner).
area = st.empty()
if set(view["answers"]) != {"A", "B"} or any(a["status"] != "complete" for a in view["answers"].values()):
    try:
        with area.container(), st.spinner("Writing two answers…"):
            view = studies.generate_answers(pg, participant["id"], task)
    except PlaygroundError as e:
        with area.container():
            show_error(e)
            st.button("Try again", key="study_retry")
        st.stop()

with area.container():
    cols = st.columns(2)
    ratings = {}
    for col, slot in zip(cols, ("A", "B")):
        with col:
            label = f"Answer {slot}" + (f" · {md(view['labels'][slot])}" if view.get("labels") else "")
            st.markdown(f"#### {label}")
            with st.container(border=True):
                st.markdown(answer_md(view["answers"][slot]["text"]) or "_(empty)_")
            ratings[slot] = {q["id"]: st.slider(q["text"], 1, 5, 3, key=f"study_rate_{task}_{slot}_{q['id']}")
                             for q in view["questions"]}
    with st.form(f"study_judge_{task}"):
        choice = st.radio("Which answer do you prefer?", ("A", "B", "none"), horizontal=True, index=None,
                          format_func=lambda c: "No preference" if c == "none" else f"Answer {c}",
                          key=f"study_choice_{task}")
        reason = st.text_area("Why? (optional)", key=f"study_reason_{task}")
        if st.form_submit_button("Submit and continue", type="primary"):
            if choice is None:
                st.warning("Pick A, B or no preference.")
            else:
                try:
                    studies.judge(pg, participant["id"], task, choice, ratings, reason)
                except PlaygroundError as e:
                    show_error(e)
                else:
                    st.rerun()
