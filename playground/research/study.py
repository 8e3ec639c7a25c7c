"""Studies: participants compare two personalization conditions on the same prompt (PRISM-style pairwise preference).

A study has conditions (granularity + retriever), an assignment (within-subject: every participant sees every pair
of conditions, A/B order counterbalanced by join order; between-subject: each participant is randomly assigned one
pair), blind or labelled presentation, Likert questions per criterion and task prompts. Everything a participant
does is an event in ``study_events``; judgements have their own table, one row per task, for analysis.
In blind mode nothing returned by ``task_view`` names a condition: the page cannot leak what it was never given.
Column meanings are documented in docs/study-data.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import random
import secrets
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from playground.errors import InvalidInput, LLMError, NotFound, PlaygroundError
from playground.pipeline.retrieval import RETRIEVERS, RetrievalOptions
from playground.stores.db import new_id, now
from playground.stores.personal_data import scrub_withdrawn_answers

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.people.directory import People
    from playground.pipeline.conversations import Conversations
    from playground.settings import Settings
    from playground.stores.db import Database


class StudyParts(Protocol):
    """What a study uses: the database, the settings, people, their writing and conversations."""

    db: "Database"
    settings: "Settings"
    people: "People"
    library: "WritingLibrary"
    conversations: "Conversations"

DEFAULT_QUESTIONS: tuple[dict[str, str], ...] = (
    {"id": "tone", "criterion": "tone and style", "text": "The tone and style of this answer suit me."},
    {"id": "relevance", "criterion": "relevance", "text": "This answer is relevant to me and to what I asked."},
    {"id": "accuracy", "criterion": "accuracy", "text": "This answer is accurate."},
)
LIKERT = (1, 2, 3, 4, 5)
CHOICES = ("A", "B", "none")
CSV_BASE = ["study_id", "study_name", "participant", "task", "prompt", "condition_a", "condition_b", "mode_a",
            "retriever_a", "mode_b", "retriever_b", "choice", "preferred_condition", "reason", "model_a", "model_b",
            "latency_a_s", "latency_b_s", "snippets_a", "snippets_b", "created"]


def _code() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def _study_row(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("conditions", "questions", "prompts"):
        row[k] = json.loads(row[k])
    row["blind"], row["open"] = bool(row["blind"]), bool(row["open"])
    return row


def create_study(parts: StudyParts, name: str, consent_text: str, conditions: Sequence[dict[str, str]],
                 prompts: Sequence[str], *, assignment: str = "within", blind: bool = True,
                 questions: Sequence[dict[str, str]] = DEFAULT_QUESTIONS, persona_id: str = "") -> dict[str, Any]:
    """``persona_id``: the persona that persona conditions answer with (a condition may name its own instead).
    Participants' profiles belong to no persona, so a persona condition without one is refused here, at set-up,
    rather than failing in front of every participant."""
    if not name.strip():
        raise InvalidInput("A study needs a name.")
    if not consent_text.strip():
        raise InvalidInput("A study needs consent text that participants accept before they start.")
    if assignment not in ("within", "between"):
        raise InvalidInput("Assignment is 'within' (everyone sees every pair) or 'between' (one pair each).")
    conds = []
    for n, c in enumerate(conditions, 1):
        if c.get("mode") not in ("user", "persona", "global", "auto"):
            raise InvalidInput(f"Condition {n} needs a granularity: user, persona, global or auto.")
        retriever = c.get("retriever") or "dense"
        if retriever not in RETRIEVERS:
            raise InvalidInput(f"Condition {n}: unknown retriever '{retriever}'.")
        cond = {"id": f"c{n}", "mode": c["mode"], "retriever": retriever, "label": f"{c['mode']} · {retriever}"}
        if c["mode"] == "persona":
            chosen = c.get("persona_id") or persona_id
            if not chosen:
                raise InvalidInput(f"Condition {n} compares persona mode, which needs a persona: choose the persona "
                                   "the study uses (participants belong to none).")
            cond["persona_id"] = parts.people.get_persona(chosen)["id"]
        conds.append(cond)
    if len({(c["mode"], c["retriever"], c.get("persona_id")) for c in conds}) < 2:
        raise InvalidInput("A study compares at least two different conditions.")
    prompts = [p.strip() for p in prompts if p.strip()]
    if not prompts:
        raise InvalidInput("A study needs at least one task prompt.")
    sid = new_id("std")
    code = _code()
    parts.db.execute("INSERT INTO studies (id, code, name, consent_text, conditions, assignment, blind, questions, "
                  "prompts, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (sid, code, name.strip(), consent_text.strip(), json.dumps(conds), assignment, int(blind),
                   json.dumps(list(questions)), json.dumps(prompts), now()))
    return get_study(parts, sid)


def get_study(parts: StudyParts, study_id: str) -> dict[str, Any]:
    row = parts.db.one("SELECT * FROM studies WHERE id = ?", (study_id,))
    if not row:
        raise NotFound("That study no longer exists.")
    return _study_row(row)


def study_by_code(parts: StudyParts, code: str) -> dict[str, Any]:
    row = parts.db.one("SELECT * FROM studies WHERE code = ?", (code.strip().upper(),))
    if not row:
        raise NotFound(f"There is no study with the code “{code.strip()}”.", "Check the code with the researcher.")
    return _study_row(row)


def list_studies(parts: StudyParts) -> list[dict[str, Any]]:
    rows = parts.db.query("SELECT s.*, (SELECT count(*) FROM participants p WHERE p.study_id = s.id) AS n_participants "
                       "FROM studies s ORDER BY created DESC")
    return [_study_row(r) for r in rows]


def _pairs(study: dict[str, Any], position: int, seed: str) -> list[list[str]]:
    ids = [c["id"] for c in study["conditions"]]
    all_pairs = list(itertools.combinations(ids, 2))
    rng = random.Random(seed)
    out = []
    if study["assignment"] == "between":
        pair = all_pairs[rng.randrange(len(all_pairs))]
        for task in range(len(study["prompts"])):
            out.append(list(pair) if rng.random() < 0.5 else [pair[1], pair[0]])
        return out
    for task in range(len(study["prompts"])):
        a, b = all_pairs[(task + position) % len(all_pairs)]
        # Counterbalanced: which condition is shown as A alternates with join order and task.
        out.append([a, b] if (position + task) % 2 == 0 else [b, a])
    return out


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_resume_token(parts: StudyParts, participant_id: str) -> str:
    token = secrets.token_urlsafe(18)
    parts.db.execute("UPDATE participants SET resume_hash = ? WHERE id = ?", (_token_hash(token), participant_id))
    return token


def join(parts: StudyParts, study_code: str, participant_code: str, resume_token: str = "") -> dict[str, Any]:
    """Join (or resume) a study. The participant ID is whatever the researcher handed out; no real name needed.
    The result carries ``resume_token``, the secret a resume link holds. Someone else's participant ID is not enough
    to open a session that has started (consented): that needs the token from its resume link."""
    study = study_by_code(parts, study_code)
    code = participant_code.strip()
    if not code or len(code) > 40:
        raise InvalidInput("Type the participant ID you were given (at most 40 characters).")
    existing = parts.db.one("SELECT * FROM participants WHERE study_id = ? AND code = ?", (study["id"], code))
    if existing:
        known = bool(resume_token) and secrets.compare_digest(existing["resume_hash"], _token_hash(resume_token))
        if existing["consented"] and not known:
            raise InvalidInput(f"Participant ID “{code}” has already started this study, so it cannot be opened "
                               "again by its ID alone.",
                               "To continue, open the link from your earlier visit, or ask the researcher.")
        token = resume_token if known else _new_resume_token(parts, existing["id"])
        return {**_participant(existing), "resume_token": token}
    if not study["open"]:
        raise InvalidInput("This study is closed to new participants.")
    pid = new_id("par")
    profile = parts.people.create_profile(f"Participant {code}", owner_token=f"study:{pid}", notes=f"study {study['code']}")
    position = parts.db.one("SELECT count(*) AS n FROM participants WHERE study_id = ?", (study["id"],))["n"]
    pairs = _pairs(study, position, pid)
    parts.db.execute("INSERT INTO participants (id, study_id, code, profile_id, position, pairs, created) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", (pid, study["id"], code, profile["id"], position,
                                                    json.dumps(pairs), now()))
    log_event(parts, pid, "join", {"participant": code, "position": position})
    return {**get_participant(parts, pid), "resume_token": _new_resume_token(parts, pid)}


def resume(parts: StudyParts, token: str) -> dict[str, Any]:
    """The participant whose resume link holds ``token`` (a reload, or coming back later)."""
    row = parts.db.one("SELECT * FROM participants WHERE resume_hash = ?", (_token_hash(token),)) if token else None
    if not row:
        raise NotFound("This study link is no longer valid.", "Join again with your study code and participant ID.")
    return _participant(row)


def end_resume(parts: StudyParts, participant_id: str) -> None:
    """The participant finished: the resume link stops working, so the next person at a shared machine cannot
    reopen the session from the browser's history."""
    parts.db.execute("UPDATE participants SET resume_hash = '' WHERE id = ?", (participant_id,))


def _participant(row: dict[str, Any]) -> dict[str, Any]:
    row["pairs"] = json.loads(row["pairs"])
    return row


def get_participant(parts: StudyParts, participant_id: str) -> dict[str, Any]:
    row = parts.db.one("SELECT * FROM participants WHERE id = ?", (participant_id,))
    if not row:
        raise NotFound("That participant no longer exists.")
    return _participant(row)


def log_event(parts: StudyParts, participant_id: str, kind: str, data: dict[str, Any]) -> None:
    row = parts.db.one("SELECT study_id FROM participants WHERE id = ?", (participant_id,))
    if not row:
        raise NotFound("That participant no longer exists.")
    parts.db.execute("INSERT INTO study_events (study_id, participant_id, kind, data, created) VALUES (?, ?, ?, ?, ?)",
                  (row["study_id"], participant_id, kind, json.dumps(data, default=str), now()))


def consent(parts: StudyParts, participant_id: str) -> None:
    parts.db.execute("UPDATE participants SET consented = ? WHERE id = ? AND consented IS NULL", (now(), participant_id))
    log_event(parts, participant_id, "consent", {"accepted": True})


def _condition(study: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in study["conditions"] if c["id"] == cid)


def _answers(parts: StudyParts, participant_id: str, task: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in parts.db.query("SELECT data FROM study_events WHERE participant_id = ? AND kind = 'answer' ORDER BY id",
                         (participant_id,)):
        d = json.loads(e["data"])
        if d["task"] == task:
            out[d["slot"]] = d
    return out


def task_view(parts: StudyParts, participant_id: str, task: int) -> dict[str, Any]:
    """What the participant's page may show for a task: the prompt, answers A and B (text only) and whether it
    is judged. Condition names appear only when the study is labelled, never in blind mode."""
    p = get_participant(parts, participant_id)
    study = get_study(parts, p["study_id"])
    if not 0 <= task < len(study["prompts"]):
        raise NotFound("There is no such task in this study.")
    answers = _answers(parts, participant_id, task)
    view: dict[str, Any] = {"task": task, "of": len(study["prompts"]), "prompt": study["prompts"][task],
                            "answers": {slot: {"text": a["text"], "status": a["status"]} for slot, a in answers.items()},
                            "judged": bool(parts.db.one("SELECT 1 AS x FROM judgements WHERE participant_id = ? AND "
                                                     "task = ?", (participant_id, task))),
                            "questions": study["questions"], "blind": study["blind"]}
    if not study["blind"]:
        pair = p["pairs"][task]
        view["labels"] = {"A": _condition(study, pair[0])["label"], "B": _condition(study, pair[1])["label"]}
    return view


def generate_answers(parts: StudyParts, participant_id: str, task: int) -> dict[str, Any]:
    """Answer the task's prompt under both conditions (each in a fresh conversation, so tasks do not bleed into
    each other), log both with their traces, and return the task view. A model failure is recorded and re-raised."""
    p = get_participant(parts, participant_id)
    study = get_study(parts, p["study_id"])
    if not p["consented"]:
        raise InvalidInput("Please read and accept the consent text first.")
    done = _answers(parts, participant_id, task)
    prompt = study["prompts"][task]
    for slot, cid in zip("AB", p["pairs"][task]):
        if slot in done and done[slot]["status"] == "complete":
            continue
        cond = _condition(study, cid)
        session = parts.conversations.new_session(p["profile_id"], title=f"study {study['code']} task {task + 1}{slot}")
        try:
            turn = parts.conversations.start_turn(session["id"], prompt, cond["mode"],
                                 RetrievalOptions(cond["retriever"], k=parts.settings.default_k),
                                 persona_id=cond.get("persona_id"))
        except PlaygroundError as e:
            if not study["blind"]:
                raise
            # The reason may name the condition ("Persona mode needs…"): a blind participant must not learn it.
            log_event(parts, participant_id, "error", {"task": task, "slot": slot, "condition": cid, "error": str(e)})
            raise InvalidInput(f"Answer {slot} could not be prepared because of a problem in the study's set-up.",
                               "Please tell the researcher; the reason is in the study's event export.") from e
        error: LLMError | None = None
        try:
            for _ in turn.stream():
                pass
        except LLMError as e:
            error = e
        log_event(parts, participant_id, "answer", {
            "task": task, "slot": slot, "condition": cid, "trace_id": turn.trace["id"], "text": turn.answer,
            "status": turn.status, "model": turn.trace.get("model"), "latency_s": turn.trace.get("latency_s"),
            "snippets": [{"chunk_id": h.chunk_id, "score": h.score} for h in turn.hits],
            "prompt_parts": [{"source": x.source, "tokens": x.tokens} for x in turn.prompt.parts]})
        scrub_withdrawn_answers(parts.db)  # a writer it quoted may have been deleted while it was written
        if error:
            raise error
    return task_view(parts, participant_id, task)


def judge(parts: StudyParts, participant_id: str, task: int, choice: str, ratings: dict[str, dict[str, int]],
          reason: str = "") -> None:
    """Record the preferred answer (A, B or none), Likert ratings per answer and question, and a free-text reason."""
    p = get_participant(parts, participant_id)
    study = get_study(parts, p["study_id"])
    if choice not in CHOICES:
        raise InvalidInput("Pick A, B or “no preference”.")
    answers = _answers(parts, participant_id, task)
    if set(answers) != {"A", "B"}:
        raise InvalidInput("Both answers must be shown before you can compare them.")
    qids = {q["id"] for q in study["questions"]}
    for slot in ("A", "B"):
        given = ratings.get(slot, {})
        if set(given) != qids or any(v not in LIKERT for v in given.values()):
            raise InvalidInput(f"Please rate answer {slot} on every question (1 to 5).")
    pair = p["pairs"][task]
    jid = new_id("jdg")
    parts.db.execute(
        "INSERT INTO judgements (id, study_id, participant_id, task, prompt, condition_a, condition_b, trace_a, "
        "trace_b, choice, ratings, reason, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(participant_id, task) DO UPDATE SET choice = excluded.choice, ratings = excluded.ratings, "
        "reason = excluded.reason, created = excluded.created",
        (jid, study["id"], participant_id, task, study["prompts"][task], pair[0], pair[1], answers["A"]["trace_id"],
         answers["B"]["trace_id"], choice, json.dumps(ratings), reason.strip()[:4000], now()))
    log_event(parts, participant_id, "judgement", {"task": task, "choice": choice, "ratings": ratings,
                                               "reason": reason.strip()[:4000]})


def progress(parts: StudyParts, study_id: str) -> list[dict[str, Any]]:
    study = get_study(parts, study_id)
    rows = parts.db.query(
        "SELECT p.id, p.code, p.consented, p.created, (SELECT count(*) FROM judgements j WHERE j.participant_id = p.id) "
        "AS done FROM participants p WHERE p.study_id = ? ORDER BY p.position", (study_id,))
    for r in rows:
        r["tasks"] = len(study["prompts"])
    return rows


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def judgement_rows(parts: StudyParts, study_id: str, participant_id: str | None = None) -> list[dict[str, Any]]:
    """One analysis-ready row per judgement (columns in docs/study-data.md)."""
    study = get_study(parts, study_id)
    conds = {c["id"]: c for c in study["conditions"]}
    sql = ("SELECT j.*, p.code FROM judgements j JOIN participants p ON p.id = j.participant_id WHERE j.study_id = ?"
           + (" AND j.participant_id = ?" if participant_id else "") + " ORDER BY p.position, j.task")
    rows = []
    for j in parts.db.query(sql, (study_id, participant_id) if participant_id else (study_id,)):
        answers = _answers(parts, j["participant_id"], j["task"])
        ratings = json.loads(j["ratings"])
        row = {"study_id": study_id, "study_name": study["name"], "participant": j["code"], "task": j["task"] + 1,
               "prompt": j["prompt"], "condition_a": conds[j["condition_a"]]["label"],
               "condition_b": conds[j["condition_b"]]["label"], "mode_a": conds[j["condition_a"]]["mode"],
               "retriever_a": conds[j["condition_a"]]["retriever"], "mode_b": conds[j["condition_b"]]["mode"],
               "retriever_b": conds[j["condition_b"]]["retriever"], "choice": j["choice"],
               "preferred_condition": {"A": conds[j["condition_a"]]["label"], "B": conds[j["condition_b"]]["label"],
                                       "none": ""}[j["choice"]],
               "reason": j["reason"], "model_a": answers["A"].get("model"), "model_b": answers["B"].get("model"),
               "latency_a_s": answers["A"].get("latency_s"), "latency_b_s": answers["B"].get("latency_s"),
               "snippets_a": len(answers["A"].get("snippets", [])), "snippets_b": len(answers["B"].get("snippets", [])),
               "created": j["created"]}
        for q in study["questions"]:
            row[f"rating_a_{q['id']}"] = ratings["A"][q["id"]]
            row[f"rating_b_{q['id']}"] = ratings["B"][q["id"]]
        rows.append(row)
    return rows


def csv_columns(study: dict[str, Any]) -> list[str]:
    return CSV_BASE + [f"rating_{s}_{q['id']}" for s in ("a", "b") for q in study["questions"]]


def export_csv(parts: StudyParts, study_id: str, participant_id: str | None = None) -> str:
    study = get_study(parts, study_id)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=csv_columns(study))
    writer.writeheader()
    writer.writerows(judgement_rows(parts, study_id, participant_id))
    return buf.getvalue()


def export_jsonl(parts: StudyParts, study_id: str, participant_id: str | None = None) -> str:
    """Every event of the study (or one participant), one JSON object per line, answers with their full traces."""
    sql = ("SELECT e.id, e.kind, e.data, e.created, p.code AS participant FROM study_events e JOIN participants p "
           "ON p.id = e.participant_id WHERE e.study_id = ?" + (" AND e.participant_id = ?" if participant_id else "")
           + " ORDER BY e.id")
    lines = []
    for e in parts.db.query(sql, (study_id, participant_id) if participant_id else (study_id,)):
        data = json.loads(e["data"])
        if e["kind"] == "answer":
            t = parts.db.one("SELECT data FROM traces WHERE id = ?", (data["trace_id"],))
            data["trace"] = json.loads(t["data"]) if t else None
        lines.append(json.dumps({"study_id": study_id, "event": e["id"], "participant": e["participant"],
                                 "kind": e["kind"], "created": e["created"], "data": data}, default=str))
    return "\n".join(lines) + ("\n" if lines else "")


def summary(parts: StudyParts, study_id: str) -> dict[str, Any]:
    """Preference counts and win rates per condition with 95% Wilson intervals (ties excluded from the rate), and
    the rating distributions per condition and question."""
    study = get_study(parts, study_id)
    rows = judgement_rows(parts, study_id)
    out: dict[str, Any] = {"judgements": len(rows), "participants": len(progress(parts, study_id)), "conditions": {}}
    for c in study["conditions"]:
        label = c["label"]
        shown = [r for r in rows if label in (r["condition_a"], r["condition_b"])]
        wins = sum(1 for r in shown if r["preferred_condition"] == label)
        ties = sum(1 for r in shown if r["choice"] == "none")
        losses = len(shown) - wins - ties
        lo, hi = wilson(wins, wins + losses)
        ratings: dict[str, list[int]] = {q["id"]: [] for q in study["questions"]}
        for r in rows:
            for slot in ("a", "b"):
                if r[f"condition_{slot}"] == label:
                    for q in study["questions"]:
                        ratings[q["id"]].append(int(r[f"rating_{slot}_{q['id']}"]))
        out["conditions"][label] = {"shown": len(shown), "wins": wins, "losses": losses, "ties": ties,
                                    "win_rate": wins / (wins + losses) if wins + losses else None,
                                    "ci95": [lo, hi], "ratings": ratings}
    return out


def delete_participant(parts: StudyParts, participant_id: str) -> None:
    """Remove one participant's data everywhere: events, judgements, their profile with its samples, vectors,
    sessions, messages and traces, quotes of their shared writing in other participants' answers; then purge the
    bytes the stores keep (personal_data.py, erasure.py)."""
    p = get_participant(parts, participant_id)
    if p["profile_id"]:
        try:
            parts.people.delete_profile(p["profile_id"], purge=False)
        except NotFound:
            pass
    with parts.db.transaction() as db:
        db.execute("DELETE FROM study_events WHERE participant_id = ?", (participant_id,))
        db.execute("DELETE FROM judgements WHERE participant_id = ?", (participant_id,))
        db.execute("DELETE FROM participants WHERE id = ?", (participant_id,))
    parts.people.purge_deleted()


def export_participant(parts: StudyParts, participant_id: str) -> dict[str, Any]:
    """Everything stored about one participant (a data-subject access request)."""
    p = get_participant(parts, participant_id)
    profile = parts.people.get_profile(p["profile_id"]) if p["profile_id"] else None
    sessions = parts.conversations.sessions(p["profile_id"]) if p["profile_id"] else []
    return {"participant": p, "profile": profile,
            "samples": [{**s, "text": parts.library.sample_text(s["id"])}
                        for s in parts.library.list_samples(p["profile_id"])] if profile else [],
            "messages": [m for s in sessions for m in parts.conversations.session_messages(s["id"])],
            "events": [json.loads(x) for x in export_jsonl(parts, p["study_id"], participant_id).splitlines()],
            "judgements": judgement_rows(parts, p["study_id"], participant_id)}
