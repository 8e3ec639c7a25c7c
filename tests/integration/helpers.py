"""Scanning both stores for any trace of an id: what "deleted everywhere" means in the tests."""

from __future__ import annotations

from typing import Any


def sqlite_mentions(pg: Any, needle: str) -> list[str]:
    """Every (table, column) whose text contains ``needle``, across every table of the database."""
    found = []
    with pg.db.connect() as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})")]
            for c in cols:
                n = db.execute(f"SELECT count(*) FROM {t} WHERE CAST({c} AS TEXT) LIKE ?", (f"%{needle}%",)).fetchone()
                if n[0]:
                    found.append(f"{t}.{c}")
    return found


def chroma_mentions(pg: Any, needle: str) -> list[str]:
    """Every collection that holds a vector whose id, text or metadata mentions ``needle``, or is named for it."""
    found = []
    for name in pg.vectors.collections():
        if needle in name:
            found.append(name)
            continue
        for v in pg.vectors.get(name):
            if needle in v.id or needle in v.text or any(needle in str(x) for x in v.metadata.values()):
                found.append(f"{name}:{v.id}")
    return found
