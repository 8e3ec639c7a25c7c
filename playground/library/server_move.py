"""Moving a data folder's vectors out of a Chroma server's shared default database into its own.

Before migration m022 every playground on one server kept its collections in the server's default database, under
names that are the same in every data folder (``p-navy``), so one playground's repair and rebuilds changed another's.
Now each keeps its own database there (``stores.vectors.server_database``). At the first start in server mode after
the upgrade, the vectors this folder's SQLite records are copied, embeddings and all, into its own database; only
when every collection is copied are they removed from the shared one (its own user collections dropped, its
persona copies deleted one by one: another playground's vectors there are left alone). A crash part-way repeats the
copy at the next start (upserts of the same ids). Shared copies that another playground already destroyed are
copied back from their owners' collections by the start-up repair that follows."""

from __future__ import annotations

from playground.library.repair import expected_vector_ids
from playground.stores.db import Database
from playground.stores.vectors import VectorStore, mark_changed, stack_embeddings


def move_from_shared_default(db: Database, vectors: VectorStore) -> int:
    """Move what this folder owns from the server's default database into its own; return how many vectors."""
    row = db.one("SELECT move_pending FROM chroma_namespace WHERE id = 1")
    legacy = vectors.shared_default() if row and row["move_pending"] else None
    if legacy is None:
        return 0
    there = set(legacy.collections())
    expected = {name: ids for name, ids in expected_vector_ids(db).items() if name in there}
    moved = 0
    for name, ids in expected.items():
        got = legacy.get(name, ids=sorted(ids), embeddings=True)
        if got:
            vectors.add(name, [v.id for v in got], stack_embeddings(got),
                        [v.text for v in got], [v.metadata for v in got])
            moved += len(got)
    for name, ids in expected.items():
        if name.startswith("u-"):
            legacy.drop(name)
            continue
        legacy.delete(name, ids=sorted(ids))
        if legacy.count(name) == 0:
            legacy.drop(name)
    with db.transaction() as conn:
        conn.execute("UPDATE chroma_namespace SET move_pending = 0 WHERE id = 1")
        mark_changed(conn, *expected)
    return moved
