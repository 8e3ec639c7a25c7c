"""Keeping SQLite and Chroma in agreement: what each collection should hold according to SQLite, a check that lists
every disagreement, and the start-up repair that finishes or undoes whatever a crash interrupted."""

from __future__ import annotations

from typing import Callable

import numpy as np

from playground.stores.db import Database
from playground.stores.vectors import VectorStore, persona_collection, user_collection

RemoveSample = Callable[[str, str, str], None]  # (sample id, owner kind, owner id)


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


def repair(db: Database, vectors: VectorStore, remove_sample: RemoveSample) -> dict[str, int]:
    """Finish or undo what a crash interrupted; return what was fixed."""
    fixed = {"unfinished_samples": 0, "orphan_vectors": 0, "missing_shared": 0}
    for s in db.query("SELECT id, owner_kind, owner_id FROM samples WHERE status != 'ready'"):
        remove_sample(s["id"], s["owner_kind"], s["owner_id"])
        fixed["unfinished_samples"] += 1
    expected = expected_vector_ids(db)
    for name in vectors.collections():
        want = expected.get(name, set())
        if vectors.count(name) == len(want):
            continue
        have = vectors.ids(name)
        orphans = have - want
        if orphans:
            vectors.delete(name, ids=sorted(orphans))
            fixed["orphan_vectors"] += len(orphans)
        missing = want - have
        if missing and name.startswith("p-"):
            fixed["missing_shared"] += _recopy(db, vectors, name, missing)
    return fixed


def _recopy(db: Database, vectors: VectorStore, name: str, missing: set[str]) -> int:
    """Copy shared chunks missing from a persona collection back from their owners' own collections."""
    owners = {r["owner_id"] for r in db.query(
        f"SELECT DISTINCT owner_id FROM chunks WHERE id IN ({','.join('?' * len(missing))})", tuple(missing))}
    n = 0
    for owner in owners:
        got = [c for c in vectors.get(user_collection(owner), embeddings=True) if c.id in missing]
        if got:
            vectors.add(name, [c.id for c in got], np.vstack([c.embedding for c in got]),  # type: ignore[misc]
                        [c.text for c in got], [c.metadata for c in got])
            n += len(got)
    return n


def check(db: Database, vectors: VectorStore) -> list[str]:
    """Every disagreement between SQLite and Chroma, as sentences (empty when consistent)."""
    problems = []
    expected = expected_vector_ids(db)
    names = set(vectors.collections()) | set(expected)
    for name in sorted(names):
        have, want = vectors.ids(name), expected.get(name, set())
        if have - want:
            problems.append(f"{name}: {len(have - want)} vectors without a record")
        if want - have:
            problems.append(f"{name}: {len(want - have)} records without vectors")
    for s in db.query("SELECT id, status FROM samples WHERE status != 'ready'"):
        problems.append(f"sample {s['id']} is {s['status']}")
    return problems
