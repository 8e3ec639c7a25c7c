"""Writing samples: the richest signal for style and tone. Upload or paste; see how your writing compares."""

import math

import numpy as np
import streamlit as st

from components.charts import embedding_map, project_2d, style_figure
from components.safe_text import md
from components.setup import act, flash, need_profile, page_setup, visible_profiles
from playground import SUPPORTED_FILE_TYPES, PlaygroundError
from playground.stylometry import style_profile
from playground.vectors import user_collection

pg = page_setup("Writing samples", "Your own writing is what user-level retrieval searches. Upload essays, posts or "
                "messages you wrote; each is split into ~200-token chunks and embedded on this machine.", icon="✍️")
profile = need_profile(pg)
pid = profile["id"]

with st.form(f"samples_add_{pid}", clear_on_submit=True):
    files = st.file_uploader(f"Upload files ({', '.join(SUPPORTED_FILE_TYPES)}), several at once if you like",
                             accept_multiple_files=True, key=f"samples_files_{pid}",
                             # the widget then states the playground's own limit, not the server's larger one
                             max_upload_size=max(1, math.ceil(pg.settings.max_upload_mb)))
    pasted = st.text_area("…or paste some text you wrote", key=f"samples_paste_{pid}", height=120)
    title = st.text_input("Title for the pasted text (optional)", key=f"samples_title_{pid}")
    submitted = st.form_submit_button("Add to my samples", type="primary")

if submitted:
    jobs = [(f.name, f.getvalue(), None) for f in files or []]
    if pasted.strip():
        jobs.append((None, None, pasted))
    if not jobs:
        st.warning("Choose a file or paste some text first.")
    bar = st.progress(0.0) if jobs else None
    results = []
    for n, (name, data, text) in enumerate(jobs):
        label = name or "pasted text"

        def step(stage: str, done: int, total: int, n: int = n, label: str = label) -> None:
            frac = (n + (done / total if total and stage in ("embedding", "storing", "done") else 0)) / len(jobs)
            bar.progress(min(frac, 1.0), text=f"{label}: {stage} {done}/{total}" if total else f"{label}: {stage}")

        try:
            if data is not None:
                s = pg.add_sample(pid, filename=name, data=data, progress=step)
            else:
                s = pg.add_sample(pid, text=text, title=title or None, progress=step)
        except PlaygroundError as e:
            results.append(("error", md(f"{label}: {e}")))
        else:
            note = f" ({'; '.join(s['notes'])})" if s.get("notes") else ""
            results.append(("success", md(f"{label}: added as “{s['title']}”, {s['n_chunks']} chunks{note}")))
    if bar:
        bar.progress(1.0, text="Done")
    for kind, text in results:
        flash(kind, text)
    if results:
        st.rerun()

samples = pg.list_samples(pid)
st.subheader(f"{md(profile['display_name'])}'s samples ({len(samples)})")
if not samples:
    st.info("No writing yet. Without samples, user mode can only use your profile attributes (the cold-start "
            "problem); try auto mode on the Chat page to see the persona stand in.")
else:
    st.dataframe([{"title": s["title"], "type": s["kind"], "characters": s["chars"], "chunks": s["n_chunks"],
                   "added": s["created"][:16].replace("T", " ")} for s in samples], hide_index=True,
                 width="stretch", key=f"samples_table_{pid}")
    titles = {s["id"]: s["title"] for s in samples}
    chosen = st.selectbox("Preview or delete a sample", list(titles), format_func=titles.get, key=f"samples_pick_{pid}")
    with st.expander(f"Preview: {md(titles[chosen])}"):
        text = pg.sample_text(chosen)
        st.text(text[:4000] + ("…" if len(text) > 4000 else ""))
    sure = st.checkbox(f"Yes, delete “{md(titles[chosen])}”", key=f"samples_delete_sure_{pid}")
    if st.button("Delete sample", disabled=not sure, key=f"samples_delete_{pid}"):
        st.session_state.pop(f"samples_delete_sure_{pid}", None)
        act(lambda: pg.delete_sample(chosen), f"Deleted “{md(titles[chosen])}” and its vectors.")

st.subheader("Style at a glance")
st.caption("Simple features of each person's writing (and each persona's examples). Distinct habits here are what "
           "makes writing recognisable: see the Evaluate page for how often it is.")
# You first, then up to seven others (a workshop may have dozens of profiles).
people = sorted(visible_profiles(pg), key=lambda p: p["id"] != pid)[:8]
rows = []
for p in people:
    texts = [pg.sample_text(s["id"])[:20000] for s in pg.list_samples(p["id"])[:5]]
    if texts:
        rows.append({"who": p["display_name"] + (" (you)" if p["id"] == pid else ""),
                     **style_profile("\n\n".join(texts))})
# Your own persona first, then a few others.
for persona in sorted(pg.list_personas(), key=lambda x: x["id"] != profile["persona_id"])[:4]:
    rows.append({"who": f"persona: {persona['name']}", **style_profile("\n\n".join(persona["examples"]))})
if rows:
    st.plotly_chart(style_figure(rows), width="stretch", key="samples_style")

st.subheader("Embedding map")
st.caption("Every chunk as a point: closer points mean more similar meaning to the embedding model. Type a query to "
           "see where it lands; user-mode retrieval takes your nearest points.")
query = st.text_input("Mark a query on the map", key=f"samples_map_query_{pid}")
points, vectors = [], []
for p in people:
    for v in pg.vectors.get(user_collection(p["id"]), embeddings=True)[:300]:
        mine = p["id"] == pid
        points.append({"owner": p["display_name"] + (" (you)" if mine else ""),
                       "label": (v.text[:90] + "…") if mine else f"a chunk of {p['display_name']}'s writing"})
        vectors.append(v.embedding)
if len(vectors) >= 3:
    xy, qxy = project_2d(np.vstack(vectors), np.asarray(pg.embed_query(query)) if query.strip() else None)
    for pt, (x, y) in zip(points, xy):
        pt["x"], pt["y"] = float(x), float(y)
    q = {"x": float(qxy[0][0]), "y": float(qxy[0][1])} if len(qxy) else None
    st.plotly_chart(embedding_map(points, q), width="stretch", key="samples_map")
else:
    st.caption("The map appears once there are a few chunks.")
