"""Plotly figure builders: pure functions from plain data to figures. Nothing here renders or touches state."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SOURCE_COLORS = {
    "instructions": "#6c757d", "persona": "#8e44ad", "profile": "#2e86c1", "summary": "#16a085", "style": "#c0392b",
    "snippets": "#d4ac0d", "snippet": "#f39c12", "history": "#7f8c8d", "message": "#27ae60",
}
PALETTE = ["#2e86c1", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#d4ac0d", "#7f8c8d", "#34495e"]


PIPELINE_DOT = """
digraph pipeline {
  rankdir=LR; bgcolor="transparent";
  node [shape=box, style="rounded,filled", fillcolor="#eaf2f8", color="#2e86c1", fontname="Helvetica", fontsize=13];
  edge [color="#2e86c1", penwidth=2];
  query [label="query\nyour message"];
  data [label="your data\nprofile · writing · persona", fillcolor="#fef5e7", color="#f39c12"];
  retrieve [label="retrieve\ntop-k snippets\n(dense · BM25 · hybrid)"];
  prompt [label="prompt\ninstructions + profile/persona\n+ snippets + history + message"];
  llm [label="LLM\nthe answer"];
  query -> retrieve -> prompt -> llm;
  data -> retrieve; data -> prompt [style=dashed];
}
"""
"""The survey's pipeline (query → retrieve → prompt → LLM) as Graphviz DOT, drawn by st.graphviz_chart."""


def pipeline_with_routes(routes: Sequence[Any], selected: str | None = None) -> str:
    """PIPELINE_DOT with each route beyond prompting as a note attached (dashed) to the stages it changes; the
    selected route and its stages are highlighted. ``routes``: objects with ``id``, ``name`` and ``stages``."""
    lines = []
    for r in routes:
        on = r.id == selected
        name = r.name.split(":")[0].replace('"', "'")
        lines.append(f'  route_{r.id} [label="{name}", shape=note, fontsize=11, '
                     f'fillcolor="{"#f5b7b1" if on else "#f4ecf7"}", color="{"#c0392b" if on else "#8e44ad"}"];')
        for stage in r.stages:
            lines.append(f'  route_{r.id} -> {stage} [style=dashed, color="{"#c0392b" if on else "#bb8fce"}", '
                         f'penwidth={2 if on else 1}, arrowhead=vee];')
    chosen = next((r for r in routes if r.id == selected), None)
    for stage in chosen.stages if chosen else ():
        lines.append(f'  {stage} [color="#c0392b", penwidth=3];')
    return PIPELINE_DOT.rstrip().rstrip("}") + "\n".join(lines) + "\n}\n"


def plain(text: Any) -> str:
    """Text a person wrote (names, titles, n-grams, conditions), as plotly must show it: literally. Plotly renders a
    subset of HTML in every label, legend, tick and hover (``<a href>``, ``<img>``-like tags, ``<b>``): a display name
    like ``<a href="http://host/x">x</a>`` made every viewer's browser fetch or link a URL. Escapes ``&``, ``<`` and
    ``>``; plotly shows the entities as the characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _hover(text: Any) -> str:
    """Literal text inside a hovertemplate: escaped, and ``%`` doubled-up so ``%{x}`` in a name is not a template."""
    return plain(text).replace("%", "&#37;")


def prompt_tokens_figure(parts: Sequence[Mapping[str, Any]], budget: int) -> go.Figure:
    """One stacked bar: how the prompt's tokens split by source, against the budget."""
    fig = go.Figure()
    for p in parts:
        fig.add_bar(y=["prompt"], x=[p["tokens"]], orientation="h", name=plain(p["label"]),
                    marker_color=SOURCE_COLORS.get(p["source"], "#999"),
                    hovertemplate=f"{_hover(p['label'])}: %{{x}} tokens")
    fig.add_vline(x=budget, line_dash="dash", line_color="#c0392b", annotation_text=f"budget {budget}")
    fig.update_layout(barmode="stack", height=130, showlegend=False, margin=dict(l=0, r=0, t=20, b=0),
                      xaxis_title="tokens")
    fig.update_yaxes(visible=False)
    return fig


def style_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Style features side by side: one small bar chart per feature, one bar per person or persona."""
    if not rows:
        return go.Figure()
    features = [k for k in rows[0] if k != "who"]
    fig = make_subplots(rows=1, cols=len(features), subplot_titles=features)
    # One trace per person, so the legend names each colour once (rotated names under every bar are unreadable).
    for i, r in enumerate(rows):
        for c, f in enumerate(features, 1):
            who = plain(r["who"])
            fig.add_bar(x=[who], y=[r[f]], row=1, col=c, name=who, legendgroup=f"g{i}",
                        showlegend=c == 1, marker_color=PALETTE[i % len(PALETTE)],
                        hovertemplate=f"{_hover(r['who'])}<br>{_hover(f)}: %{{y}}<extra></extra>")
    fig.update_annotations(font_size=12)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), barmode="overlay", bargap=0.1,
                      legend=dict(orientation="h", yanchor="top", y=-0.05, x=0))
    fig.update_xaxes(showticklabels=False)
    return fig


def project_2d(vectors: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Principal-component projection to two dimensions (numpy SVD; no extra dependency).

    The axes are fitted on ``vectors`` only; ``extra`` points (e.g. a query) are projected onto the same axes, so
    marking a query does not move the map. Returns (vectors in 2-D, extra in 2-D)."""
    extra = np.zeros((0, vectors.shape[1] if len(vectors) else 0)) if extra is None else np.atleast_2d(extra)
    if len(vectors) == 0:
        return np.zeros((0, 2)), np.zeros((len(extra), 2))
    mean = vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    basis = vt[:2].T
    return (vectors - mean) @ basis, (extra - mean) @ basis if len(extra) else np.zeros((0, 2))


def embedding_map(points: Sequence[Mapping[str, Any]], query: Mapping[str, Any] | None = None) -> go.Figure:
    """Chunks as dots in 2-D, coloured by owner; the current query as a star."""
    fig = go.Figure()
    owners = list(dict.fromkeys(p["owner"] for p in points))
    for i, owner in enumerate(owners):
        mine = [p for p in points if p["owner"] == owner]
        fig.add_scatter(x=[p["x"] for p in mine], y=[p["y"] for p in mine], mode="markers", name=plain(owner),
                        marker=dict(size=8, color=PALETTE[i % len(PALETTE)], opacity=0.75),
                        text=[plain(p["label"]) for p in mine],
                        hovertemplate="%{text}<extra>" + _hover(owner) + "</extra>")
    if query:
        fig.add_scatter(x=[query["x"]], y=[query["y"]], mode="markers+text", name="your query",
                        marker=dict(symbol="star", size=18, color="#c0392b"), text=["query"],
                        textposition="top center")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h"))
    fig.update_xaxes(showticklabels=False, title="")
    fig.update_yaxes(showticklabels=False, title="")
    return fig


def confusion_figure(confusion: Mapping[str, Mapping[str, int]], names: Mapping[str, str] | None = None) -> go.Figure:
    labels = list(confusion)
    shown = [plain((names or {}).get(a, a)) for a in labels]
    z = [[confusion[t][p] for p in labels] for t in labels]
    fig = go.Figure(go.Heatmap(z=z, x=shown, y=shown, colorscale="Blues", text=z, texttemplate="%{text}",
                               hovertemplate="written by %{y}<br>attributed to %{x}: %{z}<extra></extra>"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="attributed to",
                      yaxis_title="written by")
    fig.update_yaxes(autorange="reversed")
    return fig


def metrics_figure(summary: Mapping[str, Mapping[str, Any]], metrics: Sequence[str]) -> go.Figure:
    """Grouped bars: one group per metric, one bar per condition."""
    fig = go.Figure()
    for i, (cond, values) in enumerate(summary.items()):
        fig.add_bar(x=[plain(m) for m in metrics], y=[values.get(m) for m in metrics], name=plain(cond),
                    marker_color=PALETTE[i % len(PALETTE)])
    fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="score")
    return fig


def win_rate_figure(conditions: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Win rate per condition with its 95% interval."""
    names = [c for c, v in conditions.items() if v["win_rate"] is not None]
    rates = [conditions[c]["win_rate"] for c in names]
    lo = [r - conditions[c]["ci95"][0] for c, r in zip(names, rates)]
    hi = [conditions[c]["ci95"][1] - r for c, r in zip(names, rates)]
    fig = go.Figure(go.Bar(x=[plain(n) for n in names], y=rates,
                           error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo),
                           marker_color=PALETTE[: len(names)]))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999")
    fig.update_layout(height=320, yaxis=dict(range=[0, 1], title="win rate (ties excluded)"),
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def ratings_figure(conditions: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Rating distributions: one box per condition and question."""
    fig = go.Figure()
    for i, (cond, v) in enumerate(conditions.items()):
        xs, ys = [], []
        for q, values in v["ratings"].items():
            xs += [plain(q)] * len(values)
            ys += values
        fig.add_box(x=xs, y=ys, name=plain(cond), marker_color=PALETTE[i % len(PALETTE)], boxpoints="all", jitter=0.4)
    fig.update_layout(boxmode="group", height=320, yaxis=dict(range=[0.5, 5.5], title="rating (1–5)"),
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def recognisable_figure(explanation: Mapping[str, Any]) -> go.Figure:
    """What makes one person's writing recognisable: the trained classifier's heaviest n-grams for them, and the
    function words and punctuation they use more (right) or less (left) than the others."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.14, subplot_titles=(
        "n-grams the classifier weighs most", "function words vs others (log2 ratio)",
        "punctuation vs others (log2 ratio)"))
    ngrams = list(reversed(explanation.get("ngrams", [])))
    fig.add_bar(y=[plain(g["feature"]) for g in ngrams], x=[g["weight"] for g in ngrams], orientation="h", row=1, col=1,
                marker_color=PALETTE[0], hovertemplate="%{y}: weight %{x:.3f}<extra></extra>", showlegend=False)
    for col, key, unit in ((2, "function_words", "per 1,000 words"), (3, "punctuation", "per 100 words")):
        rows = list(reversed(explanation.get(key, [])))
        fig.add_bar(y=[plain(f"“{r['feature']}”") for r in rows], x=[r["log2_ratio"] for r in rows], orientation="h",
                    row=1, col=col, showlegend=False,
                    marker_color=[PALETTE[2] if r["log2_ratio"] > 0 else PALETTE[4] for r in rows],
                    customdata=[[r["this person"], r["others"]] for r in rows],
                    hovertemplate="%{y}: %{customdata[0]} vs others %{customdata[1]} " + unit + "<extra></extra>")
    fig.update_annotations(font_size=12)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig
