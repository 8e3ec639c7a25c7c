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

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

from playground.errors import StorageError
from playground.stores.db import Database
from playground.stores.vectors import VectorStore, WriteLock, stack_embeddings


def rebuild_collection(vectors: VectorStore, name: str) -> int:
    """Copy a collection's records into a fresh collection of the same name (old index and log rows go with the old
    collection, which ``purge`` then clears). Returns the number of records kept."""

    with vectors.rebuilding(name):  # no writer adds to it between the copy and the re-creation; readers wait
        kept = vectors.get(name, embeddings=True)
        vectors.drop(name)
        if kept:
            vectors.add(name, [c.id for c in kept], stack_embeddings(kept),
                        [c.text for c in kept], [c.metadata for c in kept])
    return len(kept)


def halt_point(stage: str) -> None:
    """Fault injection for the kill tests: with ``PG_TEST_HALT`` set to ``stage``, the process writes ``stage`` to the
    file named by ``PG_TEST_HALT_FILE`` and waits there to be killed (never set outside tests)."""
    if os.environ.get("PG_TEST_HALT") != stage:
        return
    import time

    Path(os.environ.get("PG_TEST_HALT_FILE", "halted")).write_text(stage)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)


def purge_chroma(chroma_dir: Path, vectors: VectorStore | None = None) -> dict[str, Any]:
    """Clear deleted text and vectors from an embedded Chroma folder (see the module docstring).

    Never races Chroma's own writer: it runs while holding the store's write lock (every Chroma write in this
    process and in any other process on this data folder takes it too), and in a child process
    (``chroma_purge.py``), because two copies of SQLite in one process (Python's and Chroma's bundled one) do not
    see each other's POSIX locks: closing one copy's file handle silently drops the other's locks, and a VACUUM
    then rewrote the file under Chroma's feet ("disk I/O error", a corrupt ``chroma.sqlite3``)."""
    if not (chroma_dir / "chroma.sqlite3").exists():
        return {"queue_rows": 0, "folders": [], "vacuumed": False}
    lock = vectors.write_lock.hold() if vectors is not None else WriteLock(chroma_dir).hold()
    with lock:
        out = subprocess.run([sys.executable, "-I", str(Path(__file__).with_name("chroma_purge.py")), str(chroma_dir)],
                             capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise StorageError("Deleted writing could not be cleared from the vector store's files "
                           f"({(out.stderr.strip().splitlines() or ['no detail'])[-1]}).",
                           "Nothing was lost; run `python -m playground doctor` to finish the clean-up.")
    return dict(json.loads(out.stdout))


def purge(db: Database, vectors: VectorStore, chroma_dir: Path | None) -> dict[str, Any]:
    """Checkpoint SQLite and, for embedded Chroma, purge its folder. ``chroma_dir`` None: a Chroma server."""
    report: dict[str, Any] = {"sqlite_checkpointed": db.checkpoint()}
    if chroma_dir is not None:
        report["chroma"] = purge_chroma(chroma_dir, vectors)
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
