"""A person's writing library: a sample is read (bounded), optionally redacted, chunked, embedded and stored in
SQLite and Chroma so that the two agree. The row is written 'pending' before its vectors and marked 'ready' after;
deletions are marked 'deleting' first; ``library.repair`` finishes or undoes whatever a crash interrupted."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Callable, Sequence

import numpy as np

from playground.errors import InvalidInput, NotFound
from playground.library import ingest, privacy_scan
from playground.library import repair as consistency
from playground.library.bounded import ExpansionLimits
from playground.models.embeddings import Embedder, Tokenizer, doc_vector
from playground.people.directory import People
from playground.settings import Settings
from playground.stores import liveness
from playground.stores.db import Database, new_id, now
from playground.stores.erasure import rebuild_collection
from playground.stores.liveness import working
from playground.stores.personal_data import scrub_from_others
from playground.stores.scratch import remove_stale
from playground.stores.vectors import (
    VectorHit,
    VectorStore,
    mark_changed,
    persona_collection,
    stack_embeddings,
    user_collection,
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _noop(stage: str, done: int, total: int) -> None:
    pass


# Whether a sample's owner still exists, by owner kind (read at each step of an upload; see _refuse_deleted_owner).
_OWNER_ROW = {"profile": "SELECT 1 AS x FROM profiles WHERE id = ?", "persona": "SELECT 1 AS x FROM personas WHERE id = ?"}


class WritingLibrary:
    """Samples of people and personas: add, list, read, delete, and the vectors they become."""

    def __init__(self, db: Database, vectors: VectorStore, embedder: Embedder, tokenizer: Tokenizer,
                 settings: Settings, people: People) -> None:
        self.db, self.vectors, self.embedder, self.tokenizer = db, vectors, embedder, tokenizer
        self.settings, self.people = settings, people
        self._persona_lock = threading.Lock()  # one thread embeds a shipped persona's examples
        self.chunker = ingest.Chunker(tokenizer.count, settings.chunk_tokens, settings.chunk_overlap)

    # -- reading and adding ----------------------------------------------------------------------------------------
    def read_input(self, filename: str | None, data: bytes | None, text: str | None) -> ingest.ReadText:
        limits = ExpansionLimits.from_settings(self.settings)
        if data is not None:
            return ingest.read_bytes(data, filename or "upload.txt", self.settings.max_upload_bytes, limits)
        if text is not None:
            return ingest.read_pasted(text, self.settings.max_upload_bytes, limits)
        raise InvalidInput("Give a file or some text.")

    def scan_sample(self, profile_id: str | None = None, *, filename: str | None = None, data: bytes | None = None,
                    text: str | None = None) -> tuple[ingest.ReadText, list[privacy_scan.Finding]]:
        """Read a sample as ``add_sample`` would and list the personal data in it; stores nothing."""
        read = self.read_input(filename, data, text)
        names = privacy_scan.known_names(self.people.get_profile(profile_id)) if profile_id else []
        return read, privacy_scan.scan(read.text, names)

    def redaction_default(self, profile_id: str) -> bool:
        """Whether samples of this profile are redacted unless the person says otherwise (see privacy_scan)."""
        from playground.workshop import read_preset

        profile, preset = self.people.get_profile(profile_id), read_preset(self.db, self.settings)
        return privacy_scan.redaction_default(
            self.settings.redact_uploads, preset["redact_uploads"],
            study_participant=profile["owner_token"].startswith("study:"),
            private_workshop=bool(preset["private_profiles"]))

    def add_sample(self, profile_id: str, *, filename: str | None = None, data: bytes | None = None,
                   text: str | None = None, title: str | None = None, progress: Progress = _noop,
                   redact: bool | None = None) -> dict[str, Any]:
        """Read, chunk, embed and store one writing sample. Raises ``IngestError`` (nothing stored) on bad input.
        ``redact``: replace personal data with placeholders first (None: ``redaction_default``); then only the
        redacted text is stored, embedded and retrievable."""
        profile = self.people.get_profile(profile_id)
        progress("reading", 0, 1)
        read = self.read_input(filename, data, text)
        title = (title or "").strip() or ingest.title_from(filename, read.text)
        source = filename or "pasted text"
        findings: list[privacy_scan.Finding] = []
        if self.redaction_default(profile_id) if redact is None else redact:
            names = privacy_scan.known_names(profile)
            read, findings = privacy_scan.redact_read(read, names)
            title, source = (privacy_scan.redact(x, privacy_scan.scan(x, names)) for x in (title, source))
        with self.db.connect() as db:  # early, before the costly embedding
            self._refuse_duplicate(db, profile_id, read.content_hash)
        added = self.store("profile", profile_id, read, title, source, progress)
        return {**added, "redacted": privacy_scan.counts(findings)}

    def _refuse_duplicate(self, db: Any, profile_id: str, content_hash: str) -> None:
        """Same text twice in one profile is refused. Samples being added right now count too ('pending'), and
        ``store`` checks again inside the transaction that inserts, so concurrent adds store one copy."""
        dup = db.execute("SELECT title, status FROM samples WHERE owner_kind = 'profile' AND owner_id = ? AND "
                         "content_hash = ? AND status IN ('ready', 'pending')", (profile_id, content_hash)).fetchone()
        if dup:
            when = "is being added right now" if dup["status"] == "pending" else "is already in your samples"
            raise InvalidInput(f"This text {when} as “{dup['title']}”.", "Nothing was added.")

    def store(self, owner_kind: str, owner_id: str, read: ingest.ReadText, title: str, source_name: str,
              progress: Progress = _noop) -> dict[str, Any]:
        """Chunk, embed and store text already read, for a profile or a persona."""
        progress("chunking", 0, 1)
        chunks = self.chunker.split(read.text)
        if not chunks:
            raise InvalidInput("No text was left to store after cleaning.")
        progress("embedding", 0, len(chunks))
        vectors = self.embedder.embed(chunks, self.settings.embed_batch_size,
                                      progress=lambda d, t: progress("embedding", d, t))
        sid = new_id("smp")
        created = now()
        ids = [f"{sid}-{i:04d}" for i in range(len(chunks))]
        metas = [{"owner_kind": owner_kind, "owner_id": owner_id, "sample_id": sid, "sample_title": title[:200],
                  "position": i, "created": created} for i in range(len(chunks))]
        collections = [persona_collection(owner_id)] if owner_kind == "persona" else [user_collection(owner_id)]
        if owner_kind == "profile":
            shares = self.people.shares_into(self.people.get_profile(owner_id))
            if shares:
                collections.append(persona_collection(shares))
        progress("storing", 0, len(chunks))
        tokens = self.tokenizer.count_many(chunks)  # one call for all chunks, outside the write lock
        with working(self.settings.data_dir) as writer:  # start-up repair elsewhere leaves this upload alone
            with self.db.transaction() as db:  # 1. the record, marked pending
                self._refuse_deleted_owner(db, owner_kind, owner_id)
                if owner_kind == "profile":  # atomic with the insert: BEGIN IMMEDIATE holds the write lock
                    self._refuse_duplicate(db, owner_id, read.content_hash)
                db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, source_name, kind, chars, "
                           "n_chunks, content_hash, text, status, created, writer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, ?, 'pending', ?, ?)",
                           (sid, owner_kind, owner_id, title[:200], source_name[:200], read.kind, len(read.text),
                            len(chunks), read.content_hash, read.text, created, writer))
                db.executemany("INSERT INTO chunks (id, sample_id, owner_kind, owner_id, position, text, tokens) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [(ids[i], sid, owner_kind, owner_id, i, c, tokens[i]) for i, c in enumerate(chunks)])
            try:  # 2. the vectors
                for name in collections:
                    self.vectors.add(name, ids, vectors, chunks, metas)
            except BaseException:
                self.remove_sample(sid, owner_kind, owner_id)
                raise
            with self.db.transaction() as db:  # 3. ready, unless the owner was deleted meanwhile (the row went)
                landed = db.execute("UPDATE samples SET status = 'ready', writer = NULL WHERE id = ? AND "
                                    "status = 'pending'", (sid,)).rowcount
                mark_changed(db, *collections)
            if not landed:
                self._forget_late_upload(sid, owner_kind, owner_id, collections)
            if len(collections) > 1:  # the owner may have opted out (or left) while the vectors were being written
                row = self.db.one("SELECT persona_id, share_with_persona FROM profiles WHERE id = ?", (owner_id,))
                still = persona_collection(row["persona_id"]) if row and row["share_with_persona"] and \
                    row["persona_id"] else None
                for name in collections[1:]:
                    if name != still:
                        self.vectors.delete(name, where={"sample_id": sid})
        progress("done", len(chunks), len(chunks))
        return {**self.get_sample(sid), "notes": read.notes}

    def _refuse_deleted_owner(self, db: Any, owner_kind: str, owner_id: str) -> None:
        gone = not db.execute(_OWNER_ROW[owner_kind], (owner_id,)).fetchone()
        if gone or (owner_kind == "profile" and db.execute("SELECT 1 FROM deletions WHERE profile_id = ?",
                                                           (owner_id,)).fetchone()):
            raise NotFound(f"The {'profile' if owner_kind == 'profile' else 'persona'} was deleted while this "
                           "sample was being prepared, so nothing was stored.")

    def _forget_late_upload(self, sid: str, owner_kind: str, owner_id: str, collections: list[str]) -> None:
        """An upload that finished after its owner's deletion (or the sample's): its vectors were written into a
        collection that deletion had already cleared. Remove them and their bytes; say nothing was stored."""
        for name in collections:
            self.vectors.delete(name, where={"sample_id": sid})
        if not self.db.one(_OWNER_ROW[owner_kind], (owner_id,)):
            if owner_kind == "profile":
                self.vectors.drop(user_collection(owner_id))
            with self.db.transaction() as db:
                db.execute("DELETE FROM chunks WHERE sample_id = ?", (sid,))
                db.execute("DELETE FROM samples WHERE id = ?", (sid,))
        self.people.purge_deleted()
        raise NotFound("This sample's owner was deleted while it was being stored, so nothing was kept.")

    # -- persona examples ------------------------------------------------------------------------------------------
    def add_persona_examples(self, persona_id: str, name: str, examples: Sequence[str]) -> None:
        """The example texts of a persona people created, as that persona's samples."""
        for n, text in enumerate(e for e in examples if e.strip()):
            self.store("persona", persona_id, ingest.read_pasted(text, self.settings.max_upload_bytes),
                       f"{name.strip()} example {n + 1}", "pasted")

    def add_persona_example(self, persona_id: str, text: str) -> dict[str, Any]:
        persona = self.people.editable_persona(persona_id)
        read = ingest.read_pasted(text, self.settings.max_upload_bytes)
        return self.store("persona", persona_id, read, f"{persona['name']} example", "pasted")

    def ensure_persona_indexed(self, persona_id: str, progress: Progress = _noop) -> None:
        """Embed a shipped persona's example texts the first time they are needed (or after they change)."""
        if self.people.examples_to_index(persona_id) is None:
            return
        with self._persona_lock:
            content_hash = self.people.examples_to_index(persona_id)
            if content_hash is None:
                return
            for s in self.db.query("SELECT id FROM samples WHERE owner_kind = 'persona' AND owner_id = ?",
                                   (persona_id,)):
                self.delete_sample(s["id"], purge=False)  # shipped text, nobody's personal writing
            file = self.people.persona_files[persona_id]
            for n, text in enumerate(file.examples, 1):
                read = ingest.ReadText(ingest.normalise(text), "persona example")
                self.store("persona", persona_id, read, f"{file.name} · example {n}", "persona file")
                progress("persona examples", n, len(file.examples))
            self.people.mark_examples_indexed(persona_id, content_hash)

    # -- reading back ----------------------------------------------------------------------------------------------
    def get_sample(self, sample_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT id, owner_kind, owner_id, title, source_name, kind, chars, n_chunks, status, created "
                          "FROM samples WHERE id = ?", (sample_id,))
        if not row:
            raise NotFound("That writing sample no longer exists.")
        return row

    def sample_text(self, sample_id: str) -> str:
        row = self.db.one("SELECT text FROM samples WHERE id = ?", (sample_id,))
        if not row:
            raise NotFound("That writing sample no longer exists.")
        return str(row["text"])

    def list_samples(self, profile_id: str) -> list[dict[str, Any]]:
        return ready_samples(self.db, "profile", profile_id)

    def recent_samples(self, profile_id: str, most: int) -> tuple[str, list[dict[str, Any]]]:
        """A person's ``most`` latest samples and a digest of which they are: what a cached summary or style card
        was made from, so it can tell when the samples changed since."""
        samples = self.list_samples(profile_id)[-most:]
        return hashlib.sha256(json.dumps([s["id"] for s in samples]).encode()).hexdigest()[:16], samples

    def chunk_vectors(self, profile_id: str, limit: int | None = None) -> list[VectorHit]:
        """A person's own chunks with their embeddings (for the embedding map), at most ``limit``."""
        # Chroma reads only ``limit`` records: a profile with 30,000 chunks no longer costs every visitor seconds.
        return self.vectors.get(user_collection(profile_id), embeddings=True, limit=limit)

    def person_vector(self, profile_id: str | None) -> np.ndarray | None:
        """The centroid of a person's own chunk vectors (None without a profile or writing)."""
        if not profile_id:
            return None
        chunks = self.chunk_vectors(profile_id)
        return doc_vector(stack_embeddings(chunks)) if chunks else None

    # -- deleting --------------------------------------------------------------------------------------------------
    def delete_sample(self, sample_id: str, *, purge: bool = True) -> None:
        """Remove a sample from both stores and from other people's traces; ``purge`` then clears its bytes from
        SQLite's WAL and Chroma's files, as a profile deletion does (False only for shipped persona texts)."""
        s = self.get_sample(sample_id)
        with working(self.settings.data_dir) as writer:
            self.db.execute("UPDATE samples SET status = 'deleting', writer = ? WHERE id = ?", (writer, sample_id))
            if s["owner_kind"] == "profile":  # out of other people's stored traces too
                scrub_from_others(self.db, s["owner_id"], (sample_id,))
            self.remove_sample(sample_id, s["owner_kind"], s["owner_id"])
        if purge:
            # Chroma keeps a live collection's write log (with the text) until its index is persisted: rebuilding
            # the collection sends the log rows with the old one, which the purge then clears (as profile deletion
            # does for persona collections).
            for name in self._collections_of(s["owner_kind"], s["owner_id"]):
                rebuild_collection(self.vectors, name)
            self.people.purge_deleted()

    def _collections_of(self, owner_kind: str, owner_id: str) -> list[str]:
        if owner_kind == "persona":
            return [persona_collection(owner_id)]
        names = [user_collection(owner_id)]
        row = self.db.one("SELECT persona_id FROM profiles WHERE id = ?", (owner_id,))
        if row and row["persona_id"]:
            names.append(persona_collection(row["persona_id"]))
        return names

    def remove_sample(self, sample_id: str, owner_kind: str, owner_id: str) -> None:
        """The sample's vectors out of every collection that may hold them, then its rows."""
        names = self._collections_of(owner_kind, owner_id)
        for name in names:
            self.vectors.delete(name, where={"sample_id": sample_id})
        with self.db.transaction() as db:
            db.execute("DELETE FROM samples WHERE id = ?", (sample_id,))
            mark_changed(db, *names)

    # -- consistency (library.repair) ------------------------------------------------------------------------------
    def repair(self) -> dict[str, Any]:
        """Finish or undo what a crash interrupted; return what was fixed."""
        report = consistency.repair(self.db, self.vectors, self.remove_sample, self.people.finish_deletion,
                                    self._alive)
        liveness.sweep(self.settings.data_dir)
        stale = remove_stale(self.settings.data_dir)
        report["stale_scratch_folders"] = len(stale)
        if stale:
            report["notes"].append(f"removed {len(stale)} throw-away folder(s) left by a stopped evaluation")
        if report["orphan_samples"] or report["orphan_vectors"] or report["unfinished_samples"]:
            self.people.purge_deleted()
        return report

    def check_consistency(self) -> list[str]:
        """Every disagreement between SQLite and Chroma, as sentences (empty when consistent)."""
        return consistency.check(self.db, self.vectors, self._alive)

    def _alive(self, writer: str | None) -> bool:
        return liveness.alive(self.settings.data_dir, writer)


def writing_counts(db: Database, profile_id: str | None = None) -> dict[str, int]:
    """Ready samples and chunks of people's writing (one profile's, or everyone's), and how many people have some."""
    mine, p = (" AND owner_id = ?", (profile_id,)) if profile_id else ("", ())
    return {
        "samples": db.count("SELECT count(*) AS n FROM samples WHERE owner_kind = 'profile' AND status = 'ready'"
                            + mine, p),
        "chunks": db.count("SELECT count(*) AS n FROM chunks WHERE owner_kind = 'profile'" + mine, p),
        "people_with_writing": db.count("SELECT count(DISTINCT owner_id) AS n FROM samples WHERE "
                                        "owner_kind = 'profile' AND status = 'ready'"),
    }


def ready_samples(db: Database, owner_kind: str, owner_id: str) -> list[dict[str, Any]]:
    """The ready samples of one profile or persona, oldest first (the order of adding, when two share a time)."""
    return db.query("SELECT id, title, source_name, kind, chars, n_chunks, created FROM samples WHERE owner_kind = ? "
                    "AND owner_id = ? AND status = 'ready' ORDER BY created, rowid", (owner_kind, owner_id))


def sample_chunks(db: Database, sample_id: str) -> list[dict[str, Any]]:
    """A sample's chunks (position, text) in reading order."""
    return db.query("SELECT position, text FROM chunks WHERE sample_id = ? ORDER BY position", (sample_id,))


def chunk_count(db: Database, owner_kind: str, owner_id: str) -> int:
    """How many chunks of writing one profile or persona has."""
    return db.count("SELECT count(*) AS n FROM chunks WHERE owner_kind = ? AND owner_id = ?", (owner_kind, owner_id))
