"""Personalization Playground: the entry point and Home page."""

import streamlit as st

from components.charts import PIPELINE_DOT
from components.safe_text import md
from components.services import model_status
from components.setup import flash, link_to, page_setup, select_profile, show_error
from playground import PlaygroundError
from playground.models.embedded_llm import SMALL_MODEL_NOTE

pg = page_setup("Personalization Playground",
                "See how a language model's answer changes when it knows about you: your profile, your writing, "
                "or the group you belong to.")

st.markdown(
    "**Personalization** means an assistant adapts its answer to the person asking. Here it works the way most "
    "research systems do: your message is used to **retrieve** the most similar passages from your own writing, "
    "those passages and your profile are put into the **prompt**, and the model answers from that prompt. "
    "The Chat page shows every step, and lets you switch between **user** (your own data), **persona** (a group's "
    "shared data) and **global** (no personal data at all)."
)
st.subheader("Start a workshop in one click")
st.markdown("Creates three demo profiles from the *Federalist Papers* (public domain): **Alexander Hamilton**, "
            "**James Madison** and **John Jay**, each with three of their essays as writing samples.")
if st.button("Load demo data", type="primary", key="home_load_demo"):
    # Progress from the first moment, right under the button (it used to sit at 0% for ~20 s below the fold at 720p).
    bar = st.progress(0.02, text="Loading the embedding model (up to half a minute the first time)…")
    report: dict = {}
    try:
        if not getattr(pg.embedder, "loaded", True):
            pg.warm_up()
        bar.progress(0.05, text="Embedding the essays…")
        # Another browser may be loading it right now: this one waits for it (playground/demo.py holds a lock).
        profiles = pg.demo.load(report=report, on_wait=lambda: bar.progress(
            0.05, text="Someone else is loading the demo data right now: waiting for them…"),
            progress=lambda who, done, total: bar.progress(
                0.05 + 0.95 * done / total, text=f"{who}: essay {done} of {total} embedded"))
    except PlaygroundError as e:
        bar.empty()  # no progress bar left standing at a fraction
        show_error(e)
    else:
        bar.progress(1.0, text="Done")
        names = ", ".join(md(p["display_name"]) for p in profiles)
        flash("success", (f"Demo data ready: {names}." if report.get("added") else
                          f"The demo data is already loaded: {names}.") +
              f" {md(profiles[0]['display_name'])} is now the active profile: open Chat and ask something.")
        select_profile(profiles[0]["id"])
        st.rerun()
link_to(pg, "Chat", label="Open Chat")

st.graphviz_chart(PIPELINE_DOT, width="stretch")

st.subheader("Status")
c1, c2, c3 = st.columns(3)
with c1:
    emb = pg.embedder
    loaded = getattr(emb, "loaded", True)
    st.markdown(f"**Embedding model** · {getattr(emb, 'name', 'custom')}")
    st.caption("Loaded ✓" if loaded else "Loads on first use, offline from the installed package: about 20 seconds "
               "on a laptop, longer on a busy machine.")
with c2:
    store = pg.vector_store_status()
    st.markdown(f"**Vector store** · Chroma {'✓' if store['reachable'] else '✗'}")
    st.caption(store["where"] if store["reachable"] else f"Not reachable at {store['where']}: start it with `chroma run`.")
with c3:
    status = model_status(pg)
    st.markdown(f"**Model** · {status.backend} {'✓' if status.can_answer else '✗'}")
    if status.state == "busy":
        st.caption(f"⏳ {md(status.note)}")
    elif status.reachable and status.model and status.backend == "embedded":
        st.caption(f"Chatting with **{md(status.model)}**, built into the playground (no server needed). "
                   + SMALL_MODEL_NOTE)
    elif status.reachable and status.model:
        st.caption(f"Chatting with **{md(status.model)}** at {md(status.where)}. Installed: "
                   f"{md(', '.join(status.models[:6]))}")
    elif status.state == "slow":
        st.caption(f"⏳ {md(status.problem)}")
    else:
        st.caption(status.problem)
        st.caption("Everything else works without a model: profiles, samples, retrieval and the prompt preview.")

with st.expander("Settings in use (from PLAYGROUND_* environment variables)"):
    st.json(pg.settings.public())
