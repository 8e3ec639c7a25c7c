"""Writing samples: the richest signal for style and tone. Upload or paste; see how your writing compares."""

import math

import numpy as np
import streamlit as st

from components import writes
from components.charts import embedding_map, project_2d, style_figure
from components.setup import act, flash, need_profile, page_setup, visible_profiles
from playground import SUPPORTED_FILE_TYPES, PlaygroundError
from playground.stylometry import style_profile
from playground.vectors import user_collection
from playground.wording import plural

pg = page_setup("Writing samples", "Your own writing is what user-level retrieval searches. Upload essays, posts or "
                "messages you wrote; each is split into ~200-token chunks and embedded on this machine.", icon="✍️")
profile = need_profile(pg)
pid = profile["id"]

FORM = f"samples_add_{pid}"
KEEP = f"samples_keep_{pid}"  # pasted text whose adding failed: it goes back into the box
kept = st.session_state.pop(KEEP, None)
if kept:
    st.session_state[writes.form_key(FORM, f"samples_paste_{pid}")] = kept
# Adding runs once per submission in a worker thread that a double click or a reload cannot cut short, and the form
# is then drawn afresh under a new key (components/writes.py): no clear_on_submit, whose cleared second click used
# to warn "Choose a file or paste some text first" while the first click's sample was thrown away.
with st.form(writes.form_key(FORM)):
    files = st.file_uploader(f"Upload files ({', '.join(SUPPORTED_FILE_TYPES)}), several at once if you like",
                             accept_multiple_files=True, key=writes.form_key(FORM, f"samples_files_{pid}"),
                             # the widget then states the playground's own limit, not the server's larger one
                             max_upload_size=max(1, math.ceil(pg.settings.max_upload_mb)))
    pasted = st.text_area("…or paste some text you wrote", key=writes.form_key(FORM, f"samples_paste_{pid}"),
                          height=120)
    title = st.text_input("Title for the pasted text (optional)", key=writes.form_key(FORM, f"samples_title_{pid}"))
    submitted = st.form_submit_button("Add to my samples", type="primary", key=writes.form_key(FORM, "samples_add"))


def add_all(jobs: list, title: str, report: writes.Report) -> tuple[list[tuple[str, str]], str]:
    """Add each file or text; return the messages to show, and pasted text that failed (to give back)."""
    results, keep = [], ""
    for n, (name, data, text) in enumerate(jobs):
        label = name or "pasted text"

        def step(stage: str, done: int, total: int, n: int = n, label: str = label) -> None:
            frac = (n + (done / total if total and stage in ("embedding", "storing", "done") else 0)) / len(jobs)
            report(frac, f"{label}: {stage} {done}/{total}" if total else f"{label}: {stage}")

        try:
            if data is not None:
                s = pg.add_sample(pid, filename=name, data=data, progress=step)
            else:
                s = pg.add_sample(pid, text=text, title=title or None, progress=step)
        except PlaygroundError as e:
            # The engine's message usually names the file already: say it once.
            results.append(("error", str(e) if str(e).startswith(label) else f"{label}: {e}"))
            keep = text or keep
        else:
            note = f" ({'; '.join(s['notes'])})" if s.get("notes") else ""
            results.append(("success", f"{label}: added as “{s['title']}”, {plural(s['n_chunks'], 'chunk')}{note}"))
    return results, keep


if submitted:
    jobs = [(f.name, f.getvalue(), None) for f in files or []]
    if pasted.strip():
        jobs.append((None, None, pasted))
    sig = writes.signature(title, *[(name, data, text) for name, data, text in jobs]) if jobs else ""
    if jobs and writes.start(FORM, sig, lambda report: add_all(jobs, title, report)) is None:
        flash("warning", "That was still adding what you sent before. What you chose since is still in the form: "
                         "add it now.")
    elif not writes.is_repeat(FORM, ""):
        st.warning("Choose a file or paste some text first.")
job = writes.current(FORM)
if job:
    bar = st.progress(job.progress, text=job.text or "Reading…")
    writes.wait(job, lambda frac, text: bar.progress(frac, text=text or "Reading…"))
    if job.error is not None:
        raise job.error  # not a PlaygroundError (those are in the results): a bug, shown as one
    bar.progress(1.0, text="Done")
    results, keep = job.result
    for kind, text in results:
        flash(kind, text)
    if keep:
        st.session_state[KEEP] = keep
    writes.finish(FORM)
    st.rerun()

samples = pg.list_samples(pid)
st.subheader(f"{profile['display_name']}'s samples ({len(samples)})")
if not samples:
    st.info("No writing yet. Without samples, user mode can only use your profile attributes (the cold-start "
            "problem); try auto mode on the Chat page to see the persona stand in.")
else:
    st.dataframe([{"title": s["title"], "type": s["kind"], "characters": s["chars"], "chunks": s["n_chunks"],
                   "added": s["created"][:16].replace("T", " ")} for s in samples], hide_index=True,
                 width="stretch", key=f"samples_table_{pid}")
    titles = {s["id"]: s["title"] for s in samples}
    chosen = st.selectbox("Preview or delete a sample", list(titles), format_func=titles.get, key=f"samples_pick_{pid}")
    with st.expander(f"Preview: {titles[chosen]}"):
        text = pg.sample_text(chosen)
        st.text(text[:4000] + ("…" if len(text) > 4000 else ""))
    # Keys name the sample: a second click arriving after the first deleted it must not delete the next one.
    sure = st.checkbox(f"Yes, delete “{titles[chosen]}”", key=f"samples_delete_sure_{chosen}")
    if st.button("Delete sample", disabled=not sure, key=f"samples_delete_{chosen}"):
        st.session_state.pop(f"samples_delete_sure_{chosen}", None)
        act(lambda: pg.delete_sample(chosen), f"Deleted “{titles[chosen]}” and its vectors.")

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
st.caption("⚠️ A flat picture of a 384-dimensional space: squeezing it into two dimensions distorts distances, so two "
           "points that look close may not be, and the snippets the Chat retrieves can sit far from the star. Read "
           "it as a rough sketch; the scores in the Chat inspector are the real similarities.")
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
