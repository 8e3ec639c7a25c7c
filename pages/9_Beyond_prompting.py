"""Beyond prompting: the fine-tuning and alignment routes on the playground's own pipeline, and exports for them."""

import streamlit as st

from components import state
from components.charts import pipeline_with_routes
from components.setup import active_profile, page_setup
from playground.research.routes import COLLECTED_LABELS, PERSONAL_KEYS, ROUTES, STAGES
from playground.research.training_export import split_counts, to_jsonl

pg = page_setup("Beyond prompting", "Everything in this playground personalizes through the prompt. Research also "
                "changes the model itself: per-person modules, learned retrievers, user embeddings, preference "
                "tuning. See where each would act, and export what you collected here to try them elsewhere.")

st.markdown(
    "Prompting keeps the model fixed and changes its **input**: your data is retrieved and quoted. The routes below "
    "change something else: the **retriever** (what is picked), the **prompt** as vectors instead of text, or the "
    "**model's weights**. They all learn from the same kinds of data this playground collects: your writing, your "
    "conversations, and which answers people preferred. Pick a route to see where it acts on the pipeline.")

by_id = {r.id: r for r in ROUTES}
chosen = st.radio("Route", list(by_id), format_func=lambda i: by_id[i].name, key="beyond_route")
route = by_id[chosen]
st.graphviz_chart(pipeline_with_routes(ROUTES, chosen), width="stretch")

profile = active_profile(pg)
overall = pg.training.collected()
mine = pg.training.collected(profile["id"]) if profile else None
st.subheader(route.name)
st.caption(route.paper)
c1, c2 = st.columns(2)
with c1:
    st.markdown("**What it changes** · " + " and ".join(STAGES[s] for s in route.stages))
    st.write(route.changes)
with c2:
    st.markdown("**What data it needs**")
    st.write(route.needs)
st.markdown("**What this playground already collects for it**")
rows = []
for key in route.collects:
    row = {"data": COLLECTED_LABELS[key], "everyone": overall[key]}
    if mine is not None and key in PERSONAL_KEYS:
        row["active profile"] = mine[key]
    rows.append(row)
st.dataframe(rows, hide_index=True, key="beyond_collected")
st.caption("Export below: " + ("a person's writing as a training set." if route.export == "training"
                               else "a study's judgements as preference pairs."))

with st.expander("All routes at a glance"):
    st.dataframe([{"route": r.name, "changes": ", ".join(STAGES[s] for s in r.stages), "paper": r.paper}
                  for r in ROUTES], hide_index=True, width="stretch", key="beyond_all")

st.subheader("Export a person's writing as a training set")
st.caption("Instruction → output pairs built the way LaMP (Salemi et al., 2024) and LongLaMP (Kumar et al., 2024) "
           "build their tasks: “Write a paragraph titled X” → the first passage of the text titled X, and "
           "“Continue this text: <first sentence>” → the rest of that passage. The last fifth of the samples is the "
           "held-out test split, so no text is in both. Only this person's stored text is used (redacted where "
           "redaction was on). This is what OPPU-style per-person modules train on.")
if not profile:
    st.info("Pick a profile in the sidebar to export its writing.")
else:
    holdout = st.slider("Share of samples held out for testing", 0.0, 0.5, 0.2, 0.05, key="beyond_holdout")
    records = pg.training.user_training_set(profile["id"], holdout)
    counts = split_counts(records)
    if not records:
        st.info("This profile has no writing yet: add some on the Writing samples page.")
    else:
        st.text(f"{len(records)} pairs from {profile['display_name']}'s writing: {counts['train']} to train, "
                f"{counts['test']} held out.")
        with st.expander("The first pairs"):
            st.json(records[:3])
        st.download_button("Download training set (JSONL)", to_jsonl(records), f"training-{profile['id']}.jsonl",
                           "application/jsonl", key="beyond_download_training")

st.subheader("Export a study's judgements as preference pairs")
st.caption("One record per judgement that preferred an answer: the task prompt, the chosen and the rejected answer, "
           "and who judged, under which conditions, with their ratings. Ready for DPO-style training elsewhere "
           "(e.g. TRL's DPOTrainer reads prompt / chosen / rejected). “No preference” and identical answers are left "
           "out and counted.")
if not st.session_state.get(state.ADMIN_OK):
    st.info("Study data is for the researcher: unlock the Study admin page first (with the admin passphrase).")
else:
    all_studies = pg.studies.list_studies()
    if not all_studies:
        st.info("No studies yet: create one on the Study admin page.")
    else:
        names = {s["id"]: f"{s['name']} ({s['code']})" for s in all_studies}
        sid = st.selectbox("Study", list(names), format_func=names.get, key="beyond_study")
        pairs, summary = pg.training.preference_pairs(sid)
        skipped = ", ".join(f"{n} {why}" for why, n in summary["skipped"].items()) or "none"
        st.text(f"{summary['pairs']} preference pairs from {summary['judgements']} judgements (left out: {skipped}).")
        if pairs:
            st.download_button("Download preference pairs (JSONL)", to_jsonl(pairs), f"preferences-{sid}.jsonl",
                               "application/jsonl", key="beyond_download_preferences")
