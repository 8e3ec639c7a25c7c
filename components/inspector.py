"""The personalization inspector: what was retrieved, and the exact prompt, part by part."""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from .charts import prompt_tokens_figure
from .safe_text import md

# Streamlit's markdown colours for each prompt source (the plotly charts use the matching hex colours).
SOURCE_MD = {"instructions": "gray", "persona": "violet", "profile": "blue", "summary": "green",
             "snippets": "orange", "snippet": "orange", "history": "gray", "message": "green"}
WHERE = {"instructions": "the playground's global instructions", "persona": "the persona's description",
         "profile": "the profile's attributes", "summary": "the model-written summary of the writing",
         "snippets": "the playground (how to read the snippets)", "snippet": "retrieved from writing samples",
         "history": "earlier turns of this chat", "message": "what was typed"}


def render_resolution(prompt: Mapping[str, Any]) -> None:
    res = prompt.get("resolution")
    if res:
        st.info(f"**auto → {res['mode']}**: {md(res['reason'])}", icon="🧭")  # the reason names people


def render_snippets(hits: list[Mapping[str, Any]], mode: str) -> None:
    if mode == "global":
        st.caption("Global mode retrieves nothing: no personal data reaches the prompt.")
        return
    if not hits:
        st.caption("No snippets were retrieved (no writing in this scope matched, or all were below the threshold).")
        return
    # The text comes right after the score: in the narrow inspector column the later columns need scrolling.
    rows = [{"#": h["rank"], "score": round(h["score"], 3), "text": h["text"],
             "from": h.get("owner_name") or h["owner_id"], "sample": h["sample_title"], "chunk": h["position"]}
            for h in hits]
    st.dataframe(rows, hide_index=True, width="stretch", key=None,
                 column_config={"#": st.column_config.NumberColumn(width=32),
                                "score": st.column_config.NumberColumn(width=60, format="%.3f"),
                                "text": st.column_config.TextColumn(width="medium", help="hover to read it all"),
                                "from": st.column_config.TextColumn(width="small"),
                                "sample": st.column_config.TextColumn(width="medium")})


def render_prompt(prompt: Mapping[str, Any], key: str) -> None:
    parts = prompt["parts"]
    total, budget = prompt["tokens"], prompt["budget"]
    st.markdown(f"**{total} tokens** of a {budget}-token budget · {len(parts)} parts")
    st.plotly_chart(prompt_tokens_figure(parts, budget), width="stretch", key=f"{key}_tokens",
                    config={"displayModeBar": False})
    if prompt.get("cut"):
        st.warning("Cut to fit the budget: " + ", ".join(f"{md(c['label'])} ({c['tokens']} tokens)"
                                                         for c in prompt["cut"]))
    for p in parts:
        color = SOURCE_MD.get(p["source"], "gray")
        st.markdown(f":{color}[**{md(p['label'])}**] · {p['tokens']} tokens · from "  # labels hold sample titles
                    f"{WHERE.get(p['source'], p['source'])}")
        st.code(p["text"], language=None, wrap_lines=True)


def render_trace_summary(trace: Mapping[str, Any]) -> None:
    bits = [f"mode **{trace['mode']}**", f"retriever {trace['retrieval']['retriever']}, k={trace['retrieval']['k']}"]
    if trace.get("model"):
        bits.append(f"model **{md(trace['model'])}**")
    if trace.get("latency_s") is not None and trace.get("status") != "error":
        bits.append(f"{trace['latency_s']:.2f} s")
    if trace.get("ttft_s") is not None:
        bits.append(f"first token {trace['ttft_s']:.2f} s")
    bits.append(f"prompt {trace['prompt_tokens']} tokens")
    if trace.get("output_tokens") is not None and trace.get("status") != "error":
        est = " (estimated)" if trace.get("output_tokens_estimated") else ""
        bits.append(f"answer {trace['output_tokens']} tokens{est}")
    st.caption(" · ".join(bits))


def render_trace(trace: Mapping[str, Any], key: str) -> None:
    """Everything about one turn: summary line, snippets, prompt."""
    render_trace_summary(trace)
    render_resolution(trace["prompt"])
    st.markdown("**Retrieved snippets**")
    render_snippets(trace["hits"], trace["mode"])
    st.markdown("**The prompt sent to the model**")
    render_prompt(trace["prompt"], key)
