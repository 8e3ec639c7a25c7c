"""Bias probe: the same questions for two made-up people who differ in one attribute, answers side by side."""

import streamlit as st

from components import state
from components.explain_view import diff_text
from components.safe_text import md
from components.services import model_status
from components.setup import active_profile, page_setup, show_error
from playground import AGE_RANGES, PlaygroundError
from playground.research.probes import bias

LABELS = {"age_range": "age range", "occupation": "occupation", "location": "location", "gender": "gender"}
EXAMPLES = {"occupation": ("nurse", "software engineer"), "location": ("Lagos", "Oslo"), "gender": ("woman", "man")}

pg = page_setup("Bias probe", bias.EXPLAINED)
# Outside the form: choosing the attribute changes the value inputs at once.
attribute = st.selectbox("Attribute to vary", bias.PROBE_ATTRIBUTES, format_func=LABELS.get, key="bias_attribute")
with st.form("bias_form"):
    c1, c2 = st.columns(2)
    if attribute == "age_range":
        ages = [a for a in AGE_RANGES if a]
        first = c1.selectbox("First value", ages, index=ages.index("18-24"), key="bias_age_a")
        second = c2.selectbox("Second value", ages, index=ages.index("65+"), key="bias_age_b")
    else:
        a, b = EXAMPLES[attribute]
        first = c1.text_input("First value", a, key=f"bias_{attribute}_a")
        second = c2.text_input("Second value", b, key=f"bias_{attribute}_b")
    profile = active_profile(pg)
    use_base = st.checkbox("Give both people the active profile's other attributes (interests, tone, notes…)",
                           key="bias_use_base", disabled=profile is None,
                           help="Off: both are blank apart from a neutral name and the attribute.")
    questions = st.text_area("Questions, one per line (a shipped neutral set; write your own)",
                             "\n".join(bias.default_questions()), height=200, key="bias_questions")
    go = st.form_submit_button("Ask both", type="primary")

if go:
    status = model_status(pg)
    if not (status.reachable and status.model):
        st.warning(f"The probe needs a model. {status.problem}")
    else:
        cancel = st.empty()  # shown only while the probe runs
        cancel.button("Cancel", key="bias_cancel", help="Stops the probe; run it again to start over.")
        bar = st.progress(0.0, text="Starting…")

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(done / total, 1.0), text=f"{done} of {total} questions · now: {stage[:80]}")

        try:
            result = bias.run_probe(attribute, [first, second], questions.splitlines(), backend=pg.models,
                                    model=status.model, embed=pg.embedder.embed, count_tokens=pg.tokenizer.count,
                                    budget=pg.settings.prompt_budget, max_tokens=pg.settings.max_tokens,
                                    base=profile if use_base and profile else None, progress=progress,
                                    template=pg.conversations.template_for(status.model))
        except PlaygroundError as e:
            show_error(e)
        else:
            st.session_state[state.BIAS] = result.to_dict()
        bar.empty()
        cancel.empty()

res = st.session_state.get(state.BIAS)
if res:
    a, b = res["values"]
    s = res["summary"]
    st.subheader(f"{LABELS[res['attribute']]}: “{md(a)}” vs “{md(b)}”")
    st.caption(f"Model {md(res['model'])} · temperature 0 · {s['answered']} of {s['questions']} questions answered for "
               f"both · {s['identical_answers']} identical pairs")
    rows = []
    for m, label in (("words", "length (words)"), ("reading_grade", "reading grade (Flesch-Kincaid)"),
                     ("sentiment", "sentiment (VADER, −1…+1)")):
        mdiff = s[m]["mean_difference"]
        rows.append({"measure": label, f"mean for {a}": s[m]["means"][0], f"mean for {b}": s[m]["means"][1],
                     "mean difference (2nd − 1st)": mdiff["mean"],
                     "95% CI": f"{mdiff['ci95'][0]:.2f} to {mdiff['ci95'][1]:.2f}" if mdiff["ci95"]
                     else "— (too few questions)",
                     "sign test": f"{s[m]['sign_test']['positive']}↑ {s[m]['sign_test']['negative']}↓ "
                                  f"p={s[m]['sign_test']['p']:.2f}"})
    st.dataframe(rows, hide_index=True, width="stretch", key="bias_summary")
    ed = s["embedding_distance"]
    st.caption(f"Embedding distance between paired answers (1 − cosine; 0 = same meaning): mean "
               f"{ed['mean'] if ed['mean'] is None else round(ed['mean'], 3)}"
               + (f", 95% CI {ed['ci95'][0]:.3f} to {ed['ci95'][1]:.3f}" if ed["ci95"] else ""))
    st.info(res["note"], icon="🧭")
    with st.expander("The two system prompts (first question)"):
        for values, prompt in zip(res["values"], res["prompts"]):
            st.caption(md(values))
            st.text(prompt[0]["content"])
    for q in res["questions"]:
        with st.expander(md(q["question"])):
            c1, c2 = st.columns(2)
            for col, value, answer, m in zip((c1, c2), res["values"], q["answers"], q["measures"]):
                col.caption(f"{md(value)} · {int(m['words'])} words · grade {m['reading_grade']} · "
                            f"sentiment {m['sentiment']:+.2f}")
                col.text(answer or "(no answer)")
            st.caption("Word diff: [-only for the first-] {+only for the second+}")
            st.text(diff_text(q["diff"]))
