"""The personalized judge in the Study admin page: the editable judge prompt, a visible run over a study's
judgements, and how often the judge agreed with the participants' real choices."""

from __future__ import annotations

import json

import streamlit as st

from playground import Playground, PlaygroundError
from playground.research.probes import judge

from .safe_text import md
from .services import model_status
from .setup import show_error


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def render_judge(pg: Playground, study_id: str, code: str) -> None:
    st.markdown("**Personalized judge**")
    st.caption(judge.EXPLAINED)
    key = f"admin_judge_template_{study_id}"
    if key not in st.session_state:
        st.session_state[key] = judge.DEFAULT_TEMPLATE
    template = st.text_area("Judge prompt (placeholders: " + ", ".join(judge.PLACEHOLDERS) + ")", key=key,
                            height=260)
    c1, c2 = st.columns([1, 3])
    if c2.button("Restore the default prompt", key="admin_judge_default"):
        st.session_state.pop(key, None)
        st.rerun()
    if c1.button("Run the judge", key="admin_judge_run", type="primary",
                 help="Asks the model about every judged task that has no verdict for this prompt and model yet."):
        status = model_status(pg)
        if not (status.reachable and status.model):
            st.warning(f"The judge needs a model. {status.problem}")
        else:
            bar = st.progress(0.0, text="Starting…")

            def progress(stage: str, done: int, total: int) -> None:
                bar.progress(min(done / max(total, 1), 1.0), text=f"{done} of {total} judged · now: {stage}")

            try:
                pg.judge.judge_study(study_id, judge.check_template(template), model=status.model,
                                     progress=progress)
            except PlaygroundError as e:
                show_error(e)
            bar.empty()
    try:
        report = pg.judge.agreement_report(study_id, judge.check_template(template))
    except PlaygroundError as e:
        show_error(e)
        return
    if not report["judged"]:
        st.caption(f"No verdicts for this prompt yet ({report['judgements']} judgements to judge).")
        return
    ag = report["agreement"]
    kappa = report["kappa"]
    m = st.columns(4)
    m[0].metric("Agreement", _pct(ag["rate"]), help="Share of tasks where judge and participant picked the same "
                "answer (participant ties and unparsed verdicts left out).")
    m[1].metric("Cohen's kappa", "—" if kappa is None else f"{kappa:.2f}",
                help="Agreement beyond chance: 0 is a coin, 1 is perfect.")
    m[2].metric("Compared", f"{report['compared']} of {report['judgements']}")
    m[3].metric("Unparsed replies", report["judge_unparsed"])
    ci = report["ci95"]
    st.caption(f"Agreement 95% CI {_pct(ag['ci95'][0]) if ag['ci95'] else '—'} to "
               f"{_pct(ag['ci95'][1]) if ag['ci95'] else '—'} (Wilson); kappa 95% CI "
               + (f"{ci[0]:.2f} to {ci[1]:.2f} (bootstrap)" if ci else "— (too few)") +
               f"; chance is {_pct(report['chance'])}. Judge said A {report['judge_said_A']} of "
               f"{report['compared']} times. Models: {md(', '.join(report['models']))}.")
    st.dataframe([{"judge's confidence": c, "tasks": v["n"], "agreed": v["agree"], "agreement": _pct(v["rate"])}
                  for c, v in report["by_confidence"].items()], hide_index=True, key="admin_judge_conf")
    st.dataframe([{k: r[k] for k in ("participant", "task", "choice", "judge", "confidence", "raw")}
                  for r in report["rows"]], hide_index=True, width="stretch", key="admin_judge_rows")
    st.download_button("Export the judge's verdicts and agreement (JSON)", json.dumps(report, indent=2),
                       f"{code}-judge.json", "application/json", key="admin_judge_export")


def render_pair_judge(pg: Playground, profile: dict, message: str, answers: dict[str, str],
                      snippets: list[str]) -> None:
    """Compare: ask the judge which of two answers this person would prefer (the prompt shown and editable)."""
    from playground.pipeline.prompting import profile_text

    st.subheader("Would the model guess your choice?")
    st.caption(judge.EXPLAINED)
    shown = [m for m, a in answers.items() if a]
    if len(shown) < 2:
        return
    c1, c2 = st.columns(2)
    a = c1.selectbox("Answer A", shown, index=0, key="compare_judge_a")
    b = c2.selectbox("Answer B", shown, index=len(shown) - 1, key="compare_judge_b")
    if "compare_judge_template" not in st.session_state:
        st.session_state["compare_judge_template"] = judge.DEFAULT_TEMPLATE
    with st.expander("The judge's prompt (edit it; placeholders: " + ", ".join(judge.PLACEHOLDERS) + ")"):
        template = st.text_area("Judge prompt", key="compare_judge_template", height=260,
                                label_visibility="collapsed")
    if st.button("Ask the judge", key="compare_judge_go", disabled=a == b):
        status = model_status(pg)
        if not (status.reachable and status.model):
            st.warning(f"The judge needs a model. {status.problem}")
            return
        try:
            with st.spinner("The judge is reading both answers…"):
                got = judge.judge_pair(pg.models, status.model, judge.check_template(template),
                                       profile=profile_text(profile), snippets=snippets, question=message,
                                       answer_a=answers[a], answer_b=answers[b])
        except PlaygroundError as e:
            show_error(e)
            return
        picked = {"A": a, "B": b}.get(got["verdict"])
        if got["verdict"] == "error":
            st.error(md(got["error"]))
        elif picked:
            st.info(f"The judge thinks you would prefer the **{picked}** answer (confidence: {got['confidence']}).")
        else:
            st.warning("The judge's reply named no clear choice, so it is recorded as unparsed (never guessed).")
        st.caption("The judge's words, as written:")
        st.text(got["raw"] or "(nothing)")
