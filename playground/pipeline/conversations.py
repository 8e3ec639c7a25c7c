"""Conversations and turns: a message is scoped, retrieval and prompt assembly run (``preview``), the message is
saved, and ``Turn.stream`` asks the model, saving the answer (or what arrived of it) with its full trace."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Sequence

from playground.errors import EmptyAnswer, GenerationInterrupted, InvalidInput, LLMError, NotFound, PlaygroundError
from playground.library.samples import WritingLibrary
from playground.models.embeddings import Tokenizer
from playground.models.generation_queue import OnWait
from playground.models.llm import Usage
from playground.models.selection import ModelChoice
from playground.people.directory import People
from playground.pipeline.conversation_history import HistoryChoice, select_history
from playground.pipeline.prompting import PromptBuild, PromptPart, build_prompt, choose_template
from playground.pipeline.retrieval import Hit, RetrievalOptions, Retriever
from playground.pipeline.scoping import Scoping
from playground.pipeline.summaries import Summaries
from playground.pipeline.trace import Trace, trace_from_json
from playground.settings import Settings
from playground.stores.db import Database, new_id, now
from playground.stores.personal_data import scrub_if_withdrawn

# (mode, profile, persona) -> the style card's prompt part, or None; given by whoever composes the pipeline
StylePart = Callable[[str, "dict[str, Any] | None", "dict[str, Any] | None"], "PromptPart | None"]


def cut_marker(max_tokens: int) -> str:
    """Appended to an answer that stopped at the token limit, so nobody takes it for the model's whole answer."""
    return f" … (cut at the {max_tokens}-token limit)"


LOOP_MARKER = " … (stopped here: the model had begun repeating itself)"


@dataclass
class Turn:
    """One chat turn: retrieval and prompt are done when it is created; ``stream()`` asks the model."""

    conversations: "Conversations"
    session_id: str
    user_message_id: str
    hits: list[Hit]
    prompt: PromptBuild
    trace: Trace
    model: str = ""
    answer: str = ""
    status: str = "pending"  # complete | interrupted | error
    error: PlaygroundError | None = None
    assistant_message_id: str = ""
    on_wait: OnWait | None = None  # called with how many questions are ahead while this one waits for the model
    ahead: int = 0  # questions ahead of this one at the model now (never counting this one); 0 once answered
    cut_at_limit: bool = False  # the answer reached the token limit (its text ends with ``cut_marker``)
    stopped_looping: bool = False  # the door stopped a looping answer (its text ends with ``LOOP_MARKER``)
    _started: float = field(default_factory=time.perf_counter)

    def _waiting(self, ahead: int) -> None:
        self.ahead = ahead
        if self.on_wait:
            self.on_wait(ahead)

    def stream(self) -> Generator[str, None, None]:
        """Yield the answer piece by piece; the answer (or what arrived of it) and the trace are saved either way."""
        conv, models = self.conversations, self.conversations.models
        temperature, max_tokens = conv.settings.temperature, conv.settings.max_tokens
        params = {"temperature": temperature, "max_tokens": max_tokens}
        self.trace.update({"backend": models.name, "backend_url": models.where, "params": params})
        pieces: list[str] = []
        usage = Usage()
        t0 = time.perf_counter()
        ttft = None
        try:
            if not self.model:
                self.model = models.default_model()
            self.trace["model"] = self.model
            for piece in models.stream(self.prompt.messages, self.model, on_wait=self._waiting, temperature=temperature,
                                       max_tokens=max_tokens):
                if isinstance(piece, Usage):
                    usage = piece
                    continue
                if ttft is None:
                    ttft = time.perf_counter() - t0
                pieces.append(piece)
                yield piece
            if usage.cut_at_limit:  # the answer stopped at PLAYGROUND_MAX_TOKENS, not where the model ended it
                self.cut_at_limit = True
                marker = cut_marker(max_tokens)
                pieces.append(marker)
                yield marker
            if usage.stopped_looping:  # the door stopped it (PLAYGROUND_LOOP_WINDOW); say so, never trim silently
                self.stopped_looping = True
                pieces.append(LOOP_MARKER)
                yield LOOP_MARKER
            if not "".join(pieces).strip():  # never recorded as a complete answer
                raise EmptyAnswer("The model returned an empty answer.",
                                  "It may have been cut off by another request or run out of room for the prompt; "
                                  "ask again.")
            self.status = "complete"
        except LLMError as e:
            self.error = e
            if isinstance(e, GenerationInterrupted):
                pieces = [e.partial] if e.partial else pieces
            self.status = "interrupted" if "".join(pieces).strip() else "error"
            raise
        finally:
            self.answer = "".join(pieces)
            out_tokens = usage.output_tokens
            self.trace.update({
                "finish_reason": usage.finish_reason, "cut_at_limit": self.cut_at_limit,
                "stopped_looping": self.stopped_looping,
                "latency_s": round(time.perf_counter() - t0, 3),
                "ttft_s": None if ttft is None else round(ttft, 3),
                "output_tokens": out_tokens if out_tokens is not None else conv.tokenizer.count(self.answer),
                "output_tokens_estimated": out_tokens is None,
                "input_tokens_model": usage.input_tokens,
                "status": self.status if self.status != "pending" else "interrupted",
                "error": str(self.error) if self.error else "",
            })
            self.assistant_message_id = conv.save_answer(self)

    def preview_only(self, error: PlaygroundError) -> None:
        """Record the turn without an answer (no model available); the prompt stays inspectable."""
        self.error, self.status = error, "error"
        self.trace.update({"status": "error", "error": str(error), "model": self.model,
                           "backend": self.conversations.models.name})
        self.assistant_message_id = self.conversations.save_answer(self)


class Conversations:
    """Sessions, the history a turn may carry, the prompt a message gets, and turns with their traces."""

    def __init__(self, db: Database, settings: Settings, tokenizer: Tokenizer, people: People,
                 library: WritingLibrary, scoping: Scoping, retriever: Retriever, models: ModelChoice,
                 summaries: Summaries, style_part: StylePart | None = None) -> None:
        self.db, self.settings, self.tokenizer = db, settings, tokenizer
        self.people, self.library, self.scoping, self.retriever, self.models = people, library, scoping, retriever, models
        self.summaries, self.style_part = summaries, style_part

    # -- retrieval and prompts -------------------------------------------------------------------------------------
    def retrieve(self, profile_id: str | None, query: str, mode: str, options: RetrievalOptions | None = None,
                 persona_id: str | None = None) -> list[Hit]:
        profile = self.people.get_profile(profile_id) if profile_id else None
        options = options or RetrievalOptions(k=self.settings.default_k)
        return self.retriever.retrieve(query, self.scoping.scope_for(profile, mode, persona_id), options)

    def history_choice(self, session_id: str | None, mode: str, persona_id: str | None = None,
                       before: str | None = None) -> HistoryChoice:
        """History that respects granularity, with the earlier turns left out and why (conversation_history)."""
        if not session_id:
            return HistoryChoice()
        rows = session_rows(self.db, session_id)
        if before:
            idx = next((i for i, r in enumerate(rows) if r["id"] == before), len(rows))
            rows = rows[:idx]
        return select_history(rows, mode, persona_id, self.settings.history_turns)

    def preview(self, profile_id: str | None, message: str, mode: str, options: RetrievalOptions | None = None,
                *, persona_id: str | None = None, session_id: str | None = None, use_summary: bool = False,
                use_style_card: bool = False, extra_parts: Sequence[PromptPart] = (), model: str = "",
                instructions: str | None = None) -> tuple[list[Hit], PromptBuild, dict[str, float]]:
        """Retrieve and assemble the prompt for a message, without asking a model. The prompt template suits the
        model that will answer (``template_for``); ``instructions``, a person's edit, replaces its instructions."""
        options = options or RetrievalOptions(k=self.settings.default_k)
        profile = self.people.get_profile(profile_id) if profile_id else None
        t0 = time.perf_counter()
        mode, persona_id, resolution = self.scoping.resolve(profile, mode, persona_id)
        if use_summary and mode == "user" and profile:
            part = self.summaries.summary_part(profile["id"])
            extra_parts = [*extra_parts, part] if part else extra_parts
        scope = self.scoping.scope_for(profile, mode, persona_id)
        hits = self.retriever.retrieve(message, scope, options)
        t1 = time.perf_counter()
        persona = self.people.get_persona(scope.owner_id) if scope.kind == "persona" else None
        if use_style_card and self.style_part:
            card = self.style_part(mode, profile, persona)
            extra_parts = [*extra_parts, card] if card else extra_parts
        history = self.history_choice(session_id, mode, scope.owner_id if scope.kind == "persona" else None)
        build = build_prompt(message, mode, count_tokens=self.tokenizer.count, budget=self.settings.prompt_budget,
                             profile=profile, persona=persona, hits=hits, history=history.messages,
                             extra_parts=extra_parts, template=self.template_for(model), instructions=instructions)
        build.resolution = resolution
        build.history_ids, build.history_excluded = history.message_ids, history.excluded
        build.history_excluded_total = history.excluded_total
        t2 = time.perf_counter()
        return hits, build, {"retrieval_ms": round((t1 - t0) * 1000, 2), "prompt_ms": round((t2 - t1) * 1000, 2)}

    def template_for(self, model: str = "") -> str:
        """The prompt template for ``model`` (default: the preferred one) on this backend, unless the settings fix
        one (PLAYGROUND_PROMPT_TEMPLATE)."""
        return choose_template(model or self.models.preferred_model(), self.models.name,
                               self.settings.prompt_template)

    # -- sessions and turns ----------------------------------------------------------------------------------------
    def delete_unowned_sessions(self) -> int:
        """Delete the chats kept without a profile (the admin's reset); their messages and traces go with them."""
        with self.db.transaction() as db:
            return int(db.execute("DELETE FROM sessions WHERE profile_id IS NULL").rowcount)

    def new_session(self, profile_id: str | None, title: str = "") -> dict[str, Any]:
        if profile_id:
            self.people.get_profile(profile_id)
        sid = new_id("ses")
        self.db.execute("INSERT INTO sessions (id, profile_id, title, created) VALUES (?, ?, ?, ?)",
                        (sid, profile_id, title, now()))
        return {"id": sid, "profile_id": profile_id, "title": title}

    def owned_session(self, profile_id: str, session_id: str) -> dict[str, Any]:
        """The conversation ``session_id``, which must belong to the profile ``profile_id``. The messages name the
        command line's ``--session``: the one place a conversation is continued by an id someone typed."""
        self.people.get_profile(profile_id)
        session = self.db.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not session:
            raise NotFound(f"There is no conversation '{session_id}'.", "Leave out --session to start a new one.")
        if session["profile_id"] != profile_id:
            raise InvalidInput(f"The conversation '{session_id}' belongs to another profile.",
                               "Continue it with the profile that started it, or leave out --session.")
        return session

    def sessions(self, profile_id: str) -> list[dict[str, Any]]:
        return self.db.query("SELECT s.*, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS n_messages "
                             "FROM sessions s WHERE profile_id = ? ORDER BY created DESC", (profile_id,))

    def session_messages(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT m.*, t.data AS trace FROM messages m LEFT JOIN traces t ON t.message_id = m.id "
            "WHERE m.session_id = ? ORDER BY m.created, m.rowid", (session_id,))
        for r in rows:
            r["trace"] = trace_from_json(r["trace"])
        return rows

    def start_turn(self, session_id: str, message: str, mode: str, options: RetrievalOptions | None = None, *,
                   persona_id: str | None = None, model: str = "", use_summary: bool = False,
                   use_style_card: bool = False, extra_parts: Sequence[PromptPart] = (),
                   instructions: str | None = None) -> Turn:
        """Save the message, retrieve and build the prompt; then call ``stream()`` on the result."""
        session = self.db.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not session:
            raise NotFound("That conversation no longer exists.", "Start a new one.")
        options = options or RetrievalOptions(k=self.settings.default_k)
        hits, build, timings = self.preview(session["profile_id"], message, mode, options, persona_id=persona_id,
                                            session_id=session_id, use_summary=use_summary,
                                            use_style_card=use_style_card, extra_parts=extra_parts, model=model,
                                            instructions=instructions)
        mid = new_id("msg")
        self.db.execute("INSERT INTO messages (id, session_id, role, content, status, created) "
                        "VALUES (?, ?, 'user', ?, 'complete', ?)", (mid, session_id, message.strip(), now()))
        trace: Trace = {
            "id": new_id("trc"), "created": now(), "mode": build.mode, "requested_mode": mode,
            "auto": build.resolution, "query": message.strip(),
            "profile_id": session["profile_id"],
            "persona_id": next((p.meta["persona_id"] for p in build.parts if p.source == "persona"), None),
            "retrieval": {"retriever": options.retriever, "k": options.k, "threshold": options.threshold,
                          "mmr": options.mmr, "excluded_samples": list(options.exclude_samples)},
            "hits": [h.to_dict() for h in hits], "prompt": build.to_dict(), "timings": timings,
            "prompt_tokens": build.tokens, "model": model, "template": build.template,
            "session_id": session_id, "user_message_id": mid, "history_ids": build.history_ids,
            "history_excluded": build.history_excluded,
        }
        return Turn(self, session_id, mid, hits, build, trace, model=model)

    def save_answer(self, turn: Turn) -> str:
        """Store the answer message and its trace; scrub shared snippets of anyone who withdrew meanwhile."""
        aid = new_id("msg")
        t0 = time.perf_counter()
        turn.trace.setdefault("timings", {})
        with self.db.transaction() as db:
            db.execute("INSERT INTO messages (id, session_id, role, content, status, error, created) "
                       "VALUES (?, ?, 'assistant', ?, ?, ?, ?)",
                       (aid, turn.session_id, turn.answer, turn.status if turn.status != "pending" else "interrupted",
                        str(turn.error or ""), now()))
            turn.trace["timings"]["log_ms"] = round((time.perf_counter() - t0) * 1000, 2)
            db.execute("INSERT INTO traces (id, message_id, session_id, profile_id, mode, data, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (turn.trace["id"], aid, turn.session_id, turn.trace.get("profile_id"), turn.trace["mode"],
                        json.dumps(turn.trace), now()))
        scrub_if_withdrawn(self.db, {h.owner_id for h in turn.hits if h.owner_kind == "profile"
                                     and h.owner_id != turn.trace.get("profile_id")})
        return aid


def answered_turns(db: Database, profile_id: str | None = None) -> int:
    """Chat turns answered with a trace: one profile's, or everyone's."""
    if profile_id:
        return db.count("SELECT count(*) AS n FROM traces WHERE profile_id = ?", (profile_id,))
    return db.count("SELECT count(*) AS n FROM traces")


def find_trace(db: Database, trace_id: str) -> Trace | None:
    """A stored trace, or None when there is no such trace."""
    row = db.one("SELECT data FROM traces WHERE id = ?", (trace_id,))
    return trace_from_json(row["data"] if row else None)


def session_rows(db: Database, session_id: str) -> list[dict[str, Any]]:
    """A conversation's messages, oldest first, each with the few trace fields ``select_history`` reads (taken out
    in SQLite: a trace holds the whole prompt and the snippets, which the history does not need)."""
    rows = db.query(
        "SELECT m.id, m.role, m.content, m.status, t.id AS trace_id, json_extract(t.data, '$.mode') AS mode, "
        "json_extract(t.data, '$.persona_id') AS persona_id, "
        "json_extract(t.data, '$.user_message_id') AS user_message_id, "
        "json_extract(t.data, '$.history_ids') AS history_ids, "
        "(SELECT count(*) FROM json_each(t.data, '$.prompt.parts') "
        " WHERE json_extract(value, '$.source') = 'history') AS n_history "
        "FROM messages m LEFT JOIN traces t ON t.message_id = m.id WHERE m.session_id = ? ORDER BY m.created, m.rowid",
        (session_id,))
    out = []
    for r in rows:
        trace = None
        if r["trace_id"]:
            trace = {"mode": r["mode"], "persona_id": r["persona_id"], "user_message_id": r["user_message_id"],
                     "prompt": {"parts": [{"source": "history"}] * int(r["n_history"] or 0)}}
            if r["history_ids"] is not None:
                trace["history_ids"] = json.loads(r["history_ids"])
        out.append({"id": r["id"], "role": r["role"], "content": r["content"], "status": r["status"],
                    "trace": trace})
    return out
