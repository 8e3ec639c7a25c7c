"""Keeping SQLite and Chroma in agreement: what each collection should hold according to SQLite, a check that lists
every disagreement, and the start-up repair that finishes or undoes whatever a crash interrupted."""

from __future__ import annotations

from typing import Any, Callable

from playground.stores.db import Database
from playground.stores.vectors import VectorStore, persona_collection, stack_embeddings, user_collection

RemoveSample = Callable[[str, str, str], None]  # (sample id, owner kind, owner id)
FinishDeletion = Callable[[str], Any]  # (profile id)
Alive = Callable[[str | None], bool]  # (writer token) -> is that work still running (stores.liveness)


def _nobody(_writer: str | None) -> bool:
    return False

# Samples whose owner no longer exists (an upload that finished after its owner was deleted, before this check).
ORPHAN_SAMPLES = ("SELECT s.id, s.owner_kind, s.owner_id, s.writer FROM samples s WHERE (s.owner_kind = 'profile' AND "
                  "s.owner_id NOT IN (SELECT id FROM profiles)) OR (s.owner_kind = 'persona' AND "
                  "s.owner_id NOT IN (SELECT id FROM personas))")


def expected_vector_ids(db: Database) -> dict[str, set[str]]:
    """What each Chroma collection should hold, according to SQLite."""
    out: dict[str, set[str]] = {}
    rows = db.query(
        "SELECT c.id, c.owner_kind, c.owner_id, p.persona_id, p.share_with_persona FROM chunks c "
        "JOIN samples s ON s.id = c.sample_id LEFT JOIN profiles p ON c.owner_kind = 'profile' AND p.id = c.owner_id "
        "WHERE s.status = 'ready'")
    for r in rows:
        if r["owner_kind"] == "persona":
            out.setdefault(persona_collection(r["owner_id"]), set()).add(r["id"])
            continue
        out.setdefault(user_collection(r["owner_id"]), set()).add(r["id"])
        if r["share_with_persona"] and r["persona_id"]:
            out.setdefault(persona_collection(r["persona_id"]), set()).add(r["id"])
    return out


def _in_flight(db: Database, alive: Alive) -> tuple[set[str], set[str]]:
    """The chunk ids of samples an upload or deletion is working on right now, and the profiles being deleted."""
    chunks: set[str] = set()
    for s in db.query("SELECT id, writer FROM samples WHERE status != 'ready' AND writer IS NOT NULL"):
        if alive(s["writer"]):
            chunks |= {r["id"] for r in db.query("SELECT id FROM chunks WHERE sample_id = ?", (s["id"],))}
    deleting = {r["profile_id"] for r in db.query("SELECT profile_id, writer FROM deletions") if alive(r["writer"])}
    return chunks, deleting


def repair(db: Database, vectors: VectorStore, remove_sample: RemoveSample,
           finish_deletion: FinishDeletion | None = None, alive: Alive = _nobody) -> dict[str, Any]:
    """Finish or undo what a crash interrupted; return what was fixed (``notes``: what happened, in sentences).

    Work another process (or thread) is still doing is left alone (``alive`` of the writer a row carries): a second
    app or a CLI command starting must not undo a participant's upload or run someone's deletion twice."""
    fixed: dict[str, Any] = {"interrupted_deletions": 0, "unfinished_samples": 0, "orphan_samples": 0,
                             "orphan_vectors": 0, "missing_shared": 0, "left_running": 0, "notes": []}
    if finish_deletion is not None:
        for r in db.query("SELECT profile_id, writer FROM deletions ORDER BY started"):
            if alive(r["writer"]):
                fixed["left_running"] += 1
                continue
            fixed["notes"].append(f"finishing an interrupted deletion of profile {r['profile_id']}")
            finish_deletion(r["profile_id"])
            fixed["interrupted_deletions"] += 1
    for key, sql in (("orphan_samples", ORPHAN_SAMPLES),
                     ("unfinished_samples", "SELECT id, owner_kind, owner_id, writer FROM samples WHERE "
                                            "status != 'ready'")):
        for s in db.query(sql):
            if alive(s["writer"]):
                fixed["left_running"] += 1
                continue
            # Its work has ended (the lock goes only after the last write), so what the row says now is final.
            if key == "unfinished_samples" and not db.one("SELECT 1 AS x FROM samples WHERE id = ? AND status != "
                                                          "'ready'", (s["id"],)):
                continue
            remove_sample(s["id"], s["owner_kind"], s["owner_id"])
            fixed[key] += 1
    # Under the vector store's write lock: an upload that starts meanwhile writes its vectors only after this, and
    # one whose vectors are already there has its row in SQLite (pending, with a live writer) or is ready.
    with vectors.write_lock.hold():
        expected = expected_vector_ids(db)
        busy, deleting = _in_flight(db, alive)
        for name in vectors.collections():
            want = expected.get(name, set())
            if name.startswith("u-") and name[2:] in deleting:
                continue  # that deletion drops the collection itself
            if name.startswith("u-") and not want and not db.one("SELECT 1 AS x FROM profiles WHERE id = ?",
                                                                 (name[2:],)):
                fixed["orphan_vectors"] += vectors.count(name)
                vectors.drop(name)  # the collection of a deleted person, re-created by an upload that finished late
                continue
            if vectors.count(name) == len(want):
                continue
            have = vectors.ids(name)
            orphans = have - want - busy
            if orphans:
                vectors.delete(name, ids=sorted(orphans))
                fixed["orphan_vectors"] += len(orphans)
            missing = want - have
            if missing and name.startswith("p-"):
                fixed["missing_shared"] += _recopy(db, vectors, name, missing)
    for key, what in (("unfinished_samples", "unfinished samples removed"),
                      ("orphan_samples", "samples of deleted owners removed"),
                      ("orphan_vectors", "vectors without a record removed")):
        if fixed[key]:
            fixed["notes"].append(f"{fixed[key]} {what}")
    return fixed


def _recopy(db: Database, vectors: VectorStore, name: str, missing: set[str]) -> int:
    """Copy shared chunks missing from a persona collection back from their owners' own collections."""
    owners = {r["owner_id"] for r in db.query(
        f"SELECT DISTINCT owner_id FROM chunks WHERE id IN ({','.join('?' * len(missing))})", tuple(missing))}
    n = 0
    for owner in owners:
        got = [c for c in vectors.get(user_collection(owner), embeddings=True) if c.id in missing]
        if got:
            vectors.add(name, [c.id for c in got], stack_embeddings(got),
                        [c.text for c in got], [c.metadata for c in got])
            n += len(got)
    return n


def check(db: Database, vectors: VectorStore, alive: Alive = _nobody) -> list[str]:
    """Every disagreement between SQLite and Chroma, as sentences (empty when consistent). Work still running
    (an upload being stored, a deletion under way) is not a disagreement."""
    problems = []
    with vectors.write_lock.hold():  # no upload writes its vectors between the two reads
        expected = expected_vector_ids(db)
        busy, deleting = _in_flight(db, alive)
        names = set(vectors.collections()) | set(expected)
        for name in sorted(names):
            if name.startswith("u-") and name[2:] in deleting:
                continue
            have, want = vectors.ids(name), expected.get(name, set())
            if have - want - busy:
                problems.append(f"{name}: {len(have - want - busy)} vectors without a record")
            if want - have:
                problems.append(f"{name}: {len(want - have)} records without vectors")
    for s in db.query("SELECT id, status, writer FROM samples WHERE status != 'ready'"):
        if not alive(s["writer"]):
            problems.append(f"sample {s['id']} is {s['status']}")
    for s in db.query(ORPHAN_SAMPLES):
        if not alive(s["writer"]):
            problems.append(f"sample {s['id']} belongs to no {s['owner_kind']} (its owner {s['owner_id']} was "
                            "deleted)")
    for r in db.query("SELECT profile_id, writer FROM deletions"):
        if not alive(r["writer"]):
            problems.append(f"the deletion of profile {r['profile_id']} was interrupted and is not finished")
    return problems
