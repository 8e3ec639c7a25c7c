"""Personas: groups described in words, with example texts that stand in for what members share."""

import streamlit as st

from components import writes
from components.safe_text import md
from components.setup import flash, page_setup, show_error, visible_profiles
from playground import PlaygroundError
from playground.research.stylecard import persona_style_card
from playground.wording import plural

pg = page_setup("Personas", "A persona is persona-level personalization: the system prompt describes a group, and "
                "retrieval searches the group's examples and, for its members only, the samples of fellow members "
                "who chose to share (never their names).")

personas = pg.people.list_personas()
visible = visible_profiles(pg)  # in a private workshop: the public profiles and this browser's own, never others'
st.subheader(f"{len(personas)} personas")
for p in personas:
    kind = "shipped" if p["builtin"] else "made here"
    with st.expander(f"**{md(p['name'])}** · {md(p['grp'] or kind)} · {plural(p['n_members'], 'member')}, "
                     f"{p['n_sharing']} sharing"):
        st.markdown(f"**In the system prompt:** {md(p['description'])}")
        if p["style_guidance"]:
            st.markdown(f"**How to answer:** {md(p['style_guidance'])}")
        for n, ex in enumerate(p["examples"], 1):
            st.caption(f"Example {n}")
            st.text(ex)
        if p["examples"]:
            card = persona_style_card(p)
            st.markdown(f"**Style card** (measured from the examples; goes into the prompt in persona mode when the "
                        f"Chat inspector's style card is on): {md(card['text'])}")
            if card["lines"]:
                st.dataframe([{"habit": x["line"], "measured": x["evidence"]} for x in card["lines"]],
                             hide_index=True, width="stretch", key=f"personas_style_{p['id']}_lines")
        members = [m for m in visible if m["persona_id"] == p["id"]]
        if members:
            st.markdown("**Members you can see:**")
            st.text(", ".join(f"{m['display_name']}{' (shares samples)' if m['share_with_persona'] else ''}"
                              for m in members))
        src = p["source"]
        st.caption(f"Source: {md(src.get('dataset', ''))}" + (f" · {md(src['license'])}" if src.get("license")
                                                               else ""))
        if not p["builtin"]:
            with st.form(f"personas_edit_{p['id']}"):
                name = st.text_input("Name", p["name"], key=f"personas_name_{p['id']}")
                desc = st.text_area("Description (used in the system prompt)", p["description"],
                                    key=f"personas_desc_{p['id']}")
                style = st.text_area("How to answer", p["style_guidance"], key=f"personas_style_{p['id']}")
                example = st.text_area("Add an example text", key=f"personas_example_{p['id']}")
                if st.form_submit_button("Save persona"):
                    try:
                        pg.people.update_persona(p["id"], name=name, description=desc, style_guidance=style)
                        if example.strip():
                            pg.library.add_persona_example(p["id"], example)
                    except PlaygroundError as e:
                        show_error(e)
                    else:
                        flash("success", f"Saved “{md(name)}”.")
                        st.rerun()
            sure = st.checkbox("Yes, delete this persona (members keep their own data)", key=f"personas_del_{p['id']}")
            if st.button("Delete persona", disabled=not sure, key=f"personas_delete_{p['id']}"):
                try:
                    pg.people.delete_persona(p["id"])
                except PlaygroundError as e:  # e.g. a running study froze it
                    show_error(e)
                else:
                    flash("success", f"Deleted “{md(p['name'])}”.")
                    st.rerun()

st.subheader("Create a persona")
st.caption("Describe a group in the second person, as the assistant should see it. Stereotypes creep in easily "
           "here: describe what people in the group want, not what they are assumed to be like.")
NEW = "personas_new"  # created once per submission, then drawn afresh (components/writes.py); errors keep the text
with st.form(writes.form_key(NEW)):
    name = st.text_input("Name", key=writes.form_key(NEW, "personas_new_name"))
    group = st.text_input("Who is this group? (one line)", key=writes.form_key(NEW, "personas_new_group"))
    desc = st.text_area("Description, used in the system prompt", placeholder="You are talking with people who …",
                        key=writes.form_key(NEW, "personas_new_desc"))
    style = st.text_area("How should the assistant answer them?", key=writes.form_key(NEW, "personas_new_style"))
    examples = st.text_area("Example texts in the group's voice, separated by a blank line",
                            key=writes.form_key(NEW, "personas_new_ex"))
    if st.form_submit_button("Create persona", type="primary", key=writes.form_key(NEW, "personas_new_submit")):
        sig = writes.signature(name, group, desc, style, examples) if name.strip() else ""
        created, error, repeated = writes.run_once(NEW, sig, lambda: pg.create_persona_with_examples(
            name, desc, style, [e for e in examples.split("\n\n") if e.strip()], group))
        if isinstance(error, PlaygroundError):
            show_error(error)
        elif error is not None:
            raise error
        elif not repeated:
            flash("success", f"Persona “{md(created['name'])}” created. Members can join it on the Profile page.")
            st.rerun()
