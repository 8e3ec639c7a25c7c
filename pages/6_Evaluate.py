"""Evaluate: does personalization help, and how recognisable is each person's writing?"""

import streamlit as st

from components.charts import confusion_figure, metrics_figure, recognisable_figure
from components.safe_text import answer_md, md
from components.setup import need_profile, page_setup, show_error, visible_profiles
from playground import RETRIEVERS, InvalidInput, PlaygroundError
from playground.research.attribution import METHODS, attribute
from playground.research.eval_stats import evaluation_csv
from playground.research.evaluation import CONDITIONS, METRICS
from playground.research.trained_attribution import explain
from playground.wording import metric_name, plural

pg = page_setup("Evaluate", "Measure personalization the way the research benchmarks do: recognisability of writing "
                "(authorship attribution) and closeness of generated text to what a person really wrote (LaMP-style).")

st.subheader("How recognisable is each person's writing?")
st.caption("Each writing sample is scored by a model that never saw it and given to the profile it most resembles. "
           "Needs at least two profiles with two or more samples each.")
st.markdown("**Trust *trained*.** It learns which word and character patterns separate these people (a linear "
            "classifier, scored by k-fold cross-validation), and it holds on ordinary writing: 0.80 on blog posts by "
            "60 people and 0.96 on the Federalist essays. The other four are nearest-neighbour methods kept for "
            "teaching: *style* (function-word rates) works on the three Federalist authors but is near chance on "
            "everyday writing; *dense* (embeddings) captures topic, not style; *bm25* and *hybrid* match shared words.")
method = st.radio("Method", METHODS, horizontal=True, key="eval_method")
if st.button("Run attribution", key="eval_attr_run"):
    try:
        with st.spinner("Comparing every sample with every profile…"):
            docs = pg.attribution.profile_docs(visible_profiles(pg))
            st.session_state["eval_attr"] = (method, attribute(docs, method).to_dict())
    except PlaygroundError as e:
        show_error(e)
if "eval_attr" in st.session_state:
    used, res = st.session_state["eval_attr"]
    names = {p["id"]: p["display_name"] for p in visible_profiles(pg)}
    st.caption(f"Protocol: {res['protocol']}.")
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Accuracy ({used})", f"{res['accuracy']:.0%}", f"{res['accuracy'] - res['majority_baseline']:+.0%} "
              "vs majority")
    c2.metric("Majority-class baseline", f"{res['majority_baseline']:.0%}")
    c3.metric("Chance", f"{res['chance_baseline']:.0%}")
    for pid, a in res["authors"].items():
        st.markdown(f"- **{md(names.get(pid, pid))}**: recognisable {a['recognisable']:.0%} of the time "
                    f"({a['correct']} of {plural(a['n'], 'sample')})")
    st.plotly_chart(confusion_figure(res["confusion"], names), width="stretch", key="eval_confusion")

st.subheader("What makes each person recognisable?")
st.caption("The n-grams the trained classifier weighs most for a person (fitted on all samples: this explains the "
           "model, the accuracy above comes only from held-out samples; · marks a space), and the function words and "
           "punctuation marks they use more (green, right) or less (red, left) than everyone else.")
if st.button("Explain", key="eval_explain_run"):
    try:
        with st.spinner("Fitting the classifier on every sample…"):
            docs = pg.attribution.profile_docs(visible_profiles(pg))
            if len({d.author for d in docs}) < 2:
                raise InvalidInput("The explanation needs at least two profiles with two or more samples each.")
            st.session_state["eval_explain"] = explain([d.text for d in docs], [d.author for d in docs])
    except PlaygroundError as e:
        show_error(e)
if "eval_explain" in st.session_state:
    explained = st.session_state["eval_explain"]
    names = {p["id"]: p["display_name"] for p in visible_profiles(pg)}
    who = st.selectbox("Whose writing", [a for a in explained if a in names], format_func=names.get,
                       key="eval_explain_who")
    if who:
        st.plotly_chart(recognisable_figure(explained[who]), width="stretch", key="eval_recognisable")

st.divider()
profile = need_profile(pg)
st.subheader(f"Does personalization help {md(profile['display_name'])}? (held-out evaluation)")
st.caption("Some of your samples are held out; for each, the model is asked to write it (from its title and first "
           "sentence) under each condition, and the output is scored against what you actually wrote. Held-out "
           "samples are never retrieved while they are evaluated. ROUGE-1/ROUGE-L as in LaMP; METEOR with exact and "
           "stem matches only (no WordNet on this machine); cosine similarity of embeddings.")
c1, c2, c3 = st.columns(3)
holdout = c1.number_input("Samples to hold out", 1, 10, 1, key="eval_holdout")
conditions = c2.multiselect("Conditions", CONDITIONS, default=["user", "user+style", "global", "none"] +
                            (["persona"] if profile["persona_id"] else []), key="eval_conditions",
                            help="none = your profile, but no retrieval · user+style = user plus a style card measured "
                                 "from your samples that are not held out")
retriever = c3.radio("Retriever", RETRIEVERS, horizontal=True, key="eval_retriever")
if st.button("Run evaluation", type="primary", key="eval_run"):
    bar = st.progress(0.0, text="Generating…")
    try:
        held = [s["id"] for s in pg.library.list_samples(profile["id"])[-int(holdout):]]
        attributor = pg.evaluation.build_attributor(visible_profiles(pg), held)
        result = pg.evaluation.evaluate_profile(profile["id"], holdout=int(holdout), conditions=conditions,
                                                retriever=retriever,
                                                progress=lambda d, t: bar.progress(d / t, text=f"generation {d} of {t}"),
                                                attributor=attributor)
    except PlaygroundError as e:
        show_error(e)
    else:
        st.session_state["eval_result"] = result.to_dict()
res = st.session_state.get("eval_result")
if res and res["profile_id"] == profile["id"]:
    summary = {c: v for c, v in res["summary"].items()}
    # Friendly column names: a workshop reads "similarity to what you wrote", not sim_reference.
    st.dataframe([{"condition": c, **{metric_name(m): v[m] for m in METRICS}, metric_name("n"): v["n"]}
                  for c, v in summary.items()], hide_index=True, width="stretch", key="eval_table")
    st.caption(f"{metric_name('attributed')}: share of outputs the trained attribution method gives to you among the "
               f"visible profiles (empty with fewer than two profiles) · {metric_name('style_distance')}: how far the "
               "output's style habits are from yours, in standard deviations of the reference writers (lower is "
               f"closer) · {metric_name('words')}: not a score, but ROUGE and METEOR favour longer answers, so a "
               "condition that writes more can look better for that alone.")
    shown = [m for m in METRICS if m not in ("style_distance", "words")]  # the chart's scale is 0 to 1
    st.plotly_chart(metrics_figure({c: {metric_name(m): v[m] for m in shown} for c, v in summary.items()},
                                   [metric_name(m) for m in shown]), width="stretch", key="eval_metrics")
    rows = res["rows"]
    # Titles and outputs are people's text: evaluation_csv neutralises cells a spreadsheet would run as formulas.
    st.download_button("Download all items as CSV", evaluation_csv(rows), "evaluation.csv", "text/csv", key="eval_csv")
    labels = [f"{r['title'][:50]} · {r['condition']}" for r in rows]
    pick = st.selectbox("Look at one item", range(len(rows)), format_func=lambda i: labels[i], key="eval_item")
    r = rows[pick]
    st.caption(f"ROUGE-1 {r['rouge1']:.3f} · ROUGE-L {r['rougeL']:.3f} · METEOR {r['meteor']:.3f} · "
               f"similarity to the held-out text {r['sim_reference']:.3f}" +
               (f" · style distance {r['style_distance']:.2f}" if r.get("style_distance") is not None else "") +
               (f" · attributed to you: {'yes' if r['attributed'] else 'no'}" if r.get("attributed") is not None
                else "") + (f" · error: {md(r['error'])}" if r["error"]
                                                                              else ""))
    a, b, c = st.columns(3)
    a.markdown("**Prompt**")
    a.code("\n\n".join(f"[{m['role']}]\n{m['content']}" for m in r["messages"]), language=None, wrap_lines=True)
    b.markdown("**Model output**")
    b.markdown(answer_md(r["output"] or "") or "_none_")
    c.markdown("**What you wrote (held out)**")
    c.text(r["reference"][:3000])
