"""Study admin: set up studies, watch progress, export data, and run a workshop. Protected by a passphrase."""

import json

import streamlit as st

from components import state, writes
from components.charts import ratings_figure, win_rate_figure
from components.judge_view import render_judge
from components.page_registry import HIDEABLE
from components.safe_text import md
from components.setup import flash, page_setup, show_error
from playground import RETRIEVERS, PlaygroundError
from playground.library.privacy_scan import REDACT_CHOICES
from playground.research import study as studies
from playground.wording import plural

pg = page_setup("Study admin", "For researchers and instructors: create studies, follow progress, export the data, "
                "and set up a workshop.")

secret = pg.settings.admin_passphrase
if not secret:
    st.warning("This page is locked: set PLAYGROUND_ADMIN_PASSPHRASE on the server and restart it.")
    st.stop()
if not st.session_state.get(state.ADMIN_OK):
    with st.form("admin_login"):
        given = st.text_input("Admin passphrase", type="password", key="admin_pass")
        if st.form_submit_button("Unlock"):
            # Failures are counted on the server (SQLite): after a few, every attempt waits out a growing pause.
            try:
                ok = pg.studies.check_admin_passphrase(given, secret)
            except PlaygroundError as e:
                show_error(e)
            else:
                if ok:
                    st.session_state[state.ADMIN_OK] = True
                    st.rerun()
                wait = pg.studies.admin_wait_left()
                st.error("That passphrase is not right." + (f" The next attempt is checked in {wait:.0f} s."
                                                            if wait else ""))
    st.stop()

tab_studies, tab_new, tab_workshop = st.tabs(["Studies", "New study", "Workshop"])

with tab_new:
    with st.form("admin_new_study"):
        name = st.text_input("Study name", key="admin_study_name")
        consent = st.text_area("Consent text participants must accept", key="admin_consent",
                               value="This study compares answers written by a language model. Your writing and "
                                     "choices are stored under your participant ID only, and deleted on request.")
        modes = st.multiselect("Granularities to compare", ["user", "persona", "global", "auto"],
                               default=["user", "global"], key="admin_modes")
        retrievers = st.multiselect("Retrievers (optional: compare these too)", RETRIEVERS, default=["dense"],
                                    key="admin_retrievers")
        persona_names = {p["id"]: p["name"] for p in pg.people.list_personas()}
        study_persona = st.selectbox("Persona for the persona condition (participants belong to none)",
                                     ["", *persona_names], format_func=lambda i: persona_names.get(i, "— none —"),
                                     key="admin_persona")
        assignment = st.radio("Assignment", ("within", "between"), horizontal=True, key="admin_assignment",
                              format_func={"within": "within-subject, counterbalanced",
                                           "between": "between-subject, random pair"}.get)
        blind = st.checkbox("Blind: participants never see which condition wrote which answer", True,
                            key="admin_blind")
        prompts = st.text_area("Task prompts, one per line", key="admin_prompts",
                               value="Plan a relaxing weekend for me.\nExplain inflation to me.")
        questions = st.text_area("Rating statements (1–5 agreement, optional for participants), one per line; empty: "
                                 "only the preference is asked", key="admin_questions",
                                 value="\n".join(q["text"] for q in studies.DEFAULT_QUESTIONS))
        st.markdown("**Who may join, and running online**")
        access = st.radio("Access", studies.ACCESS, horizontal=True, key="admin_access",
                          format_func={"open": "open: anyone with the study code picks an ID",
                                       "invited": "invited: only the IDs below, each with its own access code"}.get)
        invites = st.text_area("Participant IDs to register (invited), one per line", key="admin_invites")
        o1, o2, o3 = st.columns(3)
        p_param = o1.text_input("URL parameter with the participant ID", key="admin_pparam",
                                placeholder="PROLIFIC_PID")
        s_param = o2.text_input("… with the platform's study ID", key="admin_sparam", placeholder="STUDY_ID")
        x_param = o3.text_input("… with the session ID", key="admin_xparam", placeholder="SESSION_ID")
        e1, e2, e3 = st.columns(3)
        completion = e1.text_input("Completion code shown at the end", key="admin_completion")
        redirect = e2.text_input("Redirect URL at the end (https://…)", key="admin_redirect")
        min_tasks = e3.number_input("Tasks needed before finishing (0: all)", 0, 100, 0, key="admin_min_tasks")
        attention = st.checkbox("Attention check before the first task (“choose Purple”)", key="admin_attention")
        if st.form_submit_button("Create study", type="primary"):
            settings = {"access": access, "participant_param": p_param, "study_param": s_param,
                        "session_param": x_param, "completion_code": completion, "redirect_url": redirect,
                        "min_tasks": int(min_tasks), "attention_check": attention}
            sig = writes.signature(name, consent, modes, retrievers, assignment, blind, prompts, questions, settings,
                                   invites)
            s, error, repeated = writes.run_once("admin_new_study", sig, lambda: pg.studies.create_study(
                name, consent, [{"mode": m, "retriever": r} for m in modes for r in retrievers],
                prompts.splitlines(), assignment=assignment, blind=blind,
                persona_id=study_persona, questions=questions.splitlines(), settings=settings))
            if isinstance(error, PlaygroundError):
                show_error(error)
            elif error is not None:
                raise error
            elif not repeated:
                codes = pg.studies.invite(s["id"], invites.splitlines()) if invites.strip() else []
                flash("success", f"Study “{md(s['name'])}” created. Participants join on the Study page with code "
                                 f"**{s['code']}**." + (" Access codes (shown once, in the Studies tab too until "
                                                        "you leave this page) are ready." if codes else ""))
                st.session_state["admin_new_access_codes"] = codes
                st.rerun()

with tab_studies:
    all_studies = pg.studies.list_studies()
    if not all_studies:
        st.info("No studies yet: create one in the next tab.")
    else:
        labels = {s["id"]: f"{s['name']} · code {s['code']} · {plural(s['n_participants'], 'participant')}"
                  for s in all_studies}
        sid = st.selectbox("Study", list(labels), format_func=labels.get, key="admin_study")
        s = pg.studies.get_study(sid)
        st.caption(f"Conditions: {', '.join(c['label'] for c in s['conditions'])} · {s['assignment']}-subject · "
                   f"{'blind' if s['blind'] else 'labelled'} · {len(s['prompts'])} tasks")
        if st.session_state.get("admin_new_access_codes"):
            st.markdown("**Access codes** (only a hash is stored: hand these out now)")
            st.dataframe(st.session_state["admin_new_access_codes"], hide_index=True, key="admin_codes")
        online = s["settings"]
        if online.get("participant_param"):
            ps = [f"{online[k]}={{{{%{online[k]}%}}}}" for k in ("participant_param", "study_param", "session_param")
                  if online.get(k)]
            st.caption("Online link (replace the placeholders as your platform asks): `…/Study?study=" + s["code"] +
                       "&" + "&".join(ps) + "`")
        a1, a2 = st.columns(2)
        if a1.button("Preview as a participant", key="admin_preview"):
            st.session_state["admin_preview_key"] = (sid, pg.studies.new_preview_key(sid))
        if st.session_state.get("admin_preview_key", ("",))[0] == sid:
            a1.caption(f"Open `/Study?study={s['code']}&preview={st.session_state['admin_preview_key'][1]}` "
                       "(in a private window): what participants see; nothing is counted or exported, and the preview "
                       "is deleted when it finishes, when you start another or when you close the study.")
        if s["open"]:
            if a2.button("Close the study", key="admin_close"):
                pg.studies.close_study(sid)
                flash("success", "Closed: no new participants, and its persona may be edited again.")
                st.rerun()
        else:
            a2.caption("Closed to new participants.")
        summary = pg.studies.summary(sid)
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(f"**Preferences** ({plural(summary['judgements'], 'judgement')})")
            if any(v["win_rate"] is not None for v in summary["conditions"].values()):
                st.plotly_chart(win_rate_figure(summary["conditions"]), width="stretch", key="admin_wins")
            else:  # an empty chart with a 0–1 axis says nothing: say what will appear, and when
                st.info("No preferences yet: win rates appear here after the first participant's choice.")
        with c2:
            st.markdown("**Ratings**")
            if any(values for v in summary["conditions"].values() for values in v["ratings"].values()):
                st.plotly_chart(ratings_figure(summary["conditions"]), width="stretch", key="admin_ratings")
            else:
                st.info("No ratings yet: their spread appears here after the first participant rates an answer.")
        st.dataframe([{"condition": c, "shown": v["shown"], "wins": v["wins"], "losses": v["losses"], "ties": v["ties"],
                       "win rate": None if v["win_rate"] is None else round(v["win_rate"], 3),
                       "95% CI": f"{v['ci95'][0]:.2f}–{v['ci95'][1]:.2f}"} for c, v in summary["conditions"].items()],
                     hide_index=True, width="stretch", key="admin_summary")
        bt = summary["bradley_terry"]
        if bt:
            st.markdown(f"**Bradley–Terry fit** ({plural(bt['n'], 'decisive choice')}, ties left out)")
            st.dataframe([{"condition": c, "strength": round(v["strength"], 2), "± SE": round(v["se"], 2),
                           f"P(beats {bt['reference']}) at equal length": round(v["p_beats_reference"], 2)}
                          for c, v in bt["conditions"].items()], hide_index=True, width="stretch", key="admin_bt")
            st.caption(f"Strength is relative to {md(bt['reference'])} (0), at equal answer length. Length effect "
                       f"β = {bt['length_effect']:.2f} ± {bt['length_se']:.2f} per unit of log word-count ratio: above "
                       "0, longer answers won more often whatever wrote them. With few choices the standard errors "
                       "are wide and the fit says little; a small ridge penalty keeps a condition that always won "
                       "finite, so it understates extreme strengths.")
        progress = pg.studies.progress(sid)
        st.markdown("**Participants**")
        st.dataframe([{"participant": p["code"], "consented": bool(p["consented"]), "tasks done": p["done"],
                       "of": p["tasks"], "attention check": {None: "—", True: "passed", False: "failed"}[
                           p["attention_passed"]]} for p in progress], hide_index=True, width="stretch",
                     key="admin_progress")
        d1, d2 = st.columns(2)
        d1.download_button("Export judgements (CSV)", pg.studies.export_csv(sid), f"{s['code']}-judgements.csv",
                           "text/csv", key="admin_csv")
        d2.download_button("Export all events (JSONL)", pg.studies.export_jsonl(sid), f"{s['code']}-events.jsonl",
                           "application/jsonl", key="admin_jsonl")
        st.caption("Column meanings: docs/study-data.md")
        render_judge(pg, sid, s["code"])
        if progress:
            codes = {p["id"]: p["code"] for p in progress}
            who = st.selectbox("One participant", list(codes), format_func=codes.get, key="admin_participant")
            st.download_button("Export this participant's data (JSON)",
                               json.dumps(pg.studies.export_participant(who), default=str, indent=2),
                               f"participant-{codes[who]}.json", "application/json", key="admin_p_export")
            sure = st.checkbox(f"Yes, delete everything of participant {md(codes[who])}", key=f"admin_p_sure_{who}")
            if st.button("Delete participant", disabled=not sure, key=f"admin_p_delete_{who}"):
                pg.studies.delete_participant(who)
                flash("success", f"Deleted participant {md(codes[who])} everywhere.")
                st.rerun()

with tab_workshop:
    preset = pg.workshop.get_preset()
    with st.form("admin_preset"):
        hidden = st.multiselect("Pages participants do not see", HIDEABLE, default=preset["hidden_pages"],
                                key="admin_hidden")
        hide_controls = st.checkbox("Hide the retrieval settings on the Chat page", preset["hide_controls"],
                                    key="admin_hide_controls")
        fixed = st.text_input("Fix the model (empty: the server's default)", preset["fixed_model"], key="admin_model")
        private = st.checkbox("Private profiles: each browser sees only the profiles it created (and the demo ones)",
                              preset["private_profiles"], key="admin_private",
                              help="Switching this on hides every existing profile except the demo ones from every "
                                   "browser, including whoever made it (nobody can tell who made a public profile). "
                                   "They are listed below for you to delete or make public again.")
        st.caption("Switching private profiles on hides every existing non-demo profile from everyone (listed below "
                   "for you to delete or publish). To start private from the first click, start the server with "
                   "PLAYGROUND_PRIVATE_PROFILES=true.")
        redact = st.radio("Replace personal data in uploads with placeholders ([EMAIL], [PHONE] …)",
                          REDACT_CHOICES, index=REDACT_CHOICES.index(preset["redact_uploads"]), horizontal=True,
                          format_func={"auto": "auto (on with private profiles and in studies)", "on": "always",
                                       "off": "never"}.get, key="admin_redact")
        if st.form_submit_button("Apply to everyone"):
            switched_on = private and not preset["private_profiles"]
            pg.workshop.set_preset({"hidden_pages": hidden, "hide_controls": hide_controls, "fixed_model": fixed,
                                    "private_profiles": private, "redact_uploads": redact})
            n = pg.people.hide_existing() if switched_on else 0
            flash("success", "Workshop preset applied to every browser on this server." +
                  (f" Private profiles are on: {plural(n, 'existing profile')} hidden from every browser." if n
                   else ""))
            st.rerun()
    hidden_profiles = pg.people.hidden_profiles()
    if hidden_profiles:
        st.markdown(f"**Hidden profiles** ({plural(len(hidden_profiles), 'profile')}, made before privacy was on: "
                    "no browser sees them)")
        st.dataframe([{"name": p["display_name"], "created": p["created"][:16].replace("T", " ")}
                      for p in hidden_profiles], hide_index=True, width="stretch", key="admin_hidden_list")
        h1, h2 = st.columns(2)
        sure_hidden = h1.checkbox("Yes, delete them and all their writing", key="admin_hidden_sure")
        if h1.button("Delete hidden profiles", disabled=not sure_hidden, key="admin_hidden_delete"):
            for p in hidden_profiles:
                pg.people.delete_profile(p["id"])
            flash("success", f"Deleted {plural(len(hidden_profiles), 'hidden profile')} and everything in them.")
            st.rerun()
        if h2.button("Make them public again", key="admin_hidden_publish"):
            n = pg.people.publish_hidden()
            flash("success", f"{plural(n, 'profile')} visible to every browser again.")
            st.rerun()
    st.markdown("**Reset**")
    if st.button("Reset my browser session", key="admin_reset_session"):
        for k in list(st.session_state):
            if k != state.ADMIN_OK:
                del st.session_state[k]
        st.query_params.clear()
        flash("success", "This browser session starts afresh.")
        st.rerun()
    sure = st.checkbox("Yes, delete every profile, sample, chat and user-made persona on this server",
                       key="admin_reset_sure")
    if st.button("Reset all data", disabled=not sure, key="admin_reset_all"):
        try:
            n = pg.workshop.reset_all()
        except PlaygroundError as e:
            show_error(e)
        else:
            flash("success", f"Deleted {plural(n, 'profile')} and everything in them. Load the demo data again on Home.")
            st.rerun()
