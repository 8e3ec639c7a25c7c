"""Studies: participants compare two personalization conditions on the same prompt (PRISM-style pairwise preference).

A study has conditions (granularity + retriever), an assignment (within-subject: every participant sees every pair
of conditions, A/B order counterbalanced by join order; between-subject: each participant is randomly assigned one
pair), blind or labelled presentation, Likert questions per criterion and task prompts. Everything a participant
does is an event in ``study_events``; judgements have their own table, one row per task, for analysis.
In blind mode nothing returned by ``task_view`` names a condition: the page cannot leak what it was never given.
Column meanings are documented in docs/study-data.md.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import secrets
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from playground.errors import InvalidInput, LLMError, NotFound, PlaygroundError
from playground.pipeline.conversations import find_trace
from playground.pipeline.retrieval import RETRIEVERS, RetrievalOptions
from playground.research import admin_guard, participant_ids
from playground.research.bradley_terry import Comparison
from playground.research.bradley_terry import fit as bt_fit
from playground.research.csv_safe import write_csv
from playground.stores.db import new_id, now
from playground.stores.personal_data import scrub_withdrawn_answers

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.people.directory import People
    from playground.pipeline.conversations import Conversations
    from playground.settings import Settings
    from playground.stores.db import Database


DEFAULT_QUESTIONS: tuple[dict[str, str], ...] = (
    {"id": "tone", "criterion": "tone and style", "text": "The tone and style of this answer suit me."},
    {"id": "relevance", "criterion": "relevance", "text": "This answer is relevant to me and to what I asked."},
    {"id": "accuracy", "criterion": "accuracy", "text": "This answer is accurate."},
)
LIKERT = (1, 2, 3, 4, 5)
CHOICES = ("A", "B", "none")
CSV_BASE = ["study_id", "study_name", "participant", "task", "prompt", "condition_a", "condition_b", "mode_a",
            "retriever_a", "mode_b", "retriever_b", "choice", "preferred_condition", "reason", "model_a", "model_b",
            "latency_a_s", "latency_b_s", "snippets_a", "snippets_b", "created", "words_a", "words_b",
            "platform_study_id", "platform_session_id", "attention_passed"]
ACCESS = ("open", "invited")
DEFAULT_ATTENTION = {"question": "To show that you are reading carefully, choose “Purple” below.",
                     "options": ["Red", "Green", "Purple", "Blue"], "answer": "Purple"}
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code(n: int = 6) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(n))


def _study_row(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("conditions", "questions", "prompts", "settings"):
        row[k] = json.loads(row[k])
    row["blind"], row["open"] = bool(row["blind"]), bool(row["open"])
    return row


def check_questions(questions: Sequence[dict[str, str] | str]) -> list[dict[str, str]]:
    """The researcher's Likert statements: text each (a string or ``{"text": …, "id": …}``), ids unique."""
    out: list[dict[str, str]] = []
    for n, q in enumerate(questions, 1):
        q = {"text": q} if isinstance(q, str) else dict(q)
        text = str(q.get("text", "")).strip()
        if not text:
            continue
        qid = str(q.get("id") or f"q{n}").strip()
        if not qid.replace("_", "").isalnum() or not qid.isascii():
            raise InvalidInput(f"Question id “{qid}” may use only letters, digits and _ (it names export columns).")
        if qid in {x["id"] for x in out}:
            raise InvalidInput(f"Two questions have the id “{qid}”: give each its own.")
        out.append({"id": qid, "criterion": str(q.get("criterion") or text[:40]), "text": text[:500]})
    return out


def check_settings(settings: dict[str, Any], n_prompts: int) -> dict[str, Any]:
    """How the study is joined and finished (docs/study-data.md, "Running a study online")."""
    unknown = set(settings) - {"access", "participant_param", "study_param", "session_param", "completion_code",
                               "redirect_url", "min_tasks", "attention_check"}
    if unknown:
        raise InvalidInput(f"Unknown study setting(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {"access": settings.get("access") or "open"}
    if out["access"] not in ACCESS:
        raise InvalidInput("Access is 'open' (anyone with the study code picks an ID) or 'invited' (only the IDs "
                           "you register, each with its own access code).")
    for k in ("participant_param", "study_param", "session_param"):
        v = str(settings.get(k) or "").strip()
        if v and (not v.replace("_", "").replace("-", "").isalnum() or not v.isascii() or len(v) > 40):
            raise InvalidInput(f"URL parameter name “{v}” may use only letters, digits, _ and -.")
        out[k] = v
    out["completion_code"] = str(settings.get("completion_code") or "").strip()[:60]
    url = str(settings.get("redirect_url") or "").strip()
    if url and not url.startswith("https://"):
        raise InvalidInput("The redirect URL must start with https://.")
    out["redirect_url"] = url
    try:
        m = int(settings.get("min_tasks") or 0)
    except (TypeError, ValueError):
        raise InvalidInput("The minimum number of tasks is a whole number.") from None
    if not 0 <= m <= n_prompts:
        raise InvalidInput(f"The minimum number of tasks is between 0 (all of them) and {n_prompts}.")
    out["min_tasks"] = m
    att = settings.get("attention_check")
    if att is True:
        att = DEFAULT_ATTENTION
    if att:
        att = {"question": str(att.get("question", "")).strip(), "options": [str(o) for o in att.get("options", [])],
               "answer": str(att.get("answer", ""))}
        if not att["question"] or len(att["options"]) < 2 or att["answer"] not in att["options"]:
            raise InvalidInput("An attention check needs a question, at least two options and the right answer "
                               "among them.")
    out["attention_check"] = att or None
    return out


CONFIG_KEYS = frozenset({"name", "consent", "conditions", "prompts", "assignment", "blind", "questions", "persona",
                         "online", "invites"})


def read_config(path: Path) -> dict[str, Any]:
    """A study file (TOML; its keys are in docs/study-data.md), refused when it has a key we do not know."""
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInput(f"{path} cannot be read: {e.strerror}.") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"{path} is not valid TOML: {e}.") from None
    if set(cfg) - CONFIG_KEYS:
        raise InvalidInput(f"Unknown key(s) in {path}: {', '.join(sorted(set(cfg) - CONFIG_KEYS))}.")
    return cfg


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


def _norm(code: str) -> str:
    """A code as a person types it back: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _resume_matches(row: dict[str, Any], token: str) -> bool:
    return bool(token) and bool(row["resume_hash"]) and any(
        secrets.compare_digest(row["resume_hash"], _token_hash(t)) for t in {token, _norm(token)})


def _participant(row: dict[str, Any]) -> dict[str, Any]:
    row["pairs"] = json.loads(row["pairs"])
    row["external"] = json.loads(row.get("external") or "{}")
    row["preview"] = bool(row.get("preview"))
    return row


def tasks_needed(study: dict[str, Any]) -> int:
    """How many tasks a participant judges before they may finish."""
    return study["settings"].get("min_tasks") or len(study["prompts"])


def _condition(study: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in study["conditions"] if c["id"] == cid)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def csv_columns(study: dict[str, Any]) -> list[str]:
    return CSV_BASE + [f"rating_{s}_{q['id']}" for s in ("a", "b") for q in study["questions"]]


CODEBOOK = {
    "study_id": "the study's id", "study_name": "the study's name", "participant": "the participant ID (as first typed, "
    "or the platform's participant id from the URL)", "task": "task number, from 1", "prompt": "the task's request",
    "condition_a": "condition shown as answer A (granularity · retriever)", "condition_b": "condition shown as B",
    "mode_a": "granularity of A: user, persona, global or auto", "retriever_a": "retriever of A",
    "mode_b": "granularity of B", "retriever_b": "retriever of B", "choice": "A, B or none (no preference)",
    "preferred_condition": "label of the preferred condition; empty for no preference",
    "reason": "the participant's free-text reason (may be empty)", "model_a": "model that wrote A",
    "model_b": "model that wrote B", "latency_a_s": "seconds to write A", "latency_b_s": "seconds to write B",
    "snippets_a": "retrieved snippets in A's prompt", "snippets_b": "retrieved snippets in B's prompt",
    "created": "when the judgement was saved (UTC, ISO 8601)", "words_a": "words in answer A",
    "words_b": "words in answer B", "platform_study_id": "the recruiting platform's study id from the URL (empty if none)",
    "platform_session_id": "the platform's session id from the URL (empty if none)",
    "attention_passed": "True/False: the attention check answered right; empty: no check or not answered",
}


def codebook(study: dict[str, Any]) -> dict[str, Any]:
    """What every export column means (docs/study-data.md says the same), with this study's questions and set-up.
    Text cells that a spreadsheet would run as a formula start with an apostrophe in the CSV."""
    cols = dict(CODEBOOK)
    for s in ("a", "b"):
        for q in study["questions"]:
            cols[f"rating_{s}_{q['id']}"] = (f"answer {s.upper()}: agreement 1–5 with “{q['text']}”; empty when the "
                                            "participant left it unanswered")
    return {"study": {k: study[k] for k in ("id", "code", "name", "assignment", "blind", "conditions", "prompts",
                                           "questions")} | {"settings": {k: v for k, v in study["settings"].items()
                                                                         if k != "preview_hash"}},
            "csv_columns": cols,
            "jsonl": "one event per line: study_id, event (order), participant, kind (join, consent, upload, "
                     "skip_writing, attention, answer, judgement, error, finish), created, data (answers carry "
                     "their full trace)",
            "csv_safety": "text cells starting with = + - @ tab or CR are prefixed with an apostrophe"}


def bradley_terry(study: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Strengths per condition at equal answer length, and the length effect (bradley_terry.py); None before any
    decisive choice. Ties are left out."""
    comps = [Comparison(r["condition_a"], r["condition_b"], r["choice"] == "A", r["words_a"], r["words_b"])
             for r in rows if r["choice"] in ("A", "B")]
    if not comps:
        return None
    f = bt_fit(comps, [c["label"] for c in study["conditions"]])
    return {"n": f.n, "reference": f.conditions[0], "length_effect": f.length_effect, "length_se": f.length_se,
            "conditions": {c: {"strength": f.strength[c], "se": f.se[c],
                               "p_beats_reference": f.p_beats(c, f.conditions[0])} for c in f.conditions}}


def logged_answers(db: Any, participant_id: str, task: int) -> dict[str, dict[str, Any]]:
    """The answers logged for one task, by slot (A, B); the latest of each (a retry replaces a failure). Also read
    by the preference export (research.training_export)."""
    out: dict[str, dict[str, Any]] = {}
    for e in db.query("SELECT data FROM study_events WHERE participant_id = ? AND kind = 'answer' ORDER BY id",
                      (participant_id,)):
        d = json.loads(e["data"])
        if d["task"] == task:
            out[d["slot"]] = d
    return out


class Studies:
    """Every study and its participants (``pg.studies``): set-up, joining, answering, judging, exports, erasure."""

    def __init__(self, db: "Database", settings: "Settings", people: "People", library: "WritingLibrary",
                 conversations: "Conversations") -> None:
        self.db = db
        self.settings = settings
        self.people = people
        self.library = library
        self.conversations = conversations

    def check_admin_passphrase(self, given: str, secret: str) -> bool:
        """The Study admin page's passphrase, with failures counted on the server (research/admin_guard.py)."""
        return admin_guard.check_passphrase(self.db, "admin", given, secret)

    def admin_wait_left(self) -> float:
        """Seconds until the next passphrase attempt is checked (0: now)."""
        return admin_guard.wait_left(self.db, "admin")

    def create_study(self, name: str, consent_text: str, conditions: Sequence[dict[str, str]],
                     prompts: Sequence[str], *, assignment: str = "within", blind: bool = True,
                     questions: Sequence[dict[str, str] | str] = DEFAULT_QUESTIONS, persona_id: str = "",
                     settings: dict[str, Any] | None = None, invites: Sequence[str] = ()) -> dict[str, Any]:
        """``persona_id``: the persona that persona conditions answer with (a condition may name its own instead).
        Participants' profiles belong to no persona, so a persona condition without one is refused here, at set-up,
        rather than failing in front of every participant. The persona is frozen while the study is open (its text is
        kept in the study and nobody may edit or delete it until the study closes). ``questions``: the Likert statements
        (none: only the preference is asked). ``settings``: access and online running (:func:`check_settings`).
        ``invites``: participant IDs to register (access 'invited'); their access codes come from :meth:`invite`."""
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
            cond: dict[str, Any] = {"id": f"c{n}", "mode": c["mode"], "retriever": retriever,
                                    "label": f"{c['mode']} · {retriever}"}
            if c["mode"] == "persona":
                chosen = c.get("persona_id") or persona_id
                if not chosen:
                    raise InvalidInput(f"Condition {n} compares persona mode, which needs a persona: choose the persona "
                                       "the study uses (participants belong to none).")
                persona = self.people.get_persona(chosen)
                cond["persona_id"] = persona["id"]
                cond["persona_snapshot"] = {k: persona.get(k) for k in ("name", "description", "style_guidance")}
            conds.append(cond)
        if len({(c["mode"], c["retriever"], c.get("persona_id")) for c in conds}) < 2:
            raise InvalidInput("A study compares at least two different conditions.")
        prompts = [p.strip() for p in prompts if p.strip()]
        if not prompts:
            raise InvalidInput("A study needs at least one task prompt.")
        qs = check_questions(questions)
        config = check_settings(dict(settings or {}), len(prompts))
        sid = new_id("std")
        code = _code()
        with self.db.transaction() as db:
            db.execute("INSERT INTO studies (id, code, name, consent_text, conditions, assignment, blind, questions, "
                       "prompts, created, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (sid, code, name.strip(), consent_text.strip(), json.dumps(conds), assignment, int(blind),
                        json.dumps(qs), json.dumps(prompts), now(), json.dumps(config)))
            for c in conds:
                if c.get("persona_id"):
                    db.execute("INSERT OR IGNORE INTO persona_locks (persona_id, study_id, snapshot) VALUES (?, ?, ?)",
                               (c["persona_id"], sid, json.dumps(c["persona_snapshot"])))
        if invites:
            self.invite(sid, invites)
        return self.get_study(sid)

    def create_from_config(self, path: Path) -> dict[str, Any]:
        """A study as code: created from the file at ``path`` (``read_config``), its invited participants registered.
        Returns what a researcher needs next, the access codes included (shown this once)."""
        cfg = read_config(path)
        s = self.create_study(cfg.get("name", ""), cfg.get("consent", ""), cfg.get("conditions", []),
                         cfg.get("prompts", []), assignment=cfg.get("assignment", "within"), blind=cfg.get("blind", True),
                         questions=cfg.get("questions", list(DEFAULT_QUESTIONS)), persona_id=cfg.get("persona", ""),
                         settings=cfg.get("online", {}))
        codes = self.invite(s["id"], cfg.get("invites", [])) if cfg.get("invites") else []
        return {"id": s["id"], "code": s["code"], "name": s["name"], "conditions": s["conditions"],
                "questions": s["questions"], "settings": s["settings"], "access_codes": codes}

    def invite(self, study_id: str, participant_codes: Sequence[str]) -> list[dict[str, str]]:
        """Register participant IDs, each with a fresh access code to hand to that person (shown once: only a hash
        is stored). In an 'invited' study nobody joins without an ID on this list and its access code, so knowing the
        study code and someone's ID is not enough to take their place. Registering an ID again replaces its code."""
        study = self.get_study(study_id)
        out = []
        with self.db.transaction() as db:
            for raw in participant_codes:
                if not raw.strip():
                    continue
                shown, key = participant_ids.clean(raw), participant_ids.key(raw)
                access = _code(8)
                db.execute("INSERT INTO study_invites (study_id, code_key, code, access_hash) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(study_id, code_key) DO UPDATE SET code = excluded.code, "
                           "access_hash = excluded.access_hash", (study["id"], key, shown, _token_hash(_norm(access))))
                out.append({"participant": shown, "access_code": access})
        return out

    def close_study(self, study_id: str) -> None:
        """No new participants; the personas it froze may be edited again; a preview left unfinished (the tab
        closed) is deleted with its answers, and its link stops working."""
        study = self.get_study(study_id)
        with self.db.transaction() as db:
            db.execute("UPDATE studies SET open = 0 WHERE id = ?", (study["id"],))
            db.execute("DELETE FROM persona_locks WHERE study_id = ?", (study["id"],))
        self._delete_previews(study["id"])

    def _delete_previews(self, study_id: str) -> None:
        """The researcher's preview participant of a study, if any, with everything it wrote."""
        for old in self.db.query("SELECT id FROM participants WHERE study_id = ? AND preview = 1", (study_id,)):
            self.delete_participant(old["id"])

    def unfreeze_all_personas(self) -> None:
        """Let every persona be edited again, whatever study froze it (the admin's reset of everything)."""
        self.db.execute("DELETE FROM persona_locks")

    def new_preview_key(self, study_id: str) -> str:
        """A secret for the researcher's preview link (``?study=CODE&preview=KEY``); a new one replaces the old."""
        study = self.get_study(study_id)
        key = secrets.token_urlsafe(12)
        settings = {**study["settings"], "preview_hash": _token_hash(key)}
        self.db.execute("UPDATE studies SET settings = ? WHERE id = ?", (json.dumps(settings), study["id"]))
        return key

    def get_study(self, study_id: str) -> dict[str, Any]:
        row = find_study(self.db, study_id)
        if not row:
            raise NotFound("That study no longer exists.")
        return _study_row(row)

    def study_by_code(self, code: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM studies WHERE code = ?", (code.strip().upper(),))
        if not row:
            raise NotFound(f"There is no study with the code “{code.strip()}”.", "Check the code with the researcher.")
        return _study_row(row)

    def find_study(self, ref: str) -> dict[str, Any]:
        """The study with this id or, failing that, this code."""
        try:
            return self.get_study(ref)
        except NotFound:
            return self.study_by_code(ref)

    def list_studies(self) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT s.*, (SELECT count(*) FROM participants p WHERE p.study_id = s.id AND p.preview = 0) "
                              "AS n_participants "
                           "FROM studies s ORDER BY created DESC")
        return [_study_row(r) for r in rows]

    def _new_resume_token(self, participant_id: str) -> str:
        """A resume code short enough to write down (12 characters, about 60 bits), also what the resume link holds."""
        token = _code(12)
        self.db.execute("UPDATE participants SET resume_hash = ? WHERE id = ?", (_token_hash(token), participant_id))
        return token

    def join(self, study_code: str, participant_code: str, resume_token: str = "", *,
             access_code: str = "", external: dict[str, str] | None = None, preview_key: str = "") -> dict[str, Any]:
        """Join (or resume) a study. The participant ID is whatever the researcher handed out (or the recruiting
        platform put in the URL); no real name needed. Look-alike IDs are one participant (participant_ids.py).
        A claimed ID opens again only with its resume code (``resume_token``, also what the resume link holds), or in
        an 'invited' study with its access code; it is never enough to know the ID. The result carries a fresh
        ``resume_token``. ``preview_key``: the researcher's preview, a participant nobody counts or exports."""
        study = self.study_by_code(study_code)
        if preview_key:
            return self._join_preview(study, preview_key)
        shown, key = participant_ids.clean(participant_code), participant_ids.key(participant_code)
        invited = None
        if study["settings"].get("access") == "invited":
            row = self.db.one("SELECT * FROM study_invites WHERE study_id = ? AND code_key = ?", (study["id"], key))
            invited = row is not None and bool(access_code) and secrets.compare_digest(
                row["access_hash"], _token_hash(_norm(access_code)))
        existing = self.db.one("SELECT * FROM participants WHERE study_id = ? AND code_key = ? AND preview = 0",
                                (study["id"], key))
        if existing:
            if _resume_matches(existing, resume_token):
                return {**_participant(existing), "resume_token": resume_token}
            if invited:
                return {**_participant(existing), "resume_token": self._new_resume_token(existing["id"])}
            raise InvalidInput(f"Participant ID “{shown}” is already in use in this study, so it opens only with its "
                               "resume code.", "Type the resume code you were shown when you started, or ask the "
                               "researcher if you never started this study.")
        if invited is False:
            raise InvalidInput("This study is only for invited participants: that participant ID and access code do not "
                               "match.", "Check both with the message the researcher sent you.")
        if not study["open"]:
            raise InvalidInput("This study is closed to new participants.")
        pid = new_id("par")
        profile = self.people.create_profile(f"Participant {shown}", owner_token=f"study:{pid}",
                                              notes=f"study {study['code']}")
        ext = {k: str(v)[:200] for k, v in (external or {}).items() if v}
        with self.db.transaction() as db:
            position = db.execute("SELECT count(*) FROM participants WHERE study_id = ? AND preview = 0",
                                  (study["id"],)).fetchone()[0]
            taken = db.execute("SELECT 1 FROM participants WHERE study_id = ? AND code_key = ? AND preview = 0",
                               (study["id"], key)).fetchone()
            if not taken:
                db.execute("INSERT INTO participants (id, study_id, code, profile_id, position, pairs, created, code_key, "
                           "external) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (pid, study["id"], shown, profile["id"], position, json.dumps(_pairs(study, position, pid)),
                            now(), key, json.dumps(ext)))
        if taken:  # someone else claimed the same ID a moment ago (two browsers): theirs it is
            self.people.delete_profile(profile["id"], purge=False)
            raise InvalidInput(f"Participant ID “{shown}” is already in use in this study, so it opens only with its "
                               "resume code.", "Type the resume code you were shown when you started.")
        self.log_event(pid, "join", {"participant": shown, "position": position, **({"external": ext} if ext else {})})
        return {**self.get_participant(pid), "resume_token": self._new_resume_token(pid)}

    def _join_preview(self, study: dict[str, Any], preview_key: str) -> dict[str, Any]:
        h = study["settings"].get("preview_hash", "")
        if not h or not secrets.compare_digest(h, _token_hash(preview_key)):
            raise InvalidInput("This preview link is not valid (a newer one may have replaced it).",
                               "Open the preview link from the Study admin page again.")
        self._delete_previews(study["id"])
        pid = new_id("par")
        profile = self.people.create_profile("Preview", owner_token=f"study:{pid}", notes=f"preview {study['code']}")
        self.db.execute("INSERT INTO participants (id, study_id, code, profile_id, position, pairs, created, code_key, "
                         "preview) VALUES (?, ?, 'preview', ?, 0, ?, ?, ?, 1)",
                         (pid, study["id"], profile["id"], json.dumps(_pairs(study, 0, pid)), now(), f"preview:{pid}"))
        return {**self.get_participant(pid), "resume_token": self._new_resume_token(pid)}

    def resume(self, token: str) -> dict[str, Any]:
        """The participant whose resume link holds ``token`` (a reload, or coming back later)."""
        row = None
        for t in ({token, _norm(token)} if token else ()):
            row = row or self.db.one("SELECT * FROM participants WHERE resume_hash = ?", (_token_hash(t),))
        if not row:
            raise NotFound("This study link is no longer valid.", "Join again with your study code and participant ID.")
        return _participant(row)

    def end_resume(self, participant_id: str) -> None:
        """The participant finished: the resume link stops working, so the next person at a shared machine cannot
        reopen the session from the browser's history."""
        self.db.execute("UPDATE participants SET resume_hash = '' WHERE id = ?", (participant_id,))

    def skip_writing(self, participant_id: str) -> None:
        """The participant chose not to share writing: remembered, so a reload does not ask again."""
        self.db.execute("UPDATE participants SET skipped_writing = ? WHERE id = ? AND skipped_writing IS NULL",
                         (now(), participant_id))
        self.log_event(participant_id, "skip_writing", {})

    def attention_answer(self, participant_id: str) -> dict[str, Any] | None:
        """The participant's answer to the attention check (``{"answer", "passed"}``), or None before it."""
        row = self.db.one("SELECT data FROM study_events WHERE participant_id = ? AND kind = 'attention' ORDER BY id "
                           "LIMIT 1", (participant_id,))
        return json.loads(row["data"]) if row else None

    def answer_attention(self, participant_id: str, answer: str) -> bool:
        """Record the attention-check answer once (a second answer is ignored); True when it was the right one."""
        p = self.get_participant(participant_id)
        check = self.get_study(p["study_id"])["settings"].get("attention_check")
        if not check:
            raise InvalidInput("This study has no attention check.")
        if answer not in check["options"]:
            raise InvalidInput("Pick one of the options.")
        before = self.attention_answer(participant_id)
        if before:
            return bool(before["passed"])
        self.log_event(participant_id, "attention", {"answer": answer, "passed": answer == check["answer"]})
        return answer == check["answer"]

    def judged_tasks(self, participant_id: str) -> list[int]:
        """The tasks (from 0) this participant has judged."""
        return [r["task"] for r in self.db.query("SELECT task FROM judgements WHERE participant_id = ? ORDER BY task",
                                                  (participant_id,))]

    def finish(self, participant_id: str) -> dict[str, Any]:
        """End the participant's session: the completion code and redirect URL for the recruiting platform. Refused
        before the minimum number of tasks. The resume link stops working. A preview leaves nothing behind."""
        p = self.get_participant(participant_id)
        study = self.get_study(p["study_id"])
        done = self.db.count("SELECT count(*) AS n FROM judgements WHERE participant_id = ?", (participant_id,))
        if done < tasks_needed(study):
            raise InvalidInput(f"Please complete at least {tasks_needed(study)} tasks before finishing "
                               f"({done} done so far).")
        out = {"completion_code": study["settings"].get("completion_code", ""),
               "redirect_url": study["settings"].get("redirect_url", ""), "preview": p["preview"]}
        if p["preview"]:
            self.delete_participant(participant_id)
            return out
        if not p["finished"]:
            self.db.execute("UPDATE participants SET finished = ? WHERE id = ?", (now(), participant_id))
            self.log_event(participant_id, "finish", {"tasks": done})
        self.end_resume(participant_id)
        return out

    def get_participant(self, participant_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM participants WHERE id = ?", (participant_id,))
        if not row:
            raise NotFound("That participant no longer exists.")
        return _participant(row)

    def log_event(self, participant_id: str, kind: str, data: dict[str, Any]) -> None:
        row = self.db.one("SELECT study_id FROM participants WHERE id = ?", (participant_id,))
        if not row:
            raise NotFound("That participant no longer exists.")
        self.db.execute("INSERT INTO study_events (study_id, participant_id, kind, data, created) VALUES (?, ?, ?, ?, ?)",
                      (row["study_id"], participant_id, kind, json.dumps(data, default=str), now()))

    def consent(self, participant_id: str) -> None:
        self.db.execute("UPDATE participants SET consented = ? WHERE id = ? AND consented IS NULL", (now(), participant_id))
        self.log_event(participant_id, "consent", {"accepted": True})

    def answers(self, participant_id: str, task: int) -> dict[str, dict[str, Any]]:
        """The answers logged for one task, by slot (A, B); the latest of each (a retry replaces a failure)."""
        return logged_answers(self.db, participant_id, task)

    def task_view(self, participant_id: str, task: int) -> dict[str, Any]:
        """What the participant's page may show for a task: the prompt, answers A and B (text only) and whether it
        is judged. Condition names appear only when the study is labelled, never in blind mode."""
        p = self.get_participant(participant_id)
        study = self.get_study(p["study_id"])
        if not 0 <= task < len(study["prompts"]):
            raise NotFound("There is no such task in this study.")
        answers = self.answers(participant_id, task)
        view: dict[str, Any] = {"task": task, "of": len(study["prompts"]), "prompt": study["prompts"][task],
                                "answers": {slot: {"text": a["text"], "status": a["status"]} for slot, a in answers.items()},
                                "judged": bool(self.db.one("SELECT 1 AS x FROM judgements WHERE participant_id = ? AND "
                                                         "task = ?", (participant_id, task))),
                                "questions": study["questions"], "blind": study["blind"]}
        if not study["blind"]:
            pair = p["pairs"][task]
            view["labels"] = {"A": _condition(study, pair[0])["label"], "B": _condition(study, pair[1])["label"]}
        return view

    def generate_answers(self, participant_id: str, task: int) -> dict[str, Any]:
        """Answer the task's prompt under both conditions (each in a fresh conversation, so tasks do not bleed into
        each other), log both with their traces, and return the task view. A model failure is recorded and re-raised."""
        p = self.get_participant(participant_id)
        study = self.get_study(p["study_id"])
        if not p["consented"]:
            raise InvalidInput("Please read and accept the consent text first.")
        done = self.answers(participant_id, task)
        prompt = study["prompts"][task]
        for slot, cid in zip("AB", p["pairs"][task]):
            if slot in done and done[slot]["status"] == "complete":
                continue
            cond = _condition(study, cid)
            session = self.conversations.new_session(p["profile_id"], title=f"study {study['code']} task {task + 1}{slot}")
            try:
                turn = self.conversations.start_turn(session["id"], prompt, cond["mode"],
                                     RetrievalOptions(cond["retriever"], k=self.settings.default_k),
                                     persona_id=cond.get("persona_id"))
            except PlaygroundError as e:
                if not study["blind"]:
                    raise
                # The reason may name the condition ("Persona mode needs…"): a blind participant must not learn it.
                self.log_event(participant_id, "error", {"task": task, "slot": slot, "condition": cid, "error": str(e)})
                raise InvalidInput(f"Answer {slot} could not be prepared because of a problem in the study's set-up.",
                                   "Please tell the researcher; the reason is in the study's event export.") from e
            error: LLMError | None = None
            try:
                for _ in turn.stream():
                    pass
            except LLMError as e:
                error = e
            self.log_event(participant_id, "answer", {
                "task": task, "slot": slot, "condition": cid, "trace_id": turn.trace["id"], "text": turn.answer,
                "status": turn.status, "model": turn.trace.get("model"), "latency_s": turn.trace.get("latency_s"),
                "snippets": [{"chunk_id": h.chunk_id, "score": h.score} for h in turn.hits],
                "prompt_parts": [{"source": x.source, "tokens": x.tokens} for x in turn.prompt.parts]})
            scrub_withdrawn_answers(self.db)  # a writer it quoted may have been deleted while it was written
            if error:
                raise error
        return self.task_view(participant_id, task)

    def judge(self, participant_id: str, task: int, choice: str,
              ratings: Mapping[str, Mapping[str, int | None]], reason: str = "") -> None:
        """Record the preferred answer (A, B or none), Likert ratings per answer and question, and a free-text reason."""
        p = self.get_participant(participant_id)
        study = self.get_study(p["study_id"])
        if choice not in CHOICES:
            raise InvalidInput("Pick A, B or “no preference”.")
        answers = self.answers(participant_id, task)
        if set(answers) != {"A", "B"}:
            raise InvalidInput("Both answers must be shown before you can compare them.")
        qids = {q["id"] for q in study["questions"]}
        # A rating nobody gave is stored as null (exported empty), never as a middle value nobody chose.
        clean: dict[str, dict[str, int | None]] = {}
        for slot in ("A", "B"):
            given = ratings.get(slot, {}) or {}
            if set(given) - qids or any(v is not None and v not in LIKERT for v in given.values()):
                raise InvalidInput(f"Ratings for answer {slot} are 1 to 5 on this study's questions, or left out.")
            clean[slot] = {q: given.get(q) for q in sorted(qids)}
        ratings = clean
        pair = p["pairs"][task]
        jid = new_id("jdg")
        self.db.execute(
            "INSERT INTO judgements (id, study_id, participant_id, task, prompt, condition_a, condition_b, trace_a, "
            "trace_b, choice, ratings, reason, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(participant_id, task) DO UPDATE SET choice = excluded.choice, ratings = excluded.ratings, "
            "reason = excluded.reason, created = excluded.created",
            (jid, study["id"], participant_id, task, study["prompts"][task], pair[0], pair[1], answers["A"]["trace_id"],
             answers["B"]["trace_id"], choice, json.dumps(ratings), reason.strip()[:4000], now()))
        self.log_event(participant_id, "judgement", {"task": task, "choice": choice, "ratings": ratings,
                                                   "reason": reason.strip()[:4000]})

    def progress(self, study_id: str) -> list[dict[str, Any]]:
        study = self.get_study(study_id)
        rows = self.db.query(
            "SELECT p.id, p.code, p.consented, p.created, p.finished, (SELECT count(*) FROM judgements j "
            "WHERE j.participant_id = p.id) "
            "AS done FROM participants p WHERE p.study_id = ? AND p.preview = 0 ORDER BY p.position", (study_id,))
        for r in rows:
            r["tasks"] = len(study["prompts"])
            att = self.attention_answer(r["id"])
            r["attention_passed"] = None if att is None else bool(att["passed"])
        return rows

    def status_report(self, study: dict[str, Any]) -> dict[str, Any]:
        """A study's participants and how far each has got, with totals."""
        prog = self.progress(study["id"])
        return {"id": study["id"], "code": study["code"], "name": study["name"], "open": study["open"],
                "participants": len(prog), "judgements": sum(p["done"] for p in prog),
                "finished": sum(1 for p in prog if p["finished"]),
                "progress": [{"participant": p["code"], "consented": bool(p["consented"]), "done": p["done"],
                              "of": p["tasks"], "attention_passed": p["attention_passed"],
                              "finished": bool(p["finished"])} for p in prog]}

    def judgement_rows(self, study_id: str, participant_id: str | None = None) -> list[dict[str, Any]]:
        """One analysis-ready row per judgement (columns in docs/study-data.md)."""
        study = self.get_study(study_id)
        conds = {c["id"]: c for c in study["conditions"]}
        sql = ("SELECT j.*, p.code, p.external, p.id AS pid FROM judgements j "
               "JOIN participants p ON p.id = j.participant_id WHERE j.study_id = ? AND p.preview = 0"
               + (" AND j.participant_id = ?" if participant_id else "") + " ORDER BY p.position, j.task")
        rows = []
        for j in self.db.query(sql, (study_id, participant_id) if participant_id else (study_id,)):
            answers = self.answers(j["participant_id"], j["task"])
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
                   "created": j["created"], "words_a": len((answers["A"].get("text") or "").split()),
                   "words_b": len((answers["B"].get("text") or "").split())}
            ext = json.loads(j["external"] or "{}")
            att = self.attention_answer(j["pid"])
            row.update({"platform_study_id": ext.get("study", ""), "platform_session_id": ext.get("session", ""),
                        "attention_passed": "" if att is None else bool(att["passed"])})
            for q in study["questions"]:
                row[f"rating_a_{q['id']}"] = ratings["A"].get(q["id"])
                row[f"rating_b_{q['id']}"] = ratings["B"].get(q["id"])
            rows.append(row)
        return rows

    def export_csv(self, study_id: str, participant_id: str | None = None) -> str:
        """The judgements as CSV, safe to open in a spreadsheet (csv_safe.py); an unanswered rating is an empty cell."""
        study = self.get_study(study_id)
        return write_csv(self.judgement_rows(study_id, participant_id), csv_columns(study))

    def export_jsonl(self, study_id: str, participant_id: str | None = None) -> str:
        """Every event of the study (or one participant), one JSON object per line, answers with their full traces."""
        sql = ("SELECT e.id, e.kind, e.data, e.created, p.code AS participant FROM study_events e JOIN participants p "
               "ON p.id = e.participant_id WHERE e.study_id = ? AND p.preview = 0"
               + (" AND e.participant_id = ?" if participant_id else "") + " ORDER BY e.id")
        lines = []
        for e in self.db.query(sql, (study_id, participant_id) if participant_id else (study_id,)):
            data = json.loads(e["data"])
            if e["kind"] == "answer":
                data["trace"] = find_trace(self.db, data["trace_id"])
            lines.append(json.dumps({"study_id": study_id, "event": e["id"], "participant": e["participant"],
                                     "kind": e["kind"], "created": e["created"], "data": data}, default=str))
        return "\n".join(lines) + ("\n" if lines else "")

    def export_folder(self, study: dict[str, Any], folder: Path) -> dict[str, Any]:
        """judgements.csv, events.jsonl and codebook.json written into ``folder`` (made if missing); what was written."""
        folder.mkdir(parents=True, exist_ok=True)
        files = {"judgements.csv": self.export_csv(study["id"]), "events.jsonl": self.export_jsonl(study["id"]),
                 "codebook.json": json.dumps(codebook(study), indent=2, ensure_ascii=False) + "\n"}
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return {"study": study["id"], "folder": str(folder), "files": sorted(files),
                "judgements": max(0, len(files["judgements.csv"].splitlines()) - 1)}

    def summary(self, study_id: str) -> dict[str, Any]:
        """Preference counts and win rates per condition with 95% Wilson intervals (ties excluded from the rate), and
        the rating distributions per condition and question."""
        study = self.get_study(study_id)
        rows = self.judgement_rows(study_id)
        out: dict[str, Any] = {"judgements": len(rows), "participants": len(self.progress(study_id)), "conditions": {}}
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
                            if r[f"rating_{slot}_{q['id']}"] is not None:
                                ratings[q["id"]].append(int(r[f"rating_{slot}_{q['id']}"]))
            out["conditions"][label] = {"shown": len(shown), "wins": wins, "losses": losses, "ties": ties,
                                        "win_rate": wins / (wins + losses) if wins + losses else None,
                                        "ci95": [lo, hi], "ratings": ratings}
        out["bradley_terry"] = bradley_terry(study, rows)
        return out

    def delete_participant(self, participant_id: str) -> None:
        """Remove one participant's data everywhere: events, judgements, their profile with its samples, vectors,
        sessions, messages and traces, quotes of their shared writing in other participants' answers; then purge the
        bytes the stores keep (personal_data.py, erasure.py)."""
        p = self.get_participant(participant_id)
        if p["profile_id"]:
            try:
                self.people.delete_profile(p["profile_id"], purge=False)
            except NotFound:
                pass
        with self.db.transaction() as db:
            db.execute("DELETE FROM study_events WHERE participant_id = ?", (participant_id,))
            db.execute("DELETE FROM judgements WHERE participant_id = ?", (participant_id,))
            db.execute("DELETE FROM participants WHERE id = ?", (participant_id,))
        self.people.purge_deleted()

    def find_participant(self, study: dict[str, Any], ref: str) -> str:
        """The internal id of the study's participant with this internal id or this participant ID (look-alikes of
        it count: participant_ids.key)."""
        row = self.db.one("SELECT id FROM participants WHERE study_id = ? AND (id = ? OR code_key = ?)",
                           (study["id"], ref, participant_ids.key(ref)))
        if not row:
            raise NotFound(f"Study {study['code']} has no participant “{ref}”.")
        return str(row["id"])

    def export_participant(self, participant_id: str) -> dict[str, Any]:
        """Everything stored about one participant (a data-subject access request)."""
        p = self.get_participant(participant_id)
        profile = self.people.get_profile(p["profile_id"]) if p["profile_id"] else None
        sessions = self.conversations.sessions(p["profile_id"]) if p["profile_id"] else []
        return {"participant": p, "profile": profile,
                "samples": [{**s, "text": self.library.sample_text(s["id"])}
                            for s in self.library.list_samples(p["profile_id"])] if profile else [],
                "messages": [m for s in sessions for m in self.conversations.session_messages(s["id"])],
                "events": [json.loads(x) for x in self.export_jsonl(p["study_id"], participant_id).splitlines()],
                "judgements": self.judgement_rows(p["study_id"], participant_id)}


def judgement_count(db: "Database") -> int:
    """Study judgements, over every study."""
    return db.count("SELECT count(*) AS n FROM judgements")


def find_study(db: "Database", study_id: str) -> dict[str, Any] | None:
    """The study's row as stored (conditions as JSON text), or None."""
    return db.one("SELECT * FROM studies WHERE id = ?", (study_id,))


def judgements_with_participants(db: "Database", study_id: str) -> list[dict[str, Any]]:
    """Every judgement of a study with its participant's code and profile, in participant order then task order."""
    return db.query("SELECT j.*, p.code, p.profile_id FROM judgements j JOIN participants p ON p.id = j.participant_id "
                    "WHERE j.study_id = ? ORDER BY p.position, j.task", (study_id,))
