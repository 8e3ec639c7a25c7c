"""Chroma, embedded (``PersistentClient`` under the data folder) or a server (``HttpClient``).

Layout: one collection per scope, so scoping is structural rather than a metadata filter:
- ``u-<profile id>`` holds a profile's own chunks; a user-mode query touches nothing else;
- ``p-<persona id>`` holds the persona's example texts plus copies of the chunks of members who opted in to
  sharing (copied with their vectors when they opt in, removed when they opt out or leave).
A plain metadata filter on one big collection grows with the collection (69 ms vs 2.9 ms at 100k chunks);
a small collection per scope stays at unfiltered speed and cannot leak another user's chunks through a bad filter.

On a server, each data folder keeps its collections in a Chroma database of its own (``playground-<id>``, the id
generated on first start and kept in SQLite's ``chroma_namespace``): collection names are the same in every data
folder (``p-navy``), so two playgrounds sharing one server's default database read, repair and rebuild each other's
collections. A database, rather than a name prefix, because the server enforces it: every request names its
database, so listing (repair, erasure) sees only this playground's collections even if a name is built wrongly.
The embedded store is the data folder's own and stays in Chroma's default database, as it always was.

We always pass our own embeddings; Chroma's default embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from playground.errors import StorageError, VectorStoreUnavailable


def user_collection(profile_id: str) -> str:
    return f"u-{profile_id}"


def persona_collection(persona_id: str) -> str:
    return f"p-{persona_id}"


def forget_scope(db: Any, collection: str) -> None:
    """Drop a collection's revision (``scope_revs``), inside the caller's transaction, when the collection goes."""
    db.execute("DELETE FROM scope_revs WHERE scope = ?", (collection,))


def revision(db: Any, collection: str) -> int:
    """A collection's revision (0 before its first change): the BM25 index built at one revision is stale after it."""
    row = db.one("SELECT rev FROM scope_revs WHERE scope = ?", (collection,))
    return int(row["rev"]) if row else 0


def mark_changed(db: Any, *collections: str) -> None:
    """Bump each collection's revision in SQLite (``scope_revs``), inside the caller's transaction: the BM25 index
    of a scope is rebuilt when its revision moves."""
    for c in collections:
        db.execute("INSERT INTO scope_revs (scope, rev) VALUES (?, 1) "
                   "ON CONFLICT(scope) DO UPDATE SET rev = rev + 1", (c,))


class WriteLock:
    """One writer at a time on the vector store: every Chroma write and the byte-level purge take this lock.

    Re-entrant within a thread; process-wide through one ``threading.RLock``; across processes sharing the data
    folder through ``flock`` on ``<chroma>/playground-write.lock`` (held while the thread holds the outer level).
    ``path`` None (a Chroma server): process-wide only, the server orders its own writes.

    The lock file also holds a write generation (8 bytes), bumped by every writer when it lets go, so a process can
    tell that another one wrote since (embedded Chroma keeps each collection's vector index in memory and does not
    notice other processes' writes): ``changed_elsewhere``."""

    FILE = "playground-write.lock"

    def __init__(self, folder: Path | None) -> None:
        self._rlock = threading.RLock()
        self._depth = 0
        self._path = folder / self.FILE if folder is not None else None
        self._fd: int | None = None
        self._gen = 0
        self.seen = self.generation()
        self.on_foreign_change: Any = None  # called (holding the lock) when another process wrote since

    def generation(self) -> int:
        if self._path is None:
            return 0
        try:
            with open(self._path, "rb") as f:
                return int.from_bytes(f.read(8) or b"\0", "little")
        except OSError:
            return 0

    def changed_elsewhere(self) -> bool:
        """True once after another process wrote (the caller then re-opens its view of the store)."""
        if self._path is None:
            return False
        gen = self.generation()
        if gen == self.seen:
            return False
        self.seen = gen
        return True

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self._rlock:
            self._depth += 1
            try:
                if self._depth == 1 and self._path is not None:
                    import fcntl

                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
                    self._gen = int.from_bytes(os.pread(self._fd, 8, 0) or b"\0", "little")
                    if self._gen != self.seen and self.on_foreign_change is not None:
                        self.on_foreign_change()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    try:
                        os.pwrite(self._fd, (self._gen + 1).to_bytes(8, "little"), 0)
                        self.seen = self._gen + 1
                    finally:
                        os.close(self._fd)  # closing releases the flock
                        self._fd = None


_RAISE = object()  # VectorStore._call: no stand-in result, a missing collection is an error
# What a get (a query) of a dropped collection finds.
_EMPTY_GET: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
_EMPTY_QUERY: dict[str, list[list[Any]]] = {"ids": [[]], "documents": [[]], "metadatas": [[]], "distances": [[]],
                                            "embeddings": [[]]}


def _stale(e: Exception) -> bool:
    """Chroma's words for a collection handle whose collection was dropped (or is being re-created) meanwhile."""
    text = str(e).lower()
    return "not exist" in text or ("missing" in text and "segment" in text)


@dataclass
class VectorHit:
    id: str
    distance: float
    text: str
    metadata: dict[str, Any]
    embedding: np.ndarray | None = None


def stack_embeddings(hits: Sequence[VectorHit]) -> np.ndarray:
    """The hits' embeddings as one matrix, a row each; the hits must have been read with ``embeddings=True``."""
    rows: list[np.ndarray] = []
    for h in hits:
        if h.embedding is None:
            raise ValueError(f"The vector {h.id} was read without its embedding.")
        rows.append(h.embedding)
    return np.vstack(rows)


def server_database(db: Any) -> str:
    """This data folder's database on a Chroma server (``playground-<id>``; the id is written by migration m022)."""
    row = db.one("SELECT name FROM chroma_namespace WHERE id = 1")
    return f"playground-{row['name']}"


class VectorStore:
    def __init__(self, path: Path | None = None, host: str = "", port: int = 8000, database: str = "") -> None:
        """Embedded under ``path``, or on the server at ``host``:``port`` in ``database`` (created when missing;
        empty: Chroma's default database, shared by everyone on that server)."""
        import chromadb
        from chromadb.config import DEFAULT_DATABASE
        from chromadb.config import Settings as ChromaSettings

        self.database = (database or DEFAULT_DATABASE) if host else ""
        self.where = (f"{host}:{port}" + (f" (database {self.database})" if database else "")) if host else str(path)
        self._host, self._port = host, port
        self.is_server = bool(host)
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if host:
            # Exactly what HttpClient sets: one process shares one Chroma "System" per server, and refuses a second
            # client (the admin one below) whose settings differ in anything.
            chroma_settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
            chroma_settings.chroma_server_host, chroma_settings.chroma_server_http_port = host, port
            chroma_settings.chroma_server_ssl_enabled, chroma_settings.chroma_server_headers = False, None
        try:
            if host:
                if database:
                    self._ensure_database(database, chroma_settings)
                self.client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings,
                                                  database=database or DEFAULT_DATABASE)
                self.client.heartbeat()
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as e:
            raise self._error(e) from e
        self._path, self._chroma_settings = path, chroma_settings
        self._cache: dict[str, Any] = {}
        self._scrubbed: dict[str, list[tuple[int, int]]] = {}  # index folder -> its files' (mtime, size) when scrubbed
        self._lock = threading.Lock()
        self._rebuilding: set[str] = set()  # collections this process is dropping and re-creating right now
        self._settled: set[str] = set()  # collections read (and scrubbed) by this client since they last changed
        self.write_lock = WriteLock(None if host else path)
        self.write_lock.on_foreign_change = self._reopen

    def _reopen(self) -> None:
        """Another process wrote to this embedded store: open a fresh client (Chroma's in-memory vector indexes of
        the old one do not see those writes) and forget the collection handles."""
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        with self._lock:
            SharedSystemClient._identifier_to_system.pop(str(self._path), None)
            try:
                self.client = chromadb.PersistentClient(path=str(self._path), settings=self._chroma_settings)
            except Exception as e:
                raise self._error(e) from e
            self._cache.clear()
            self._settled.clear()

    def _fresh(self) -> None:
        """Before a read: re-open if another process wrote since this one last looked."""
        if self.write_lock.changed_elsewhere():
            self._reopen()

    @staticmethod
    def _ensure_database(name: str, chroma_settings: Any) -> None:
        """Create this playground's database on the server unless it exists (two processes may race: fine)."""
        import chromadb

        admin = chromadb.AdminClient(chroma_settings)
        try:
            admin.get_database(name)
            return
        except Exception as e:
            if "not found" not in str(e).lower() and "not exist" not in str(e).lower():
                raise
        try:
            admin.create_database(name)
        except Exception as e:
            if "exist" not in str(e).lower():  # created by another process meanwhile
                raise

    def shared_default(self) -> "VectorStore | None":
        """On a server with a database of our own: the server's default database, where a data folder kept its
        collections before it had one (for moving them, see ``library.server_move``). None otherwise."""
        from chromadb.config import DEFAULT_DATABASE

        if not self._host or self.database == DEFAULT_DATABASE:
            return None
        return VectorStore(None, self._host, self._port)

    def _error(self, e: Exception) -> Exception:
        text = f"{type(e).__name__}: {e}".lower()
        if "no space" in text or "disk is full" in text or "database or disk" in text:
            return StorageError("The data folder is full, so the vectors were not saved.",
                                "Free some disk space and try again; everything saved before is intact.")
        if not self.is_server and any(w in text for w in ("malformed", "not a database", "corrupt", "disk i/o",
                                                          "integrity", "no such table", "unsupported file format")):
            return StorageError(f"The vector store in {self.where} is damaged (its files fail SQLite's checks), so "
                                "your writing cannot be searched or saved there.",
                                "Restore the data folder from a backup. Profiles and samples in playground.sqlite3 "
                                "are separate; to rebuild the vectors, move the chroma folder away and re-add the "
                                "samples.")
        if not self.is_server:
            return StorageError(f"The vector store in {self.where} failed ({type(e).__name__}: {e}).",
                                "Run `python -m playground doctor` to check the data folder.")
        if any(w in text for w in ("connect", "refused", "timed out", "timeout", "unreachable", "resolve")):
            return VectorStoreUnavailable(f"The Chroma server at {self.where} cannot be reached.",
                                          "Start it with `chroma run --path DIR --port PORT`, or unset "
                                          "PLAYGROUND_CHROMA_HOST to use the embedded store.")
        return StorageError(f"The vector store failed ({type(e).__name__}: {e}).")

    def _collection(self, name: str, create: bool = True) -> Any:
        col = self._cache.get(name)
        if col is not None:
            return col
        with self.write_lock.hold() if create else contextlib.nullcontext(), self._lock:
            col = self._cache.get(name)
            if col is not None:
                return col
            try:
                if create:
                    col = self.client.get_or_create_collection(
                        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
                else:
                    col = self.client.get_collection(name, embedding_function=None)
            except Exception as e:
                if not create and "not exist" in str(e).lower():
                    return None
                raise self._error(e) from e
            self._cache[name] = col
            return col

    def _call(self, fn: Any, *args: Any, gone: Any = _RAISE, **kwargs: Any) -> Any:
        """``fn`` (a collection's method); ``gone``: what to return when the collection no longer exists (a read of
        a collection another process dropped meanwhile finds nothing)."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            col = getattr(fn, "__self__", None)
            name = getattr(col, "name", None)
            if not name or not _stale(e):
                raise self._error(e) from e
            # A writer (this process or another) dropped the collection, or is re-creating it (erasure rebuilds
            # persona collections), since the handle was taken: once that writer is done (it holds the write lock
            # throughout), fetch the collection again and retry once.
            with self.write_lock.hold():
                with self._lock:
                    if self._cache.get(name) is col:
                        self._cache.pop(name, None)
                fresh = self._collection(name, create=False)
                if fresh is None:
                    if gone is _RAISE:
                        raise self._error(e) from e
                    return gone
                try:
                    return getattr(fresh, fn.__name__)(*args, **kwargs)
                except Exception as e2:
                    raise self._error(e2) from e2

    def add(self, name: str, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str],
            metadatas: Sequence[dict[str, Any]], batch: int = 4000) -> None:
        with self.write_lock.hold():
            col = self._collection(name)
            for s in range(0, len(ids), batch):
                self._call(col.upsert, ids=list(ids[s:s + batch]), embeddings=embeddings[s:s + batch],
                           documents=list(texts[s:s + batch]), metadatas=list(metadatas[s:s + batch]))
            self._scrub_index_files()
            self._settled.discard(name)  # the next read applies this write to the index files: see _locked_read

    def _scrub_index_files(self) -> None:
        """Embedded: zero the unused tail of every vector-index file written since this process last looked.
        A collection's first write creates its index files, and a read after a change writes them again, from
        uninitialised memory of this process, which may hold freed text of anyone, a deleted person too
        (``chroma_purge.scrub_segment``); nothing reads that tail. Called holding the write lock, right after the
        write or read that may have written them."""
        if self._path is None:
            return
        from playground.stores.chroma_purge import looks_like_segment, scrub_segment

        def stamp(folder: Path) -> list[tuple[int, int]] | None:
            try:
                return [(st.st_mtime_ns, st.st_size) for st in
                        ((folder / "data_level0.bin").stat(), (folder / "length.bin").stat())]
            except OSError:
                return None

        try:
            folders = [d for d in self._path.iterdir() if d.is_dir() and looks_like_segment(d)]
        except OSError:
            return
        for d in folders:
            before = stamp(d)
            if before is None or self._scrubbed.get(d.name) == before:
                continue
            scrub_segment(d)
            after = stamp(d)
            if after is None:
                self._scrubbed.pop(d.name, None)
            else:
                self._scrubbed[d.name] = after

    def delete(self, name: str, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None) -> None:
        with self.write_lock.hold():
            col = self._collection(name, create=False)
            if col is None or (ids is not None and not ids):
                return
            self._call(col.delete, ids=list(ids) if ids is not None else None, where=where, gone=None)
            self._settled.discard(name)

    def drop(self, name: str) -> None:
        with self.write_lock.hold(), self._lock:
            self._cache.pop(name, None)
            self._settled.discard(name)
            try:
                self.client.delete_collection(name)
            except Exception as e:
                if "not exist" not in str(e).lower() and "not found" not in str(e).lower():
                    raise self._error(e) from e

    # -- rebuilding a collection while others read it ---------------------------------------------------------------
    def _marker(self, name: str) -> Path | None:
        return self._path / f"playground-rebuilding.{name}" if self._path is not None else None

    @contextlib.contextmanager
    def rebuilding(self, name: str) -> Iterator[None]:
        """Hold the write lock while ``name`` is dropped and re-created (``erasure.rebuild_collection``). Readers in
        this process and, through a marker file, in other processes on this data folder see the collection missing
        or part-filled meanwhile; they notice and read again once this block ends (``_read``)."""
        with self.write_lock.hold():
            marker = self._marker(name)
            self._rebuilding.add(name)
            if marker is not None:
                marker.touch()
            try:
                yield
            finally:
                self._rebuilding.discard(name)
                if marker is not None:
                    marker.unlink(missing_ok=True)

    def _being_rebuilt(self, name: str) -> bool:
        marker = self._marker(name)
        return name in self._rebuilding or (marker is not None and marker.exists())

    def _read(self, name: str, read: Callable[[Any], Any]) -> Any:
        """``read(collection or None)``; under the write lock if a rebuild of ``name`` overlapped it, or if this
        client has not read ``name`` since it last changed (``_settled``)."""
        self._fresh()
        if self._path is not None and name not in self._settled:
            return self._locked_read(name, read)
        if not self._being_rebuilt(name):
            result = read(self._collection(name, create=False))
            if not self._being_rebuilt(name):
                return result
        return self._locked_read(name, read)

    def _locked_read(self, name: str, read: Callable[[Any], Any]) -> Any:
        """Embedded Chroma applies pending writes to a collection's vector index, and writes the index files again
        from this process's memory, on the first read after the collection changed or the client opened: that
        read holds the write lock (no other process writes or scrubs those files meanwhile), and the files' unused
        tails are zeroed after it (``_scrub_index_files``). Later reads of an unchanged index write nothing
        (measured: chromadb 1.5.9) and take no lock."""
        with self.write_lock.hold():  # no rebuild runs now: a marker still there was left by a killed process
            marker = self._marker(name)
            if name not in self._rebuilding and marker is not None:
                marker.unlink(missing_ok=True)
            result = read(self._collection(name, create=False))
            if self._path is not None:
                self._scrub_index_files()
                self._settled.add(name)
            return result

    # -- reads ------------------------------------------------------------------------------------------------------
    def count(self, name: str) -> int:
        return int(self._read(name, lambda col: 0 if col is None else self._call(col.count, gone=0)))

    def get(self, name: str, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None,
            embeddings: bool = False, limit: int | None = None) -> list[VectorHit]:
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        res = self._read(name, lambda col: _EMPTY_GET if col is None else self._call(
            col.get, ids=list(ids) if ids is not None else None, where=where, include=include, limit=limit,
            gone=_EMPTY_GET))
        embs = res.get("embeddings") if embeddings else None
        return [VectorHit(i, 0.0, res["documents"][n], res["metadatas"][n],
                          np.asarray(embs[n], dtype=np.float32) if embs is not None else None)
                for n, i in enumerate(res["ids"])]

    def ids(self, name: str) -> set[str]:
        return set(self._read(name, lambda col: _EMPTY_GET if col is None else self._call(
            col.get, include=[], gone=_EMPTY_GET))["ids"])

    def query(self, name: str, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None,
              embeddings: bool = False) -> list[VectorHit]:
        if k <= 0:
            return []
        include = ["documents", "metadatas", "distances"] + (["embeddings"] if embeddings else [])
        res = self._read(name, lambda col: _EMPTY_QUERY if col is None else self._call(
            col.query, query_embeddings=[embedding], n_results=k, where=where, include=include, gone=_EMPTY_QUERY))
        embs = res.get("embeddings")[0] if embeddings else None
        return [VectorHit(i, float(res["distances"][0][n]), res["documents"][0][n], res["metadatas"][0][n],
                          np.asarray(embs[n], dtype=np.float32) if embs is not None else None)
                for n, i in enumerate(res["ids"][0])]

    def collections(self) -> list[str]:
        self._fresh()
        cols = self._call(self.client.list_collections)
        return [c if isinstance(c, str) else c.name for c in cols]

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
