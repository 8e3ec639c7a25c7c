"""Which earlier turns of a conversation a new turn may carry, given its granularity.

A chat turn sends earlier messages of the conversation as history. Those messages carry whatever data their own
turn saw: an answer written under *user* granularity may repeat details from the person's profile and writing. So
history must respect granularity, or "global" stops meaning "no personal data":

- a **global** turn carries only earlier global turns;
- a **persona** turn carries global turns and turns of the same persona (never user-level data, nor another
  persona's data);
- a **user** turn carries every earlier turn of the person's conversation.

Each turn is labelled with the data it could see (its *tags*): ``{"user"}`` for user level, ``{"persona:ID"}`` for
persona level, nothing for global, plus the tags of the history it carried. Turns recorded before this rule existed
carried all earlier history, so their tags include every earlier turn's tags. A turn may carry an earlier turn only
when all of that turn's tags are allowed at its own granularity. Everything left out is reported, with the reason,
for the inspector.

This module works on plain message rows (``id``, ``role``, ``content``, ``status``, ``trace``), oldest first, so the
preview and the turn that is sent use the same code on the same inputs (``conversations.session_rows`` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

REPORT_LIMIT = 20  # at most this many left-out turns are listed in a trace (the total is counted)


@dataclass
class HistoryChoice:
    """The history a turn carries and what it leaves out."""

    messages: list[dict[str, str]] = field(default_factory=list)  # {"role", "content"}, oldest first
    message_ids: list[str] = field(default_factory=list)  # the ids of ``messages``, same order
    excluded: list[dict[str, Any]] = field(default_factory=list)  # {message_id, turn, mode, reason, ...}
    excluded_total: int = 0


@dataclass
class _Turn:
    rows: list[Mapping[str, Any]]
    mode: str | None = None  # None: no answer was recorded, so the granularity is unknown
    persona_id: str | None = None
    tags: frozenset[str] = frozenset()
    legacy: bool = False  # recorded before history respected granularity, and it carried history
    carried: list[str] | None = None  # message ids of the history it carried (recorded since the rule exists)


def own_tags(mode: str | None, persona_id: str | None) -> frozenset[str]:
    """The data a turn at this granularity sees by itself."""
    if mode == "user":
        return frozenset({"user"})
    if mode == "persona":
        return frozenset({f"persona:{persona_id or '?'}"})
    return frozenset()


def allowed_tags(mode: str, persona_id: str | None) -> frozenset[str] | None:
    """Tags a turn at ``mode`` may carry; None means any (user level sees all of the person's turns)."""
    if mode == "user":
        return None
    if mode == "persona":
        return frozenset({f"persona:{persona_id or '?'}"})
    return frozenset()


def _group(rows: Sequence[Mapping[str, Any]]) -> list[_Turn]:
    """Pair each question with its answer (by the trace's ``user_message_id``, else the question just before)."""
    turns: list[_Turn] = []
    by_user_id: dict[str, _Turn] = {}
    open_question: _Turn | None = None
    for r in rows:
        if r["role"] == "user":
            question = _Turn([r])
            turns.append(question)
            by_user_id[r["id"]] = question
            open_question = question
            continue
        trace = r.get("trace") or {}
        t = by_user_id.get(trace.get("user_message_id") or "") or open_question
        if t is None or t.mode is not None:  # an answer without its question: a turn of its own
            t = _Turn([])
            turns.append(t)
        t.rows.append(r)
        if trace:
            t.mode, t.persona_id = trace.get("mode"), trace.get("persona_id")
            t.legacy = "history_ids" not in trace and any(
                p.get("source") == "history" for p in (trace.get("prompt") or {}).get("parts", []))
            t.carried = trace.get("history_ids")
        if t is open_question:
            open_question = None
    return turns


def _label(turns: list[_Turn]) -> None:
    """Give each turn its tags: its own, plus those of the turns it carried."""
    tags_by_message: dict[str, frozenset[str]] = {}
    seen: frozenset[str] = frozenset()
    for t in turns:
        tags = own_tags(t.mode, t.persona_id)
        if t.legacy:
            tags |= seen
        elif t.carried:
            for mid in t.carried:
                tags |= tags_by_message.get(mid, frozenset())
        t.tags = tags
        for r in t.rows:
            tags_by_message[r["id"]] = tags
        seen |= tags


def _describe(mode: str | None, persona_id: str | None) -> str:
    if mode == "persona":
        return f"persona ({persona_id})" if persona_id else "persona"
    return mode or "an unknown granularity"


def _reason(t: _Turn, mode: str, persona_id: str | None) -> str:
    if t.mode is None:
        return "no answer was recorded for it, so its granularity is unknown"
    target = "global mode sees no personal data" if mode == "global" else (
        "persona mode sees no user-level data" if "user" in t.tags else
        "persona mode sees only its own persona's data")
    if own_tags(t.mode, t.persona_id) <= (allowed_tags(mode, persona_id) or frozenset()):
        return (f"asked under {_describe(t.mode, t.persona_id)}, but it carried personal data from earlier turns "
                f"(recorded before history respected granularity): {target}")
    return f"asked under {_describe(t.mode, t.persona_id)}: {target}"


def select_history(rows: Sequence[Mapping[str, Any]], mode: str, persona_id: str | None,
                   limit: int) -> HistoryChoice:
    """The earlier messages a ``mode`` turn may carry (the last ``limit`` of them), and the turns left out."""
    turns = _group(rows)
    _label(turns)
    allowed = allowed_tags(mode, persona_id)
    choice = HistoryChoice()
    kept: list[Mapping[str, Any]] = []
    for n, t in enumerate(turns, 1):
        ok = allowed is None or (t.mode is not None and t.tags <= allowed)
        if ok:
            kept.extend(r for r in t.rows if str(r["content"]).strip())
            continue
        choice.excluded_total += 1
        answer = next((r for r in t.rows if r["role"] == "assistant"), None)
        question = next((r for r in t.rows if r["role"] == "user"), None)
        choice.excluded.append({
            "message_id": (answer or question or {}).get("id"),
            "user_message_id": question["id"] if question else None,
            "mode": t.mode, "persona_id": t.persona_id, "reason": _reason(t, mode, persona_id),
            "turn": n,
        })
    choice.excluded = choice.excluded[-REPORT_LIMIT:]
    kept = kept[-limit:] if limit > 0 else []
    choice.messages = [{"role": r["role"], "content": r["content"]} for r in kept]
    choice.message_ids = [r["id"] for r in kept]
    return choice
