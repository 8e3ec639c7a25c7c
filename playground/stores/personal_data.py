"""Where a person's data lives: ONE declaration, used by deletion, per-person export and the erasure checker.

``PLACES`` lists every SQLite table, JSON field, Chroma collection and file that can hold a person's text. Each place
says how its rows are found for a person and what erasure does there:

- ``delete``: the rows are the person's own (their profile, samples, chunks, summary, chats, study records);
- ``scrub``: the rows belong to someone else but may quote the person (another member's trace that retrieved their
  shared chunk, the answer written from it, a later prompt that carried that answer as history, another study
  participant's answer event): the quoted parts are replaced by ``REMOVED`` and the answer by ``REMOVED_ANSWER``;
- ``vectors``: Chroma records (the person's own collection is dropped; their copies in a persona collection deleted);
- ``bytes``: what the engines leave in freed pages and side files after rows are gone (SQLite's WAL, Chroma's
  ``chroma.sqlite3`` and its on-disk vector indexes); ``erasure.purge`` clears them.

``erase_profile`` walks the declaration in order; ``export_profile`` reads the same places; ``places_holding``
(behind ``python -m playground doctor --erasure``) reports which places still hold anything of a person.
Evaluation results are never written to disk (the CLI's evaluation uses a throw-away folder; the Evaluate page keeps
them in the browser session), and study exports are downloads built on request; neither leaves a file behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground.stores.db import Database, now
from playground.stores.erasure import halt_point, rebuild_collection
from playground.stores.vectors import VectorStore, mark_changed, persona_collection, user_collection

REMOVED = "[removed: the writer of this passage withdrew it]"
REMOVED_ANSWER = "[This answer was removed: it was written from shared writing that its author has withdrawn.]"

Action = Literal["delete", "scrub", "vectors", "bytes"]


@dataclass(frozen=True)
class Place:
    store: Literal["sqlite", "chroma", "files"]
    name: str  # table, collection pattern or file
    holds: str  # for people: what of a person is kept here
    action: Action
    where: str = ""  # SQLite: the person's rows, with the named parameters :profile (and its participants)


_SESSIONS = "session_id IN (SELECT id FROM sessions WHERE profile_id = :profile)"
_PARTICIPANTS = "participant_id IN (SELECT id FROM participants WHERE profile_id = :profile)"
# An explanation is theirs, or quotes them when its prompt parts name them as a snippet's owner (profile ids are unique).
_EXPLAINED = "profile_id = :profile OR instr(parts, :profile) > 0"
# Tables that never hold a person's text, and why (a test fails when a table is in neither list).
NOT_PERSONAL = {
    "_migrations": "which schema steps ran",
    "sqlite_sequence": "SQLite's own counters",
    "app_settings": "the workshop preset",
    "chroma_namespace": "the name of this data folder's database on a Chroma server",
    "personas": "shipped personas and personas written as group descriptions, owned by no profile",
    "studies": "a study's set-up, written by the researcher",
    "study_invites": "participant IDs the researcher issued and hashed access codes, before anyone uses them",
    "admin_attempts": "counts of failed passphrase attempts per scope",
    "persona_locks": "which persona an open study freezes, with the persona's text (no profile's writing)",
    "deletions": "profile deletions in progress: a profile id only, removed once the deletion is finished",
}

PLACES: tuple[Place, ...] = (
    # The person's own rows, children before parents (deletion runs in this order, in one transaction).
    Place("sqlite", "judge_verdicts", "the personalized judge's verdicts on their study judgements", "delete",
          _PARTICIPANTS),
    Place("sqlite", "study_events", "study events: join, consent, uploads, answers, judgements with reasons", "delete",
          _PARTICIPANTS),
    Place("sqlite", "judgements", "study judgements: choice, ratings, free-text reason", "delete", _PARTICIPANTS),
    Place("sqlite", "participants", "study participation: the participant ID they typed", "delete",
          "profile_id = :profile"),
    Place("sqlite", "preferences", "Compare-page preferences: the message and reason", "delete",
          "profile_id = :profile"),
    Place("sqlite", "traces", "their turns' traces: query, retrieved snippets, full prompt", "delete", _SESSIONS),
    Place("sqlite", "messages", "their messages and the answers to them", "delete", _SESSIONS),
    Place("sqlite", "sessions", "their conversations' titles", "delete", "profile_id = :profile"),
    Place("sqlite", "profile_summaries", "the model-written summary of their writing", "delete",
          "profile_id = :profile"),
    Place("sqlite", "profile_style_cards", "the style card measured from their writing", "delete",
          "profile_id = :profile"),
    Place("sqlite", "explanation_variants", "counterfactual answers and the prompts they were sent with, theirs and "
          "anyone's that quoted their shared chunks", "delete", f"explanation_id IN (SELECT id FROM explanations "
          f"WHERE {_EXPLAINED})"),
    Place("sqlite", "explanations", "explained answers: the message and the prompt's parts, theirs and anyone's that "
          "quoted their shared chunks", "delete", _EXPLAINED),
    Place("sqlite", "chunks", "the chunks of their writing samples", "delete",
          "owner_kind = 'profile' AND owner_id = :profile"),
    Place("sqlite", "samples", "their writing samples: full text and title", "delete",
          "owner_kind = 'profile' AND owner_id = :profile"),
    Place("sqlite", "scope_revs", "the revision counter of their collection (no text)", "delete",
          "scope = 'u-' || :profile"),
    Place("sqlite", "profiles", "their profile: name, attributes, notes, persona and sharing choice", "delete",
          "id = :profile"),
    # Other people's rows that may quote them.
    Place("sqlite", "traces.data", "other people's traces: hits and prompt parts holding their shared chunks, and "
          "later prompts carrying an answer written from them", "scrub"),
    Place("sqlite", "messages.content", "other people's answers written from their shared chunks", "scrub"),
    Place("sqlite", "study_events.data", "other participants' answers written from their shared chunks", "scrub"),
    # Vectors.
    Place("chroma", "u-<profile id>", "their chunks with vectors and sample titles", "vectors"),
    Place("chroma", "p-<persona id>", "copies of their chunks while they share with a persona", "vectors"),
    # What engines keep after rows are gone.
    Place("files", "playground.sqlite3, -wal, -shm", "deleted rows in the write-ahead log and freed pages", "bytes"),
    Place("files", "chroma/chroma.sqlite3", "Chroma's records, metadata, full-text index and write queue", "bytes"),
    Place("files", "chroma/<segment id>/", "vector index folders, left behind by dropped collections", "bytes"),
)


def _params(profile_id: str) -> dict[str, str]:
    return {"profile": profile_id}


def own_places() -> list[Place]:
    return [p for p in PLACES if p.store == "sqlite" and p.action == "delete"]


def person_rows(db: Database, profile_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the person's own places (the export, and what the checker counts)."""
    return {p.name: db.query(f"SELECT * FROM {p.name} WHERE {p.where}", _params(profile_id)) for p in own_places()}


# -- other people's rows that quote the person ---------------------------------------------------------------------
def _scrub_trace(data: dict[str, Any], owner_id: str, titles: set[str],
                 samples: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    """Remove the owner's hits and prompt parts (only those of ``samples`` if given) from one trace; return
    (changed, the texts that were removed)."""
    def theirs(who: Any, chunk_id: Any) -> bool:
        return who == owner_id and (not samples or str(chunk_id or "").startswith(samples))

    removed: list[str] = []
    hits = data.get("hits") or []
    kept = [h for h in hits if not theirs(h.get("owner_id"), h.get("chunk_id"))]
    changed = len(kept) != len(hits)
    data["hits"] = kept
    prompt = data.get("prompt") or {}
    for part in prompt.get("parts") or []:
        meta = part.get("meta") or {}
        if theirs(meta.get("owner_id"), meta.get("chunk_id")):
            if part.get("text"):
                removed.append(part["text"])
            part.update(text=REMOVED, label=f"snippet #{part['meta'].get('n', '?')} · removed", meta={})
            changed = True
    for cut in prompt.get("cut") or []:
        if cut.get("owner_id") == owner_id or (cut.get("source") == "snippet" and
                                               any(cut.get("label", "").endswith(f" · {t}") for t in titles)):
            cut["label"] = "snippet · removed"
            cut.pop("owner_id", None)
            changed = True
    for m in prompt.get("messages") or []:
        for text in removed:
            if text in m.get("content", ""):
                m["content"] = m["content"].replace(text, REMOVED)
    return changed, removed


def _scrub_history(data: dict[str, Any], answers: set[str]) -> bool:
    """Replace a withdrawn answer wherever a later prompt carried it as history."""
    changed = False
    prompt = data.get("prompt") or {}
    for part in prompt.get("parts") or []:
        if part.get("source") == "history" and part.get("text") in answers:
            part["text"] = REMOVED_ANSWER
            changed = True
    for m in prompt.get("messages") or []:
        if m.get("role") == "assistant" and m.get("content") in answers:
            m["content"] = REMOVED_ANSWER
            changed = True
    return changed


def scrub_from_others(db: Database, owner_id: str, samples: tuple[str, ...] = ()) -> dict[str, int]:
    """Remove ``owner_id``'s shared chunks (only those of ``samples`` if given) from every other person's traces, the
    answers written from them (and those answers where later prompts carried them), and other participants' study
    answers. Returns counts."""
    counts: dict[str, int] = {"traces": 0, "answers": 0, "study_events": 0}
    mine = [r for r in db.query("SELECT id, title FROM samples WHERE owner_kind = 'profile' AND owner_id = ?",
                                (owner_id,)) if not samples or r["id"] in samples]
    titles = {r["title"] for r in mine if r["title"]}
    chunk_prefixes = [r["id"] for r in mine]
    rows = db.query("SELECT t.id, t.message_id, t.session_id, t.data FROM traces t JOIN sessions s "
                    "ON s.id = t.session_id WHERE (s.profile_id IS NULL OR s.profile_id != ?) AND instr(t.data, ?) > 0",
                    (owner_id, owner_id))
    with db.transaction() as conn:
        withdrawn: dict[str, set[str]] = {}  # session -> answers removed
        for r in rows:
            data = json.loads(r["data"])
            changed, _ = _scrub_trace(data, owner_id, titles, samples)
            if not changed:
                continue
            answer = conn.execute("SELECT content FROM messages WHERE id = ?", (r["message_id"],)).fetchone()
            if answer and answer[0]:
                withdrawn.setdefault(r["session_id"], set()).add(answer[0])
            conn.execute("UPDATE messages SET content = ? WHERE id = ?", (REMOVED_ANSWER, r["message_id"]))
            conn.execute("UPDATE traces SET data = ? WHERE id = ?", (json.dumps(data), r["id"]))
            counts["traces"] += 1
            counts["answers"] += 1
        gone: set[str] = set()  # every answer text withdrawn now, for the records that quote answers
        for session_id, answers in withdrawn.items():
            # In order: a later answer written from a prompt that carried a withdrawn answer as history was written
            # from the withdrawn writing too, so it goes as well (and so on down the conversation).
            for t in conn.execute("SELECT id, message_id, data FROM traces WHERE session_id = ? ORDER BY created, "
                                  "rowid", (session_id,)).fetchall():
                data = json.loads(t[2])
                if _scrub_history(data, answers):
                    conn.execute("UPDATE traces SET data = ? WHERE id = ?", (json.dumps(data), t[0]))
                    later = conn.execute("SELECT content FROM messages WHERE id = ?", (t[1],)).fetchone()
                    if later and later[0] and later[0] != REMOVED_ANSWER:
                        answers.add(later[0])
                        conn.execute("UPDATE messages SET content = ? WHERE id = ?", (REMOVED_ANSWER, t[1]))
                        counts["answers"] += 1
            gone |= answers
        if chunk_prefixes:
            events = conn.execute(
                "SELECT e.id, e.data FROM study_events e JOIN participants p ON p.id = e.participant_id "
                "WHERE e.kind = 'answer' AND (p.profile_id IS NULL OR p.profile_id != ?)", (owner_id,)).fetchall()
            for e in events:
                data = json.loads(e[1])
                if any(str(s.get("chunk_id", "")).startswith(tuple(chunk_prefixes)) for s in data.get("snippets", [])):
                    gone.add(data.get("text") or "")
                    data["text"] = REMOVED_ANSWER
                    data["snippets"] = [s for s in data["snippets"]
                                        if not str(s.get("chunk_id", "")).startswith(tuple(chunk_prefixes))]
                    conn.execute("UPDATE study_events SET data = ? WHERE id = ?", (json.dumps(data), e[0]))
                    counts["study_events"] += 1
        gone |= _scrub_withdrawn_events(conn)
        counts["explanations"] = counts["judge_verdicts"] = 0
        for text in sorted(t for t in gone if t.strip() and t != REMOVED_ANSWER):
            for needle in {text, json.dumps(text)[1:-1]}:
                ids = [r[0] for r in conn.execute("SELECT id FROM explanations WHERE instr(parts, ?) > 0",
                                                  (needle,)).fetchall()]
                for eid in ids:  # an explanation of a turn whose prompt quoted the withdrawn answer
                    conn.execute("DELETE FROM explanation_variants WHERE explanation_id = ?", (eid,))
                    conn.execute("DELETE FROM explanations WHERE id = ?", (eid,))
                counts["explanations"] += len(ids)
                # the personalized judge's prompts quoted the answers it compared
                counts["judge_verdicts"] += conn.execute(
                    "DELETE FROM judge_verdicts WHERE instr(data, ?) > 0 OR instr(raw, ?) > 0",
                    (needle, needle)).rowcount
    return counts


def _scrub_withdrawn_events(conn: Any) -> set[str]:
    """Study answer events whose trace's answer was withdrawn (the writer was deleted, perhaps before this event was
    written, so their chunk ids can no longer be looked up): the text goes too. Returns the texts removed."""
    removed: set[str] = set()
    rows = conn.execute(
        "SELECT e.id, e.data FROM study_events e WHERE e.kind = 'answer' AND json_extract(e.data, '$.text') != ? AND "
        "json_extract(e.data, '$.trace_id') IN (SELECT t.id FROM traces t JOIN messages m ON m.id = t.message_id "
        "WHERE m.content = ?)", (REMOVED_ANSWER, REMOVED_ANSWER)).fetchall()
    for e in rows:
        data = json.loads(e[1])
        removed.add(data.get("text") or "")
        data["text"] = REMOVED_ANSWER
        data["snippets"] = [x for x in data.get("snippets", []) if conn.execute(
            "SELECT 1 FROM chunks WHERE id = ?", (x.get("chunk_id"),)).fetchone()]
        conn.execute("UPDATE study_events SET data = ? WHERE id = ?", (json.dumps(data), e[0]))
    return removed


def scrub_withdrawn_answers(db: Database) -> int:
    """For a study answer event written just now: if its answer was withdrawn meanwhile (its trace scrubbed by a
    deletion that ran while the answer was being written), withdraw it here too. Returns how many."""
    with db.transaction() as conn:
        removed = _scrub_withdrawn_events(conn)
    if removed:
        db.checkpoint()
    return len(removed)


# -- erasure -------------------------------------------------------------------------------------------------------
def erase_profile(db: Database, vectors: VectorStore, profile: dict[str, Any], writer: str | None = None
                  ) -> dict[str, Any]:
    """Erase one person everywhere the declaration lists (rows and vectors; ``erasure.purge`` then clears the bytes).
    The deletion is recorded first (``deletions``) and its samples marked 'deleting', so a crash part-way is
    finished by ``library.repair`` at start-up; ``end_deletion`` drops the record once the bytes are purged.
    ``profile`` may be just ``{"id": …}`` when repair finishes a deletion whose profile row is already gone;
    ``writer``: the running deletion's token (stores.liveness), so repair elsewhere leaves it alone meanwhile."""
    pid = profile["id"]
    with db.transaction() as conn:
        conn.execute("INSERT INTO deletions (profile_id, started, writer) VALUES (?, ?, ?) ON CONFLICT(profile_id) "
                     "DO UPDATE SET stage = 'resumed', writer = excluded.writer", (pid, now(), writer))
        conn.execute("UPDATE samples SET status = 'deleting', writer = ? WHERE owner_kind = 'profile' AND "
                     "owner_id = ?", (writer, pid))
    halt_point("deletion:recorded")
    scrubbed = scrub_from_others(db, pid)
    # Every persona collection, not only the current persona's: a copy must not survive an earlier switch.
    # A collection that held copies is rebuilt, so the copies also leave its on-disk index and Chroma's write log.
    shared = [n for n in vectors.collections() if n.startswith("p-")]
    for name in shared:
        if vectors.get(name, where={"owner_id": pid}):
            vectors.delete(name, where={"owner_id": pid})
            rebuild_collection(vectors, name)
    halt_point("deletion:shared-removed")
    vectors.drop(user_collection(pid))
    deleted: dict[str, int] = {}
    with db.transaction() as conn:
        for place in own_places():
            deleted[place.name] = conn.execute(f"DELETE FROM {place.name} WHERE {place.where}", _params(pid)).rowcount
        mark_changed(conn, *shared)
        conn.execute("UPDATE deletions SET stage = 'rows-deleted' WHERE profile_id = ?", (pid,))
    halt_point("deletion:rows-deleted")
    return {"deleted": deleted, "scrubbed": scrubbed}


def deletions_with_rows_gone(db: Database) -> list[str]:
    """The profiles whose erasure deleted their rows (the profile row included) and awaits the purge of files."""
    return [r["profile_id"] for r in db.query(
        "SELECT profile_id FROM deletions WHERE stage = 'rows-deleted' AND profile_id NOT IN (SELECT id FROM "
        "profiles)")]


def end_deletion(db: Database, profile_ids: list[str]) -> int:
    """Drop the journal rows of finished deletions; call after the purge."""
    if not profile_ids:
        return 0
    with db.transaction() as conn:
        n = sum(conn.execute("DELETE FROM deletions WHERE profile_id = ?", (p,)).rowcount for p in profile_ids)
    db.checkpoint()
    return n


def export_profile(db: Database, vectors: VectorStore, profile_id: str) -> dict[str, Any]:
    """Everything stored about one person, read from the declared places (a data-subject access request)."""
    rows = person_rows(db, profile_id)
    for name in ("traces", "study_events"):
        for r in rows[name]:
            r["data"] = json.loads(r["data"])
    profile = rows["profiles"][0] if rows["profiles"] else None
    shared_in = [persona_collection(profile["persona_id"])] if profile and profile["persona_id"] and \
        profile["share_with_persona"] else []
    return {"profile_id": profile_id, "places": [{"store": p.store, "name": p.name, "holds": p.holds,
                                                  "action": p.action} for p in PLACES],
            "rows": rows, "vectors": {user_collection(profile_id): vectors.count(user_collection(profile_id)),
                                      **{c: len(vectors.get(c, where={"owner_id": profile_id})) for c in shared_in}}}


def places_holding(db: Database, vectors: VectorStore, profile_id: str) -> list[dict[str, Any]]:
    """Which declared places still hold anything of ``profile_id`` (rows, quotes in others' traces, vectors)."""
    out = [{"store": "sqlite", "place": name, "rows": len(rows)}
           for name, rows in person_rows(db, profile_id).items() if rows]
    quoted = db.one("SELECT count(*) AS n FROM traces t JOIN sessions s ON s.id = t.session_id WHERE "
                    "(s.profile_id IS NULL OR s.profile_id != ?) AND instr(t.data, ?) > 0", (profile_id, profile_id))
    if quoted and quoted["n"]:
        out.append({"store": "sqlite", "place": "traces.data (other people's)", "rows": quoted["n"]})
    for name in vectors.collections():
        if name == user_collection(profile_id):
            out.append({"store": "chroma", "place": name, "rows": vectors.count(name)})
        elif name.startswith("p-"):
            n = len(vectors.get(name, where={"owner_id": profile_id}))
            if n:
                out.append({"store": "chroma", "place": name, "rows": n})
    return out


def erasure_report(db: Database, vectors: VectorStore, data_dir: Path, target: str,
                   server_path: Path | None = None) -> dict[str, Any]:
    """What ``doctor --erasure`` prints. ``target``: a profile id, a participant id (its profile is checked), or any
    text (a marker, a name). Reports the declared places still holding the person, and every file in the data
    folder whose raw bytes contain the target (or, for a living person, their name). With a Chroma server, its
    files are checked only when ``server_path`` (its data folder, readable from here) is given; the report says so."""
    from playground.stores.erasure import scan_bytes

    target = target.strip()
    profile_id = target
    row = db.one("SELECT profile_id, code FROM participants WHERE id = ?", (target,))
    if row and row["profile_id"]:
        profile_id = row["profile_id"]
    places = places_holding(db, vectors, profile_id) if db.one(
        "SELECT 1 AS x FROM profiles WHERE id = ?", (profile_id,)) or row else []
    if row and not places:
        places.append({"store": "sqlite", "place": "participants", "rows": 1})
    files = scan_bytes(data_dir, {target, profile_id})
    out: dict[str, Any] = {"target": target, "data_dir": str(data_dir), "places": places, "files": files}
    if getattr(vectors, "database", ""):  # a Chroma server: its records were checked through its API, its files maybe not
        if server_path is not None:
            files.extend({**f, "file": str(server_path / f["file"])} for f in scan_bytes(server_path, {target, profile_id}))
        out["chroma_server"] = {
            "where": vectors.where, "files_checked": server_path is not None,
            "note": (f"the server's files under {server_path} were scanned too" if server_path is not None else
                     f"the Chroma server at {vectors.where} was checked through its API only: its files (freed "
                     "pages, write log, index folders) are on that machine and were not scanned; run this with "
                     "--chroma-path DIR (the server's `chroma run --path`) where that folder is readable")}
    out["found"] = bool(places or files)
    return out


def scrub_if_withdrawn(db: Database, owner_ids: set[str]) -> bool:
    """For a trace saved just now: if an owner of its shared chunks was deleted or stopped sharing while the answer
    was being written, scrub them out of it (and everyone else's) now. True when something was scrubbed."""
    scrubbed = False
    for owner in sorted(owner_ids):
        row = db.one("SELECT share_with_persona FROM profiles WHERE id = ?", (owner,))
        if not row or not row["share_with_persona"]:
            scrub_from_others(db, owner)
            scrubbed = True
    if scrubbed:
        db.checkpoint()
    return scrubbed
