"""Erasure at the byte level: after rows and vectors are deleted, clear what the storage engines keep on disk, and
scan the raw bytes of the data folder for anything of a person (``python -m playground doctor --erasure``).

What stays behind after a plain delete, and what clears it:

- SQLite (``playground.sqlite3``): every connection sets ``PRAGMA secure_delete=ON`` (db.py), so deleted rows are
  zeroed; the pages that still held them sit in ``-wal`` until a checkpoint, so ``purge`` checkpoints with TRUNCATE.
- Chroma (embedded, ``chroma/``): ``chroma.sqlite3`` keeps deleted text in freed pages of ``embedding_metadata`` and
  its full-text tables, and in ``embeddings_queue`` (Chroma's own write log, whose rows it keeps until the vector
  index is persisted); a dropped collection's vector-index folder (written once it held 1,000 records) is left on disk.
  ``purge`` deletes the queue rows of collections that no longer exist, merges the full-text index, VACUUMs the file
  (which rewrites it without free pages), checkpoints its WAL and removes segment folders no collection owns.
  A persona collection that held the person's copies is rebuilt first (its remaining records copied into a fresh
  collection), so their vectors leave the on-disk index and the write log with the old collection.
- A Chroma server (``PLAYGROUND_CHROMA_HOST``): its files are on another machine; deletion goes through its API and
  nothing here can inspect or vacuum them (said in the README).

The PersistentClient stays usable afterwards: Chroma only keeps connections open, and ``VACUUM`` waits for them
to be idle (busy timeout).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from playground.stores.db import Database
from playground.stores.vectors import VectorStore

SEGMENT_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle")


def rebuild_collection(vectors: VectorStore, name: str) -> int:
    """Copy a collection's records into a fresh collection of the same name (old index and log rows go with the old
    collection, which ``purge`` then clears). Returns the number of records kept."""
    import numpy as np

    kept = vectors.get(name, embeddings=True)
    vectors.drop(name)
    if kept:
        vectors.add(name, [c.id for c in kept], np.vstack([c.embedding for c in kept]),  # type: ignore[misc]
                    [c.text for c in kept], [c.metadata for c in kept])
    return len(kept)


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


def purge(db: Database, vectors: VectorStore, chroma_dir: Path | None) -> dict[str, Any]:
    """Checkpoint SQLite and, for embedded Chroma, purge its folder. ``chroma_dir`` None: a Chroma server."""
    report: dict[str, Any] = {"sqlite_checkpointed": db.checkpoint()}
    if chroma_dir is not None:
        report["chroma"] = purge_chroma(chroma_dir)
    else:
        report["chroma"] = "a Chroma server: records were deleted through its API; its files cannot be purged from here"
    return report


# -- the checker -----------------------------------------------------------------------------------------------------
def needles_for(text: str) -> list[bytes]:
    """The byte patterns a piece of text can take on disk: UTF-8 as written and lower-cased (full-text indexes),
    and UTF-16 (SQLite databases may use it)."""
    out: list[bytes] = []
    for variant in (text, text.lower()):
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            b = variant.encode(enc)
            if b not in out:
                out.append(b)
    return out


def scan_bytes(root: Path, texts: Iterable[str], chunk: int = 1 << 20) -> list[dict[str, Any]]:
    """Every file under ``root`` whose raw bytes contain any of ``texts`` (any encoding of ``needles_for``), with
    the byte offsets found. Reads each file as it is on disk right now (WAL and shared-memory files included)."""
    needles = [n for t in texts if t for n in needles_for(t)]
    if not needles:
        return []
    longest = max(len(n) for n in needles)
    found: list[dict[str, Any]] = []
    for dirpath, _dirs, files in os.walk(root):
        for fname in files:
            path = Path(dirpath) / fname
            offsets: list[int] = []
            try:
                with open(path, "rb") as f:
                    pos, tail = 0, b""
                    while True:
                        block = f.read(chunk)
                        if not block:
                            break
                        data = tail + block
                        base = pos - len(tail)
                        for n in needles:
                            start = data.find(n)
                            while start != -1:
                                if base + start not in offsets:
                                    offsets.append(base + start)
                                start = data.find(n, start + 1)
                        tail = data[-(longest - 1):] if longest > 1 else b""
                        pos += len(block)
            except OSError:
                continue
            if offsets:
                found.append({"file": str(path.relative_to(root)), "offsets": sorted(offsets)[:20],
                              "count": len(offsets)})
    return found
