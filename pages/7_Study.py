"""Study: join with a code, consent, share some writing, then compare pairs of answers."""

import streamlit as st

from components import state
from components.safe_text import answer_md, md
from components.setup import page_setup, show_error
from playground import PlaygroundError
from playground.research import study as studies

LIKERT = (1, 2, 3, 4, 5)
LIKERT_CAPTIONS = ("disagree", "", "", "", "agree")

pg = page_setup("Study", "For participants in a study: your researcher gave you a study code and a participant ID. "
                "No real name is needed.")

# Resume from this browser session, or from the resume link (?resume=<secret>); a participant id alone opens nothing.
# Online studies open from a link with the study code and the recruiting platform's ids (?study=CODE&PROLIFIC_PID=…,
# the parameter names the researcher set); the researcher's preview opens with ?study=CODE&preview=<key>.
q = st.query_params
pid = st.session_state.get(state.PARTICIPANT)
participant = None
if pid:
    try:
        participant = pg.studies.get_participant(pid)
    except PlaygroundError:
        st.session_state.pop(state.PARTICIPANT, None)
if not participant and q.get("resume"):
    try:
        participant = pg.studies.resume(q["resume"])
    except PlaygroundError as e:
        show_error(e)
        del q["resume"]
if not participant and q.get("study") and q.get("preview"):
    try:
        participant = pg.studies.join(q["study"], "", preview_key=q["preview"])
    except PlaygroundError as e:
        show_error(e)
    else:
        del q["preview"]
        q["resume"] = participant["resume_token"]
elif not participant and q.get("study"):
    try:
        online = pg.studies.study_by_code(q["study"])["settings"]
    except PlaygroundError as e:
        show_error(e)
        online = {}
    if online.get("participant_param") and q.get(online["participant_param"]):
        try:
            participant = pg.studies.join(q["study"], q[online["participant_param"]],
                                          external={"study": q.get(online.get("study_param") or "", ""),
                                                    "session": q.get(online.get("session_param") or "", "")})
        except PlaygroundError as e:
            show_error(e)
            st.info("If you started this study before, type your participant ID and resume code below.")
        else:
            q["resume"] = participant["resume_token"]  # a reload (only this link) resumes here
if participant:
    st.session_state[state.PARTICIPANT] = participant["id"]
    if participant.get("resume_token"):
        st.session_state["study_resume_code"] = participant["resume_token"]

if not participant:
    with st.form("study_join"):
        code = st.text_input("Study code", q.get("study", ""), key="study_code")
        who = st.text_input("Participant ID", key="study_pid")
        access = st.text_input("Access code (if the researcher gave you one)", key="study_access")
        again = st.text_input("Resume code (only if you started before)", key="study_resume")
        if st.form_submit_button("Join", type="primary"):
            try:
                participant = pg.studies.join(code, who, again, access_code=access)
            except PlaygroundError as e:
                show_error(e)
            else:
                st.session_state[state.PARTICIPANT] = participant["id"]
                st.session_state["study_resume_code"] = participant["resume_token"]
                q["resume"] = participant["resume_token"]  # a reload (only this link) resumes here
                st.rerun()
    st.stop()

study = pg.studies.get_study(participant["study_id"])
if participant["preview"]:
    st.warning("Preview: this is what participants see. Nothing you do here is counted or exported, and it is deleted "
               "when you finish or open the preview again.", icon="👁️")
st.caption(f"Study **{md(study['name'])}** · participant **{md(participant['code'])}**")
if st.session_state.get("study_resume_code") and not participant["preview"]:
    st.caption(f"Your resume code: **{md(st.session_state['study_resume_code'])}**. Keep it: it lets you continue "
               "later, and nobody else can take your place without it.")

if not participant["consented"]:
    st.subheader("Consent")
    st.markdown(answer_md(study["consent_text"]))  # the researcher's formatting, but nothing fetched
    agree = st.checkbox("I have read this and agree to take part", key="study_agree")
    if st.button("Continue", disabled=not agree, type="primary", key="study_consent"):
        pg.studies.consent(participant["id"])
        st.rerun()
    st.stop()

profile_id = participant["profile_id"]
samples = pg.library.list_samples(profile_id) if profile_id else []
if not samples and not participant["skipped_writing"]:
    st.subheader("Your writing (optional)")
    st.markdown("Paste something you wrote (an e-mail, a post, a short essay). It is used only to personalize answers "
                "for you in this study, and you can ask the researcher to delete it at any time.")
    if pg.library.redaction_default(profile_id):
        st.caption("Before your writing is stored, e-mail addresses, phone numbers, web and postal addresses, card "
                   "and bank numbers, dates of birth and names after cues like “my name is” are replaced by "
                   "placeholders such as [EMAIL]. Other names are not found automatically: leave them out.")
    text = st.text_area("Your writing", key="study_writing", height=160)
    c1, c2 = st.columns(2)
    if c1.button("Add my writing", type="primary", key="study_add_writing"):
        try:
            s = pg.library.add_sample(profile_id, text=text, title="my writing")
            pg.studies.log_event(participant["id"], "upload", {"sample_id": s["id"], "title": s["title"],
                                                               "chunks": s["n_chunks"]})
        except PlaygroundError as e:
            show_error(e)
        else:
            st.rerun()
    if c2.button("Skip", key="study_skip"):
        pg.studies.skip_writing(participant["id"])  # remembered on the server: a reload does not ask again
        st.rerun()
    st.stop()

check = study["settings"].get("attention_check")
if check and pg.studies.attention_answer(participant["id"]) is None:
    st.subheader("A quick check")
    with st.form("study_attention"):
        pick = st.radio(check["question"], check["options"], index=None, key="study_attention_pick")
        if st.form_submit_button("Continue", type="primary"):
            if pick is None:
                st.warning("Pick one of the options.")
            else:
                pg.studies.answer_attention(participant["id"], pick)
                st.rerun()
    st.stop()

done = set(pg.studies.judged_tasks(participant["id"]))
todo = [t for t in range(len(study["prompts"])) if t not in done]
needed = studies.tasks_needed(study)
st.progress(len(done) / len(study["prompts"]), text=f"{len(done)} of {len(study['prompts'])} tasks done")


def show_completion(result: dict) -> None:
    st.success("All done: thank you for taking part!")
    if result.get("completion_code"):
        st.markdown(f"Your completion code: **{md(result['completion_code'])}**")
        st.code(result["completion_code"], language=None)
    if result.get("redirect_url"):
        st.link_button("Return to the study platform", result["redirect_url"], type="primary")


if st.session_state.get("study_finished") == participant["id"]:
    show_completion(st.session_state["study_completion"])
    st.stop()
if not todo or (todo and len(done) >= needed and st.session_state.get("study_finish_now")):
    try:
        result = pg.studies.finish(participant["id"])
    except PlaygroundError as e:
        show_error(e)
        st.stop()
    st.session_state["study_finished"] = participant["id"]
    st.session_state["study_completion"] = result
    st.query_params.pop("resume", None)
    show_completion(result)
    st.stop()
if len(done) >= needed:
    st.info(f"You have done the {needed} tasks this study needs; you may finish now or do more.")
    if st.button("Finish now", key="study_finish"):
        st.session_state["study_finish_now"] = True
        st.rerun()

task = todo[0]
view = pg.studies.task_view(participant["id"], task)
st.subheader(f"Task {task + 1} of {view['of']}")
st.markdown(f"**The request:** {md(view['prompt'])}")
# One slot for everything below the request: while the answers are written, the spinner replaces the previous task's
# answers, sliders and submit button (they used to stay visible, and clickable, under the spinner).
area = st.empty()
if set(view["answers"]) != {"A", "B"} or any(a["status"] != "complete" for a in view["answers"].values()):
    try:
        with area.container(), st.spinner("Writing two answers…"):
            view = pg.studies.generate_answers(participant["id"], task)
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
            # No preset value: a rating nobody gave stays empty (stored as null), never a middle value nobody chose.
            ratings[slot] = {q["id"]: st.radio(q["text"], LIKERT, index=None, horizontal=True,
                                               captions=LIKERT_CAPTIONS, key=f"study_rate_{task}_{slot}_{q['id']}")
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
                    pg.studies.judge(participant["id"], task, choice, ratings, reason)
                except PlaygroundError as e:
                    show_error(e)
                else:
                    st.rerun()
