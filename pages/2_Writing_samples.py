"""Writing samples: the richest signal for style and tone. Upload or paste; see how your writing compares."""

import math

import numpy as np
import streamlit as st

from components import writes
from components.charts import embedding_map, project_2d, style_figure
from components.safe_text import md
from components.setup import (
    delete_in_background,
    flash,
    may_edit,
    need_profile,
    page_setup,
    read_only_note,
    report_deletion,
    visible_profiles,
)
from playground import SUPPORTED_FILE_TYPES, PlaygroundError
from playground.library.privacy_scan import LABELS, Finding, describe, known_names, scan
from playground.library.privacy_scan import redact as redact_text
from playground.research.stylecard import card_texts
from playground.research.stylometry import style_at_a_glance
from playground.wording import plural

pg = page_setup("Writing samples", "Your own writing is what user-level retrieval searches. Upload essays, posts or "
                "messages you wrote; each is split into ~200-token chunks and embedded on this machine.")
profile = need_profile(pg)
pid = profile["id"]

FORM = f"samples_add_{pid}"
DELETE_FORM = f"samples_delete_{pid}"
KEEP = f"samples_keep_{pid}"  # pasted text whose adding failed: it goes back into the box
kept = st.session_state.pop(KEEP, None)
if kept:
    st.session_state[writes.form_key(FORM, f"samples_paste_{pid}")] = kept
# Adding runs once per submission in a worker thread that a double click or a reload cannot cut short, and the form
# is then drawn afresh under a new key (components/writes.py): no clear_on_submit, whose cleared second click used
# to warn "Choose a file or paste some text first" while the first click's sample was thrown away.
# Only the browser that made the profile (or the admin) adds or deletes its writing: demo profiles and other people's
# public ones are read-only here (a stranger could paste into, or delete from, someone else's profile).
editable = may_edit(profile)
pending_key = f"samples_pending_{pid}"
files, pasted, title, submitted = [], "", "", False
if not editable:
    read_only_note(profile)
elif st.session_state.get(pending_key):
    pass  # the scan's result is shown first, at the top (it used to land below the fold at 1280×720)
else:
    with st.form(writes.form_key(FORM)):
        files = st.file_uploader(f"Upload files ({', '.join(SUPPORTED_FILE_TYPES)}), several at once if you like",
                                 accept_multiple_files=True, key=writes.form_key(FORM, f"samples_files_{pid}"),
                                 # the widget then states the playground's own limit, not the server's larger one
                                 max_upload_size=max(1, math.ceil(pg.settings.max_upload_mb)))
        pasted = st.text_area("…or paste some text you wrote", key=writes.form_key(FORM, f"samples_paste_{pid}"),
                              height=120)
        title = st.text_input("Title for the pasted text (optional)", key=writes.form_key(FORM, f"samples_title_{pid}"))
        submitted = st.form_submit_button("Add to my samples", type="primary", key=writes.form_key(FORM, "samples_add"))


def add_all(jobs: list[dict], redact: bool, report: writes.Report) -> tuple[list[tuple[str, str]], str]:
    """Store each job (a read and scanned upload) with or without redaction; return the messages to show, and pasted
    text that failed (to give back)."""
    results, keep = [], ""
    for n, job in enumerate(jobs):
        label = job["name"] or "pasted text"

        def step(stage: str, done: int, total: int, n: int = n, label: str = label) -> None:
            frac = (n + (done / total if total and stage in ("embedding", "storing", "done") else 0)) / len(jobs)
            report(frac, f"{label}: {stage} {done}/{total}" if total else f"{label}: {stage}")

        try:
            if job["data"] is not None:
                s = pg.library.add_sample(pid, filename=job["name"], data=job["data"], progress=step, redact=redact)
            else:
                s = pg.library.add_sample(pid, text=job["text"], title=job["title"] or None, progress=step, redact=redact)
        except PlaygroundError as e:
            # The engine's message usually names the file already: say it once.
            results.append(("error", md(str(e) if str(e).startswith(label) else f"{label}: {e}")))
            keep = job["text"] or keep
        else:
            note = f" ({'; '.join(s['notes'])})" if s.get("notes") else ""
            results.append(("success", md(f"{label}: added as “{s['title']}”, "
                                          f"{plural(s['n_chunks'], 'chunk')}{note}")))
            changed = replaced(job) if redact else ""
            if changed:  # after storing, say exactly what was replaced (the person saw it before, too)
                results.append(("info", md(f"{label}: replaced before storing: {changed}")))
    return results, keep


def title_findings(job: dict) -> list[dict]:
    """Personal data in the title the sample would get (typed, or the file's name): titles reach prompts too."""
    title = job["title"] if job["data"] is None else job["name"]
    return [f.to_dict() for f in scan(title or "", known_names(profile))]


def replaced(job: dict) -> str:
    """“Maria” → [NAME], … for everything redaction replaces in a job's text and title."""
    found = [*job.get("findings", []), *job.get("title_findings", [])]
    return ", ".join(f"“{f['text']}” → [{f['type']}]" for f in found)


def start_adding(jobs: list[dict], redact: bool) -> None:
    """Hand the jobs to one background write (a repeated click attaches to it instead of writing again)."""
    sig = writes.signature(redact, *[(j["name"], j["data"], j["text"], j["title"]) for j in jobs])
    if writes.start(FORM, sig, lambda report: add_all(jobs, redact, report)) is None:
        flash("warning", "That was still adding what you sent before. What you chose since is still in the form: "
                         "add it now.")


if submitted:
    jobs = [{"name": f.name, "data": f.getvalue(), "text": None, "title": None} for f in files or []]
    if pasted.strip():
        jobs.append({"name": None, "data": None, "text": pasted, "title": title})
    scanned = []
    for job in jobs:  # 1. read and scan: nothing is stored yet
        try:
            read, findings = pg.library.scan_sample(pid, filename=job["name"], data=job["data"], text=job["text"])
        except PlaygroundError as e:
            label = job["name"] or "pasted text"
            flash("error", md(str(e) if str(e).startswith(label) else f"{label}: {e}"))
            if job["text"]:
                st.session_state[KEEP] = job["text"]
        else:
            scanned.append({**job, "clean": read.text, "findings": [f.to_dict() for f in findings],
                            "title_findings": title_findings(job)})
    if any(j["findings"] or j["title_findings"] for j in scanned):
        st.session_state[pending_key] = scanned  # 2. show what was found and let the person decide
        st.rerun()
    elif scanned:  # nothing found in the texts; the default still covers a title or file name
        start_adding(scanned, pg.library.redaction_default(pid))
    elif jobs:  # none could be read: show why
        st.rerun()
    elif not writes.is_repeat(FORM, ""):
        st.warning("Choose a file or paste some text first.")

pending = st.session_state.get(pending_key) if editable else None
if pending:
    st.subheader("Personal data found: check before storing")
    st.caption("Whatever is stored here can be retrieved into a prompt and sent to the model. The scan looks for "
               "e-mail addresses, phone numbers, web and postal addresses, card and bank numbers (checksums), dates "
               "of birth, and names, but only names after cues like “my name is”, “I’m”, “Dear”, a sign-off or “Letter to”, "
               "and your profile name: it does not know every name, so read your text too.")
    # The decision first, right under the heading; what would be replaced under it (at 720 px the buttons used
    # to land below the fold).
    redact_on = st.checkbox("Replace personal data with placeholders ([EMAIL], [PHONE], [NAME] …) before storing",
                            value=pg.library.redaction_default(pid), key=f"samples_redact_{pid}")
    c1, c2 = st.columns(2)
    if c1.button("Store these samples", type="primary", key=f"samples_store_{pid}"):
        st.session_state.pop(pending_key, None)
        start_adding(pending, redact_on)
    if c2.button("Cancel", key=f"samples_cancel_{pid}"):
        st.session_state.pop(pending_key, None)
        flash("info", "Nothing was stored.")
        st.rerun()
    for n, job in enumerate(pending):
        found = [Finding(**f) for f in job["findings"]]
        in_title = [Finding(**f) for f in job.get("title_findings", [])]
        st.text(f"{job['name'] or 'pasted text'}: {describe(found + in_title)}")
        if found or in_title:
            # What would change, item by item: what was found, where, and what replaces it.
            st.dataframe([{"where": where, "what": LABELS[f.type][0], "found": f.text, "replaced by": f"[{f.type}]"}
                          for where, fs in (("title", in_title), ("text", found)) for f in fs],
                         hide_index=True, width="stretch", key=f"samples_findings_{pid}_{n}")
        if found:
            with st.expander("Preview with placeholders", expanded=True):
                st.text(redact_text(job["clean"], found)[:1500] + ("…" if len(job["clean"]) > 1500 else ""))

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

report_deletion(DELETE_FORM)  # a deletion a second click's run took over: reported here, once
samples = pg.library.list_samples(pid)
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
        text = pg.library.sample_text(chosen)
        st.text(text[:4000] + ("…" if len(text) > 4000 else ""))
    # Keys name the sample: a second click arriving after the first deleted it must not delete the next one.
    sure = False if not editable else st.checkbox(f"Yes, delete “{md(titles[chosen])}”", key=f"samples_delete_sure_{chosen}")
    if editable and st.button("Delete sample", disabled=not sure, key=f"samples_delete_{chosen}"):
        delete_in_background(DELETE_FORM, chosen, lambda: pg.library.delete_sample(chosen),
                          f"Deleted “{md(titles[chosen])}” and its vectors.",
                          after=lambda: st.session_state.pop(f"samples_delete_sure_{chosen}", None))

st.subheader("Style at a glance")
st.caption("Simple features of each person's writing (and each persona's examples), measured from the same samples "
           "and in the same way as the style card on the Profile page. Distinct habits here are what makes writing "
           "recognisable: see the Evaluate page for how often it is.")
# You first, then up to seven others (a workshop may have dozens of profiles).
people = sorted(visible_profiles(pg), key=lambda p: p["id"] != pid)[:8]
rows = []
for p in people:
    texts = card_texts(pg.library, p["id"])[2]
    if texts:
        rows.append({"who": p["display_name"] + (" (you)" if p["id"] == pid else ""), **style_at_a_glance(texts)})
# Your own persona first, then a few others.
for persona in sorted(pg.people.list_personas(), key=lambda x: x["id"] != profile["persona_id"])[:4]:
    rows.append({"who": f"persona: {persona['name']}", **style_at_a_glance(persona["examples"])})
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
    for v in pg.library.chunk_vectors(p["id"], limit=300):
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
