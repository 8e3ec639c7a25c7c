"""The byte-level purge of an embedded Chroma folder, run as a script in a child process by ``erasure.purge_chroma``
(which holds the store's write lock meanwhile). Standard library only, so the child starts in a blink and never
loads a second copy of anything that touches Chroma's files.

Usage: ``python -I chroma_purge.py CHROMA_DIR`` prints a JSON report."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
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
    report: dict[str, Any] = {"queue_rows": 0, "folders": [], "vacuumed": False, "scrubbed": 0}
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
        if child.is_dir() and child.name not in segments and looks_like_segment(child):
            shutil.rmtree(child, ignore_errors=True)
            report["folders"].append(child.name)
        elif child.is_dir() and child.name in segments:
            report["scrubbed"] += scrub_segment(child)
    return report


# -- the unused tail of a live vector index ---------------------------------------------------------------------------
# hnswlib (Chroma's fork, persist-on-write) creates a segment's files on the collection's first write by dumping its
# freshly malloc'd, uninitialised buffers for the initial capacity (100 elements): ``data_level0.bin`` (1,676 bytes an
# element at 384 dimensions) and ``length.bin`` (4 bytes an element). Whatever the process's heap held there before
# (freed text of documents, SQLite pages: a deleted person's writing) lands in those files, beyond the elements the
# index holds; later writes only ever rewrite elements it holds (each zeroed when added). Nothing reads that tail.

HEADER = struct.Struct("<iQQQQ")  # version, offsetLevel0, max_elements, cur_element_count, size_data_per_element


def scrub_segment(folder: Path) -> int:
    """Zero what lies beyond the elements a live hnswlib index holds (its header's count) in ``data_level0.bin``
    and ``length.bin``; the files keep their size. Returns how many non-zero bytes were cleared. A header of another
    layout (a future hnswlib) is left alone rather than guessed at."""
    try:
        raw = (folder / "header.bin").read_bytes()
    except OSError:
        return 0
    if len(raw) < HEADER.size:
        return 0
    version, _offset, _max, count, size = HEADER.unpack_from(raw)
    if version != 1 or not 0 < size < 1 << 24:
        return 0
    return _zero_from(folder / "data_level0.bin", count * size) + _zero_from(folder / "length.bin", count * 4)


def _zero_from(path: Path, start: int, block: int = 1 << 20) -> int:
    cleared = 0
    try:
        f = open(path, "r+b")
    except OSError:
        return 0
    with f:
        pos = start
        while True:
            f.seek(pos)
            data = f.read(block)
            if not data:
                break
            nonzero = len(data) - data.count(0)
            if nonzero:
                f.seek(pos)
                f.write(bytes(len(data)))
                cleared += nonzero
            pos += len(data)
        if cleared:
            f.flush()
            os.fsync(f.fileno())
    return cleared


def looks_like_segment(folder: Path) -> bool:
    """A Chroma vector-index folder: named by a UUID, holding hnswlib's files."""
    name = folder.name
    if len(name) != 36 or name.count("-") != 4:
        return False
    return any((folder / f).exists() for f in SEGMENT_FILES) or not any(folder.iterdir())


if __name__ == "__main__":
    print(json.dumps(purge_chroma(Path(sys.argv[1]))))
