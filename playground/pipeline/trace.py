"""The trace of one chat turn: what was retrieved, the prompt that was sent and how the model answered.

A trace is stored as JSON (the ``traces`` table) and read back by the inspector, the explain panel, the study and the
exports, so its dict form *is* the record: ``Trace`` names every key and its type (as simonw/llm types its
``ResponseDict``), and a type checker catches a misspelt or unknown key wherever a trace is built or read.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict, cast


class RetrievalSettings(TypedDict):
    retriever: str  # dense | bm25 | hybrid
    k: int
    threshold: float | None
    mmr: bool
    excluded_samples: list[str]


class Trace(TypedDict, total=False):
    """Keys set when the turn is built (``Conversations.start_turn``), then those set once the model answered
    (``Turn.stream``) or could not (``Turn.preview_only``)."""

    # built with the prompt
    id: str
    created: str
    mode: str  # the granularity the prompt was built under
    requested_mode: str  # what the person chose (differs from ``mode`` under auto)
    auto: dict[str, Any] | None  # auto mode: which level was used, and why
    query: str
    profile_id: str
    persona_id: str | None
    retrieval: RetrievalSettings
    hits: list[dict[str, Any]]  # Hit.to_dict(), best first
    prompt: dict[str, Any]  # PromptBuild.to_dict(): parts, messages, tokens, budget, cut…
    timings: dict[str, float]  # milliseconds per step
    prompt_tokens: int
    model: str
    template: str  # the prompt template's name (pipeline/prompting.py TEMPLATES)
    session_id: str
    user_message_id: str
    history_ids: list[str]
    history_excluded: list[dict[str, Any]]
    # set once the model was asked
    backend: str
    backend_url: str
    params: dict[str, Any]  # temperature, max_tokens
    finish_reason: str
    cut_at_limit: bool
    stopped_looping: bool
    latency_s: float
    ttft_s: float | None
    output_tokens: int
    output_tokens_estimated: bool
    input_tokens_model: int | None
    status: str  # complete | interrupted | error
    error: str


def trace_from_json(data: str | None) -> Trace | None:
    """A stored trace (the ``traces.data`` column) back as a ``Trace``; None when there is none."""
    return cast(Trace, json.loads(data)) if data else None
