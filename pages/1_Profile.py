"""Profile: who you are, which persona group you belong to, and what you share."""

import streamlit as st

from components import writes
from components.safe_text import md
from components.setup import (
    act,
    active_profile,
    creator_code,
    delete_in_background,
    flash,
    may_edit,
    owner_token,
    page_setup,
    read_only_note,
    report_deletion,
    select_profile,
    show_error,
)
from playground import AGE_RANGES, ATTRIBUTES, SHARING_EXPLAINED, PlaygroundError

pg = page_setup("Profile", "Static attributes about you go into the prompt in user mode. Nothing here is required "
                "except a display name.")
personas = pg.people.list_personas()
persona_names = {p["id"]: p["name"] for p in personas}
persona_ids = [""] + [p["id"] for p in personas]


def attribute_inputs(prefix: str, values: dict) -> dict:
    out = {}
    for key, label, limit in ATTRIBUTES:
        if key == "age_range":
            current = values.get(key, "")
            out[key] = st.selectbox(label, AGE_RANGES, index=AGE_RANGES.index(current) if current in AGE_RANGES else 0,
                                    format_func=lambda a: a or "—", key=f"{prefix}_{key}")
        elif key == "notes":
            out[key] = st.text_area(label, values.get(key, ""), max_chars=limit, key=f"{prefix}_{key}",
                                    help="Anything else the assistant should know about you.")
        else:
            out[key] = st.text_input(label, values.get(key, ""), max_chars=limit, key=f"{prefix}_{key}")
    current = values.get("persona_id") or ""
    out["persona_id"] = st.selectbox("Persona group", persona_ids, index=persona_ids.index(current)
                                     if current in persona_ids else 0,
                                     format_func=lambda i: persona_names.get(i, "— none —"), key=f"{prefix}_persona")
    out["share_with_persona"] = st.toggle("Share my writing samples with my persona group",
                                          value=bool(values.get("share_with_persona")), key=f"{prefix}_share",
                                          help=SHARING_EXPLAINED)
    st.caption(SHARING_EXPLAINED)
    return out


DELETE_FORM = "profile_delete"
report_deletion(DELETE_FORM)  # a deletion a second click's run took over: reported here, once
profile = active_profile(pg)
# A new browser opens on "Create" (the first tab): it used to open on editing whatever profile was active, so anyone
# could change or delete a profile someone else made.
tab_new, tab_edit = st.tabs(["Create a new profile", ("Edit the active profile" if may_edit(profile) else
                                                      "The active profile (read-only)") if profile else
                             "No profile yet"])

with tab_new:
    # A double click must create one profile and select it: see components/writes.py. After a creation the form is
    # drawn under a new key (empty), so there is no need to clear it on submit, and an error keeps what was typed.
    with st.form(writes.form_key("profile_new")):
        values = attribute_inputs(writes.form_key("profile_new", "new"), {})
        if st.form_submit_button("Create profile", type="primary", key=writes.form_key("profile_new", "new_submit")):
            owner, creator = owner_token(pg), creator_code()
            sig = writes.signature(sorted(values.items())) if str(values.get("display_name", "")).strip() else ""
            created, error, repeated = writes.run_once("profile_new", sig,
                                                       lambda: pg.people.create_profile(owner_token=owner,
                                                                                 creator=creator, **values))
            if isinstance(error, PlaygroundError):
                show_error(error)
            elif error is not None:
                raise error
            elif not repeated:
                select_profile(created["id"])
                flash("success", f"Profile “{md(created['display_name'])}” created and selected. Next: add writing "
                                 "samples.")
                st.rerun()

with tab_edit:
    if not profile:
        st.info("Create a profile in the first tab, or load the demo data on Home.")
    elif not may_edit(profile):
        read_only_note(profile)
    else:
        with st.form(f"profile_edit_{profile['id']}"):
            values = attribute_inputs(f"edit_{profile['id']}", profile)
            if st.form_submit_button("Save changes", type="primary"):
                act(lambda: pg.people.update_profile(profile["id"], **values), "Saved.")

        st.subheader("What the model thinks your writing is like")
        st.caption("Profile-augmented prompting: a model summarises your samples (style, tone, topics). You can edit "
                   "it; your edit is never overwritten. Turn it on in the Chat inspector.")
        summary = pg.summaries.get_summary(profile["id"])
        if summary:
            if summary["stale"]:
                st.warning("Your samples changed since this summary was written." +
                           (" You edited it, so it stays as you wrote it." if summary["edited"] else ""))
            st.caption("Written from: " + ", ".join(md(s["title"]) for s in summary["sources"]) +
                       f" · by {md(summary['model'])}")
        text = st.text_area("Summary", summary["text"] if summary else "", key=f"profile_summary_{profile['id']}",
                            height=140)
        s1, s2 = st.columns(2)
        if s1.button("Write it with the model", key="profile_summary_generate"):
            st.session_state.pop(f"profile_summary_{profile['id']}", None)  # show the new text, not the old edit
            with st.spinner("Asking the model…"):
                act(lambda: pg.summaries.generate_summary(profile["id"]), "Summary written.")
        if s2.button("Save my edit", key="profile_summary_save"):
            act(lambda: pg.summaries.save_summary(profile["id"], text), "Your summary is saved and marked as edited by you.")

        st.subheader("Your style card")
        st.caption("Measured from your samples, no model needed: the habits in which your writing differs most from "
                   "a reference of other writers, with the numbers beside each line. You can edit it; your edit is "
                   "never overwritten. Turn it on in the Chat inspector (“Add the style card”).")
        try:
            card = pg.style.ensure(profile["id"])
        except PlaygroundError as e:
            show_error(e)
            card = None
        if not card:
            st.info("Add writing samples and your style card appears here.")
        else:
            if card["stale"]:
                st.warning("Your samples changed since this card was measured. You edited it, so it stays as you "
                           "wrote it; “Measure again” replaces your edit.")
            if card["lines"]:
                st.dataframe([{"habit": x["line"], "measured": x["evidence"]} for x in card["lines"]],
                             hide_index=True, width="stretch", key=f"profile_style_lines_{profile['id']}")
            st.caption("Measured from: " + ", ".join(md(s["title"]) for s in card["sources"]) +
                       (" · edited by you" if card["edited"] else ""))
            card_text = st.text_area("Style card (this text goes into the prompt)", card["text"],
                                     key=f"profile_style_card_{profile['id']}_{card['updated']}", height=90)
            c1, c2 = st.columns(2)
            if c1.button("Save my style card", key="profile_style_save"):
                act(lambda: pg.style.save(profile["id"], card_text),
                    "Your style card is saved and marked as edited by you.")
            if c2.button("Measure again from my samples", key="profile_style_measure"):
                act(lambda: pg.style.measure(profile["id"]), "Style card measured again.")

        st.subheader("Delete this profile")
        st.caption("Deletes the profile, its writing samples, their vectors, its chats and their traces, its summary, "
                   "any study records, and every quote of its shared writing in other people's conversations; the "
                   "stores' files are then purged so the text is gone from the disk too. This cannot be undone.")
        # Keys name the profile: a second click on "Delete profile" that arrives after the first deleted it must not
        # find the next active profile's box ticked and its button pressed.
        sure_key = f"profile_delete_sure_{profile['id']}"
        sure = st.checkbox(f"Yes, delete “{md(profile['display_name'])}” and everything in it", key=sure_key)
        if st.button("Delete profile", disabled=not sure, key=f"profile_delete_{profile['id']}"):
            def forget(key: str = sure_key) -> None:
                select_profile(None)
                st.session_state.pop(key, None)

            delete_in_background(DELETE_FORM, profile["id"], lambda pid=profile["id"]: pg.people.delete_profile(pid),
                              f"Deleted “{md(profile['display_name'])}” and all of its data.", after=forget)
