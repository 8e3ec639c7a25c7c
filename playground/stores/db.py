"""SQLite access: one short-lived connection per unit of work, WAL mode, foreign keys on.

Streamlit serves every browser session from its own thread, so connections are never shared between threads.
Disk-full and locked-database failures become ``StorageError`` with a message a person can act on.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from playground.errors import StorageError
from playground.stores import migrations

START_ATTEMPTS = 3  # opening a data folder: tries while other processes hold it locked (each waits up to 15 s)


def _busy(e: sqlite3.OperationalError) -> bool:
    return any(w in str(e).lower() for w in ("locked", "busy"))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def storage_error(e: Exception, path: Path) -> StorageError:
    text = str(e).lower()
    if "full" in text or "no space" in text:
        return StorageError(f"The data folder {path.parent} is full, so nothing was saved.",
                            "Free some disk space and try again; everything saved before is intact.")
    if "foreign key" in text:
        return StorageError("What this was being saved for was deleted meanwhile (someone deleted the profile, "
                            "conversation or study it belongs to), so it was not saved.",
                            "Reload the page to see what is left; nothing else was changed.")
    if "malformed" in text or "not a database" in text:
        return StorageError(f"The database {path} is damaged, so it cannot be used.",
                            "Restore the data folder from a backup.")
    if "locked" in text or "busy" in text:
        return StorageError("The database is busy with another writer.", "Wait a moment and try again.")
    if "readonly" in text or "permission" in text or "unable to open" in text:
        return StorageError(f"The data folder {path.parent} cannot be written.",
                            "Check its permissions or set PLAYGROUND_DATA_DIR to a writable folder.")
    return StorageError(f"The database could not be used ({e}).")


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(START_ATTEMPTS):
                try:
                    with self.connect() as db:
                        db.execute("PRAGMA journal_mode=WAL")
                        migrations.apply(db)
                    break
                except StorageError as e:
                    # Several processes opening a new data folder at once take turns; on a busy machine a turn can
                    # outlast the busy timeout, and switching to WAL or recovering it can report "locked" without
                    # waiting at all. Each step is applied once whoever applies it, so trying again is safe.
                    cause = e.__cause__
                    if not (isinstance(cause, sqlite3.OperationalError) and _busy(cause)) or \
                            attempt == START_ATTEMPTS - 1:
                        raise
                    time.sleep(0.2 * (attempt + 1))
        except (sqlite3.Error, OSError) as e:
            raise storage_error(e, path) from e

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=15000")
        # Deleted rows are overwritten with zeros, not just unlinked (erasure must hold in the file's bytes too;
        # Debian's SQLite has this on by default, others do not).
        db.execute("PRAGMA secure_delete=ON")
        return db

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection reused within this thread (cheap), with errors mapped for people."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        try:
            yield db
        except sqlite3.Error as e:
            if db.in_transaction:
                db.rollback()
            raise storage_error(e, self.path) from e

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self.connect() as db:
            return [dict(r) for r in db.execute(sql, params)]

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def count(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """The ``n`` of an aggregate query (``SELECT count(*) AS n ...``), which always answers one row."""
        row = self.one(sql, params)
        assert row is not None, "a count query answers one row"
        return int(row["n"])

    def checkpoint(self, attempts: int = 20) -> bool:
        """Copy the write-ahead log into the database file and truncate it to zero bytes, so rows deleted since
        the last checkpoint no longer sit in ``-wal``. Retries while readers hold old snapshots; True when done."""
        import time

        with self.connect() as db:
            for _ in range(attempts):
                busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    return True
                time.sleep(0.05)
        return False

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        with self.transaction() as db:
            return db.execute(sql, params).rowcount
