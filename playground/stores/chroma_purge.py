"""The byte-level purge of an embedded Chroma folder, run as a script in a child process by ``erasure.purge_chroma``
(which holds the store's write lock meanwhile). Standard library only, so the child starts in a blink and never
loads a second copy of anything that touches Chroma's files.

Usage: ``python -I chroma_purge.py CHROMA_DIR`` prints a JSON report."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

SEGMENT_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def _retry(conn: sqlite3.Connection, sql: str, attempts: int = 50) -> None:
    for n in range(attempts):
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or n == attempts - 1:
                raise
            time.sleep(0.1)


def purge_chroma(chroma_dir: Path) -> dict[str, Any]:
    """Clear deleted text and vectors from an embedded Chroma folder (see the module docstring)."""
    db_path = chroma_dir / "chroma.sqlite3"
    report: dict[str, Any] = {"queue_rows": 0, "folders": [], "vacuumed": False}
    if not db_path.exists():
        return report
    conn = _connect(db_path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        collections = [r[0] for r in conn.execute("SELECT id FROM collections")]
        if "embeddings_queue" in tables:
            topics = [r[0] for r in conn.execute("SELECT DISTINCT topic FROM embeddings_queue")]
            dead = [t for t in topics if not any(t.endswith(c) for c in collections)]
            for t in dead:
                report["queue_rows"] += conn.execute("DELETE FROM embeddings_queue WHERE topic = ?", (t,)).rowcount
        if "embedding_fulltext_search" in tables:
            try:
                conn.execute("INSERT INTO embedding_fulltext_search(embedding_fulltext_search) VALUES ('optimize')")
            except sqlite3.Error:
                conn.execute("INSERT INTO embedding_fulltext_search(embedding_fulltext_search) VALUES ('rebuild')")
        _retry(conn, "VACUUM")
        report["vacuumed"] = True
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        segments = {r[0] for r in conn.execute("SELECT id FROM segments")}
    finally:
        conn.close()
    for child in chroma_dir.iterdir():
        if child.is_dir() and child.name not in segments and _looks_like_segment(child):
            shutil.rmtree(child, ignore_errors=True)
            report["folders"].append(child.name)
    return report


def _looks_like_segment(folder: Path) -> bool:
    """A Chroma vector-index folder: named by a UUID, holding hnswlib's files."""
    name = folder.name
    if len(name) != 36 or name.count("-") != 4:
        return False
    return any((folder / f).exists() for f in SEGMENT_FILES) or not any(folder.iterdir())


if __name__ == "__main__":
    print(json.dumps(purge_chroma(Path(sys.argv[1]))))
