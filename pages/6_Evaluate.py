"""Evaluate: does personalization help, and how recognisable is each person's writing?"""

import csv
import io

import streamlit as st

from components.charts import confusion_figure, metrics_figure
from components.safe_text import answer_md, md
from components.setup import need_profile, page_setup, show_error, visible_profiles
from playground import RETRIEVERS, PlaygroundError
from playground.attribution import METHODS, attribute, profile_docs
from playground.evaluation import CONDITIONS, METRICS, evaluate_profile

pg = page_setup("Evaluate", "Measure personalization the way the research benchmarks do: recognisability of writing "
                "(authorship attribution) and closeness of generated text to what a person really wrote (LaMP-style).",
                icon="📏")

st.subheader("How recognisable is each person's writing?")
st.caption("Each writing sample is held out in turn and given to the profile whose other samples it is closest to. "
           "Needs at least two profiles with two or more samples each. *style* uses function-word rates (how often "
           "someone writes “upon”, “whilst”, “the”…); *dense* uses embeddings, which capture topic more than style.")
method = st.radio("Representation", METHODS, horizontal=True, key="eval_method")
if st.button("Run attribution", key="eval_attr_run"):
    try:
        with st.spinner("Comparing every sample with every profile…"):
            docs = profile_docs(pg, visible_profiles(pg))
            st.session_state["eval_attr"] = (method, attribute(docs, method).to_dict())
    except PlaygroundError as e:
        show_error(e)
if "eval_attr" in st.session_state:
    used, res = st.session_state["eval_attr"]
    names = {p["id"]: p["display_name"] for p in visible_profiles(pg)}
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Accuracy ({used})", f"{res['accuracy']:.0%}", f"{res['accuracy'] - res['majority_baseline']:+.0%} "
              "vs majority")
    c2.metric("Majority-class baseline", f"{res['majority_baseline']:.0%}")
    c3.metric("Chance", f"{res['chance_baseline']:.0%}")
    for pid, a in res["authors"].items():
        st.markdown(f"- **{md(names.get(pid, pid))}**: recognisable {a['recognisable']:.0%} of the time "
                    f"({a['correct']} of {a['n']} samples)")
    st.plotly_chart(confusion_figure(res["confusion"], names), width="stretch", key="eval_confusion")

st.divider()
profile = need_profile(pg)
st.subheader(f"Does personalization help {md(profile['display_name'])}? (held-out evaluation)")
st.caption("Some of your samples are held out; for each, the model is asked to write it (from its title and first "
           "sentence) under each condition, and the output is scored against what you actually wrote. Held-out "
           "samples are never retrieved while they are evaluated. ROUGE-1/ROUGE-L as in LaMP; METEOR with exact and "
           "stem matches only (no WordNet on this machine); cosine similarity of embeddings.")
c1, c2, c3 = st.columns(3)
holdout = c1.number_input("Samples to hold out", 1, 10, 1, key="eval_holdout")
conditions = c2.multiselect("Conditions", CONDITIONS, default=["user", "global", "none"] +
                            (["persona"] if profile["persona_id"] else []), key="eval_conditions",
                            help="none = your profile, but no retrieval")
retriever = c3.radio("Retriever", RETRIEVERS, horizontal=True, key="eval_retriever")
if st.button("Run evaluation", type="primary", key="eval_run"):
    bar = st.progress(0.0, text="Generating…")
    try:
        result = evaluate_profile(pg, profile["id"], holdout=int(holdout), conditions=conditions, retriever=retriever,
                                  progress=lambda d, t: bar.progress(d / t, text=f"generation {d} of {t}"))
    except PlaygroundError as e:
        show_error(e)
    else:
        st.session_state["eval_result"] = result.to_dict()
res = st.session_state.get("eval_result")
if res and res["profile_id"] == profile["id"]:
    summary = {c: v for c, v in res["summary"].items()}
    st.dataframe([{"condition": c, **{m: v[m] for m in METRICS}, "n": v["n"]} for c, v in summary.items()],
                 hide_index=True, width="stretch", key="eval_table")
    st.plotly_chart(metrics_figure(summary, METRICS), width="stretch", key="eval_metrics")
    rows = res["rows"]
    buf = io.StringIO()
    fields = [f for f in rows[0] if f not in ("messages",)]
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    st.download_button("Download all items as CSV", buf.getvalue(), "evaluation.csv", "text/csv", key="eval_csv")
    labels = [f"{r['title'][:50]} · {r['condition']}" for r in rows]
    pick = st.selectbox("Look at one item", range(len(rows)), format_func=lambda i: labels[i], key="eval_item")
    r = rows[pick]
    st.caption(f"ROUGE-1 {r['rouge1']:.3f} · ROUGE-L {r['rougeL']:.3f} · METEOR {r['meteor']:.3f} · "
               f"similarity to the held-out text {r['sim_reference']:.3f}" + (f" · error: {md(r['error'])}" if r["error"]
                                                                              else ""))
    a, b, c = st.columns(3)
    a.markdown("**Prompt**")
    a.code("\n\n".join(f"[{m['role']}]\n{m['content']}" for m in r["messages"]), language=None, wrap_lines=True)
    b.markdown("**Model output**")
    b.markdown(answer_md(r["output"] or "") or "_none_")
    c.markdown("**What you wrote (held out)**")
    c.text(r["reference"][:3000])
