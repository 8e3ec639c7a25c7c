"""The ``Playground``: one object that owns the stores, the embedder and the model backend.

Pages, the CLI and tests call this; it never touches the screen. It keeps SQLite and Chroma consistent:
a sample row is written as 'pending' before its vectors and marked 'ready' after, deletions are marked
'deleting' first, and ``repair()`` (run at start-up) finishes or undoes whatever a crash interrupted.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import ingest, privacy_scan
from .bounded import ExpansionLimits
from .consent import visible_sharers
from .conversation_history import HistoryChoice, select_history, session_rows
from .db import Database, new_id, now
from .embeddings import Embedder, SentenceTransformerEmbedder, Tokenizer, default_model_path
from .erasure import purge
from .errors import EmptyAnswer, GenerationInterrupted, InvalidInput, LLMError, NotFound, PlaygroundError
from .generation_queue import GenerationQueue, OnWait, with_queue
from .llm import BackendStatus, LLMBackend, Usage, backend_status, make_backend
from .personal_data import erase_profile, export_profile, scrub_from_others, scrub_if_withdrawn
from .personas import check_persona_fields, load_persona_files, slug
from .profiles import clean_attributes
from .prompting import MODES, PromptBuild, PromptPart, build_prompt
from .retrieval import Hit, RetrievalOptions, Retriever, Scope
from .settings import Settings
from .stylecard import style_card_part
from .summaries import summary_part
from .vectors import VectorStore, persona_collection, user_collection

Progress = Callable[[str, int, int], None]  # (stage, done, total)
AUTO_MIN_CHUNKS = 8  # auto mode uses user-level data from this many chunks of a person's own writing
GRANULARITIES: tuple[str, ...] = (*MODES, "auto")


def _noop(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class Turn:
    """One chat turn: retrieval and prompt are done when it is created; ``stream()`` asks the model."""

    playground: "Playground"
    session_id: str
    user_message_id: str
    hits: list[Hit]
    prompt: PromptBuild
    trace: dict[str, Any]
    model: str = ""
    answer: str = ""
    status: str = "pending"  # complete | interrupted | error
    error: PlaygroundError | None = None
    assistant_message_id: str = ""
    on_wait: OnWait | None = None  # called with how many questions are ahead while this one waits for the model
    _started: float = field(default_factory=time.perf_counter)

    def stream(self) -> Iterator[str]:
        """Yield the answer piece by piece; the answer (or what arrived of it) and the trace are saved either way."""
        pg = self.playground
        params = {"temperature": pg.settings.temperature, "max_tokens": pg.settings.max_tokens}
        self.trace.update(backend=pg.backend.name, backend_url=pg.backend.where, params=params)
        pieces: list[str] = []
        usage = Usage()
        t0 = time.perf_counter()
        ttft = None
        try:
            if not self.model:
                self.model = pg.default_model()
            self.trace["model"] = self.model
            with pg.generation_queue.slot(pg.settings.queue_wait, self.on_wait):  # concurrent questions wait
                for piece in pg.backend.stream(self.prompt.messages, self.model, **params):
                    if isinstance(piece, Usage):
                        usage = piece
                        continue
                    if ttft is None:
                        ttft = time.perf_counter() - t0
                    pieces.append(piece)
                    yield piece
            if not "".join(pieces).strip():  # never recorded as a complete answer
                raise EmptyAnswer("The model returned an empty answer.",
                                  "It may have been cut off by another request or run out of room for the prompt; "
                                  "ask again.")
            self.status = "complete"
        except LLMError as e:
            self.error = e
            if isinstance(e, GenerationInterrupted):
                pieces = [e.partial] if e.partial else pieces
            self.status = "interrupted" if "".join(pieces).strip() else "error"
            raise
        finally:
            self.answer = "".join(pieces)
            out_tokens = usage.output_tokens
            self.trace.update(
                latency_s=round(time.perf_counter() - t0, 3),
                ttft_s=None if ttft is None else round(ttft, 3),
                output_tokens=out_tokens if out_tokens is not None else pg.tokenizer.count(self.answer),
                output_tokens_estimated=out_tokens is None,
                input_tokens_model=usage.input_tokens,
                status=self.status if self.status != "pending" else "interrupted",
                error=str(self.error) if self.error else "",
            )
            self.assistant_message_id = pg._save_answer(self)

    def preview_only(self, error: PlaygroundError) -> None:
        """Record the turn without an answer (no model available); the prompt stays inspectable."""
        self.error, self.status = error, "error"
        self.trace.update(status="error", error=str(error), model=self.model, backend=self.playground.backend.name)
        self.assistant_message_id = self.playground._save_answer(self)


class Playground:
    def __init__(self, settings: Settings | None = None, *, backend: LLMBackend | None = None,
                 embedder: Embedder | None = None, vectors: VectorStore | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.db = Database(self.settings.db_path)
        model_path = (default_model_path() if not self.settings.embedding_model
                      else __import__("pathlib").Path(self.settings.embedding_model))
        self.tokenizer = Tokenizer(model_path)
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder(model_path)
        self.vectors = vectors or VectorStore(
            None if self.settings.chroma_host else self.settings.chroma_path,
            self.settings.chroma_host, self.settings.chroma_port)
        self.backend = backend or make_backend(self.settings)
        self.generation_queue = GenerationQueue(self.settings.llm_parallel)
        self.retriever = Retriever(self.db, self.vectors, self.embed_query)
        self.chunker = ingest.Chunker(self.tokenizer.count, self.settings.chunk_tokens, self.settings.chunk_overlap)
        self._persona_lock = threading.Lock()
        self._centroids: dict[tuple[str, str], np.ndarray] = {}
        self.sync_personas()
        self.repair_report = self.repair()

    # -- embeddings ------------------------------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text], batch_size=1)[0]

    def warm_up(self) -> None:
        """Load the embedding model now (it loads lazily on first use otherwise)."""
        self.embed_query("warm up")

    # -- revisions (key the BM25 cache) ----------------------------------------------------------------------------
    def _bump(self, db: Any, *collections: str) -> None:
        for c in collections:
            db.execute("INSERT INTO scope_revs (scope, rev) VALUES (?, 1) "
                       "ON CONFLICT(scope) DO UPDATE SET rev = rev + 1", (c,))

    # -- profiles --------------------------------------------------------------------------------------------------
    def create_profile(self, display_name: str, owner_token: str = "", **attrs: Any) -> dict[str, Any]:
        """``owner_token``: '' for a public profile, a browser's token in a private workshop, or 'study:…'."""
        values = clean_attributes({"display_name": display_name, **attrs})
        if values.get("persona_id"):
            self.get_persona(values["persona_id"])
        pid = new_id("prof")
        values.update(id=pid, created=now(), updated=now(), owner_token=owner_token)
        cols = ", ".join(values)
        with self.db.transaction() as db:
            db.execute(f"INSERT INTO profiles ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
        return self.get_profile(pid)

    def get_profile(self, profile_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM profiles WHERE id = ?", (profile_id,))
        if not row:
            raise NotFound("That profile no longer exists.", "Pick or create another one.")
        row["share_with_persona"] = bool(row["share_with_persona"])
        return row

    def list_profiles(self, visible_to: str | None = None, include_study: bool = False) -> list[dict[str, Any]]:
        """All profiles, or (``visible_to`` a browser token) the public ones and that browser's own.
        Study participants' profiles are left out unless ``include_study``."""
        where, params = [], []
        if visible_to is not None:
            where.append("p.owner_token IN ('', ?)")
            params.append(visible_to)
        if not include_study:
            where.append("p.owner_token NOT LIKE 'study:%'")
        rows = self.db.query(
            "SELECT p.*, (SELECT count(*) FROM samples s WHERE s.owner_kind = 'profile' AND s.owner_id = p.id "
            "AND s.status = 'ready') AS n_samples, (SELECT count(*) FROM chunks c WHERE c.owner_kind = 'profile' "
            "AND c.owner_id = p.id) AS n_chunks FROM profiles p" + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY p.created", tuple(params))
        for r in rows:
            r["share_with_persona"] = bool(r["share_with_persona"])
        return rows

    def update_profile(self, profile_id: str, **changes: Any) -> dict[str, Any]:
        old = self.get_profile(profile_id)
        values = clean_attributes(changes, partial=True)
        if values.get("persona_id"):
            self.get_persona(values["persona_id"])
        if not values:
            return old
        values["updated"] = now()
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.db.transaction() as db:
            db.execute(f"UPDATE profiles SET {sets} WHERE id = ?", (*values.values(), profile_id))
        new = self.get_profile(profile_id)
        self._sync_sharing(old, new)
        return new

    def _shares_into(self, profile: dict[str, Any]) -> str | None:
        return profile["persona_id"] if profile.get("share_with_persona") and profile.get("persona_id") else None

    def _sync_sharing(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Copy a member's vectors into the persona collection when they opt in; remove them when they opt out."""
        before, after = self._shares_into(old), self._shares_into(new)
        if before == after:
            return
        if before:
            self.vectors.delete(persona_collection(before), where={"owner_id": old["id"]})
            scrub_from_others(self.db, old["id"])  # withdrawn: out of every other person's stored traces too
        if after:
            chunks = self.vectors.get(user_collection(new["id"]), embeddings=True)
            if chunks:
                self.vectors.add(persona_collection(after), [c.id for c in chunks],
                                 np.vstack([c.embedding for c in chunks]),  # type: ignore[misc]
                                 [c.text for c in chunks], [c.metadata for c in chunks])
        with self.db.transaction() as db:
            self._bump(db, *[persona_collection(p) for p in (before, after) if p])

    def delete_profile(self, profile_id: str, *, purge: bool = True) -> dict[str, Any]:
        """Erase a person everywhere personal_data.PLACES lists; ``purge`` then clears the bytes the stores keep
        (pass False when deleting many, and call ``purge_deleted()`` once at the end)."""
        report = erase_profile(self.db, self.vectors, self.get_profile(profile_id))
        self._after_profile_deleted(profile_id)
        if purge:
            report["purge"] = self.purge_deleted()
        return report

    def purge_deleted(self) -> dict[str, Any]:
        """Checkpoint SQLite's WAL and purge embedded Chroma's files of deleted records (erasure.py)."""
        return purge(self.db, self.vectors, None if self.settings.chroma_host else self.settings.chroma_path)

    def export_profile(self, profile_id: str) -> dict[str, Any]:
        """Everything stored about one person, from the same declaration deletion uses."""
        self.get_profile(profile_id)
        return export_profile(self.db, self.vectors, profile_id)

    def _after_profile_deleted(self, profile_id: str) -> None:
        """Hook for later layers (study logs) to remove what they hold of a profile."""

    # -- personas --------------------------------------------------------------------------------------------------
    def sync_personas(self) -> None:
        """Upsert the shipped persona files into SQLite (no embedding; that happens on first use)."""
        files = load_persona_files()
        with self.db.transaction() as db:
            for p in files:
                source = json.dumps(p.source)
                db.execute(
                    "INSERT INTO personas (id, name, grp, description, style_guidance, source, builtin, content_hash, "
                    "created, updated) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "name = excluded.name, grp = excluded.grp, description = excluded.description, "
                    "style_guidance = excluded.style_guidance, source = excluded.source, "
                    "content_hash = excluded.content_hash, updated = excluded.updated "
                    "WHERE personas.content_hash != excluded.content_hash",
                    (p.id, p.name, p.group, p.description, p.style_guidance, source, p.content_hash, now(), now()))
        self._persona_files = {p.id: p for p in files}

    def list_personas(self) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT p.*, (SELECT count(*) FROM profiles m WHERE m.persona_id = p.id) AS n_members, "
            "(SELECT count(*) FROM profiles m WHERE m.persona_id = p.id AND m.share_with_persona = 1) AS n_sharing "
            "FROM personas p ORDER BY p.builtin DESC, p.name")
        for r in rows:
            r["source"] = json.loads(r["source"] or "{}") if r["source"].startswith("{") else {"note": r["source"]}
            r["builtin"] = bool(r["builtin"])
            r["examples"] = self.persona_examples(r["id"])
        return rows

    def get_persona(self, persona_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM personas WHERE id = ?", (persona_id,))
        if not row:
            raise NotFound(f"There is no persona '{persona_id}'.", "Pick one from the Personas page.")
        row["builtin"] = bool(row["builtin"])
        row["source"] = json.loads(row["source"]) if row["source"].startswith("{") else {"note": row["source"]}
        row["examples"] = self.persona_examples(persona_id)
        return row

    def persona_examples(self, persona_id: str) -> list[str]:
        file = getattr(self, "_persona_files", {}).get(persona_id)
        if file:
            return list(file.examples)
        return [r["text"] for r in self.db.query(
            "SELECT text FROM samples WHERE owner_kind = 'persona' AND owner_id = ? AND status = 'ready' "
            "ORDER BY created", (persona_id,))]

    def persona_members(self, persona_id: str) -> list[dict[str, Any]]:
        return [p for p in self.list_profiles() if p["persona_id"] == persona_id]

    def create_persona(self, name: str, description: str, style_guidance: str = "",
                       examples: Sequence[str] = (), group: str = "") -> dict[str, Any]:
        check_persona_fields(name, description)
        pid = f"user-{slug(name)}-{new_id('x')[-6:]}"
        with self.db.transaction() as db:
            db.execute("INSERT INTO personas (id, name, grp, description, style_guidance, source, builtin, created, "
                       "updated) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                       (pid, name.strip(), group.strip(), description.strip(), style_guidance.strip(),
                        json.dumps({"dataset": "created in the playground"}), now(), now()))
        for n, text in enumerate(e for e in examples if e.strip()):
            self._add_sample("persona", pid, ingest.read_pasted(text, self.settings.max_upload_bytes),
                             f"{name.strip()} example {n + 1}", "pasted")
        return self.get_persona(pid)

    def update_persona(self, persona_id: str, *, name: str, description: str, style_guidance: str = "",
                       group: str = "") -> dict[str, Any]:
        persona = self.get_persona(persona_id)
        if persona["builtin"]:
            raise InvalidInput("Shipped personas cannot be edited.", "Create your own persona instead.")
        check_persona_fields(name, description)
        self.db.execute("UPDATE personas SET name = ?, grp = ?, description = ?, style_guidance = ?, updated = ? "
                        "WHERE id = ?", (name.strip(), group.strip(), description.strip(), style_guidance.strip(),
                                         now(), persona_id))
        return self.get_persona(persona_id)

    def add_persona_example(self, persona_id: str, text: str) -> dict[str, Any]:
        persona = self.get_persona(persona_id)
        if persona["builtin"]:
            raise InvalidInput("Shipped personas cannot be edited.", "Create your own persona instead.")
        read = ingest.read_pasted(text, self.settings.max_upload_bytes)
        return self._add_sample("persona", persona_id, read, f"{persona['name']} example", "pasted")

    def delete_persona(self, persona_id: str) -> None:
        persona = self.get_persona(persona_id)
        if persona["builtin"]:
            raise InvalidInput("Shipped personas cannot be deleted.")
        with self.db.transaction() as db:
            db.execute("UPDATE samples SET status = 'deleting' WHERE owner_kind = 'persona' AND owner_id = ?",
                       (persona_id,))
        self.vectors.drop(persona_collection(persona_id))
        with self.db.transaction() as db:
            db.execute("DELETE FROM samples WHERE owner_kind = 'persona' AND owner_id = ?", (persona_id,))
            db.execute("UPDATE profiles SET persona_id = NULL WHERE persona_id = ?", (persona_id,))
            db.execute("DELETE FROM personas WHERE id = ?", (persona_id,))
            db.execute("DELETE FROM scope_revs WHERE scope = ?", (persona_collection(persona_id),))

    def ensure_persona_indexed(self, persona_id: str, progress: Progress = _noop) -> None:
        """Embed a shipped persona's example texts the first time they are needed (or after they change)."""
        persona = self.db.one("SELECT id, name, builtin, content_hash, indexed_hash FROM personas WHERE id = ?",
                              (persona_id,))
        if not persona or not persona["builtin"] or persona["indexed_hash"] == persona["content_hash"]:
            return
        with self._persona_lock:
            current = self.db.one("SELECT indexed_hash, content_hash FROM personas WHERE id = ?", (persona_id,))
            if current and current["indexed_hash"] == current["content_hash"]:
                return
            for s in self.db.query("SELECT id FROM samples WHERE owner_kind = 'persona' AND owner_id = ?",
                                   (persona_id,)):
                self.delete_sample(s["id"])
            file = self._persona_files[persona_id]
            for n, text in enumerate(file.examples, 1):
                read = ingest.ReadText(ingest.normalise(text), "persona example")
                self._add_sample("persona", persona_id, read, f"{file.name} · example {n}", "persona file")
                progress("persona examples", n, len(file.examples))
            self.db.execute("UPDATE personas SET indexed_hash = ? WHERE id = ?", (persona["content_hash"], persona_id))

    # -- samples ---------------------------------------------------------------------------------------------------
    def _read_input(self, filename: str | None, data: bytes | None, text: str | None) -> ingest.ReadText:
        limits = ExpansionLimits.from_settings(self.settings)
        if data is not None:
            return ingest.read_bytes(data, filename or "upload.txt", self.settings.max_upload_bytes, limits)
        if text is not None:
            return ingest.read_pasted(text, self.settings.max_upload_bytes, limits)
        raise InvalidInput("Give a file or some text.")

    def scan_sample(self, profile_id: str | None = None, *, filename: str | None = None, data: bytes | None = None,
                    text: str | None = None) -> tuple[ingest.ReadText, list[privacy_scan.Finding]]:
        """Read a sample as ``add_sample`` would and list the personal data in it; stores nothing."""
        read = self._read_input(filename, data, text)
        names = privacy_scan.known_names(self.get_profile(profile_id)) if profile_id else []
        return read, privacy_scan.scan(read.text, names)

    def redaction_default(self, profile_id: str) -> bool:
        """Whether samples of this profile are redacted unless the person says otherwise (see privacy_scan)."""
        from .workshop import get_preset

        profile, preset = self.get_profile(profile_id), get_preset(self)
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
        profile = self.get_profile(profile_id)
        progress("reading", 0, 1)
        read = self._read_input(filename, data, text)
        title = (title or "").strip() or ingest.title_from(filename, read.text)
        source = filename or "pasted text"
        findings: list[privacy_scan.Finding] = []
        if self.redaction_default(profile_id) if redact is None else redact:
            names = privacy_scan.known_names(profile)
            read, findings = privacy_scan.redact_read(read, names)
            title, source = (privacy_scan.redact(x, privacy_scan.scan(x, names)) for x in (title, source))
        with self.db.connect() as db:  # early, before the costly embedding
            self._refuse_duplicate(db, profile_id, read.content_hash)
        added = self._add_sample("profile", profile_id, read, title, source, progress)
        return {**added, "redacted": privacy_scan.counts(findings)}

    def _refuse_duplicate(self, db: Any, profile_id: str, content_hash: str) -> None:
        """Same text twice in one profile is refused. Samples being added right now count too ('pending'), and
        ``_add_sample`` checks again inside the transaction that inserts, so concurrent adds store one copy."""
        dup = db.execute("SELECT title, status FROM samples WHERE owner_kind = 'profile' AND owner_id = ? AND "
                         "content_hash = ? AND status IN ('ready', 'pending')", (profile_id, content_hash)).fetchone()
        if dup:
            when = "is being added right now" if dup["status"] == "pending" else "is already in your samples"
            raise InvalidInput(f"This text {when} as “{dup['title']}”.", "Nothing was added.")

    def _add_sample(self, owner_kind: str, owner_id: str, read: ingest.ReadText, title: str, source_name: str,
                    progress: Progress = _noop) -> dict[str, Any]:
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
            shares = self._shares_into(self.get_profile(owner_id))
            if shares:
                collections.append(persona_collection(shares))
        progress("storing", 0, len(chunks))
        tokens = self.tokenizer.count_many(chunks)  # one call for all chunks, outside the write lock
        with self.db.transaction() as db:  # 1. the record, marked pending
            if owner_kind == "profile":  # atomic with the insert: BEGIN IMMEDIATE holds the write lock
                self._refuse_duplicate(db, owner_id, read.content_hash)
            db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, source_name, kind, chars, n_chunks, "
                       "content_hash, text, status, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                       (sid, owner_kind, owner_id, title[:200], source_name[:200], read.kind, len(read.text),
                        len(chunks), read.content_hash, read.text, created))
            db.executemany("INSERT INTO chunks (id, sample_id, owner_kind, owner_id, position, text, tokens) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(ids[i], sid, owner_kind, owner_id, i, c, tokens[i]) for i, c in enumerate(chunks)])
        try:  # 2. the vectors
            for name in collections:
                self.vectors.add(name, ids, vectors, chunks, metas)
        except BaseException:
            self._remove_sample(sid, owner_kind, owner_id)
            raise
        with self.db.transaction() as db:  # 3. ready
            db.execute("UPDATE samples SET status = 'ready' WHERE id = ?", (sid,))
            self._bump(db, *collections)
        if len(collections) > 1:  # the owner may have opted out (or left) while the vectors were being written
            row = self.db.one("SELECT persona_id, share_with_persona FROM profiles WHERE id = ?", (owner_id,))
            still = persona_collection(row["persona_id"]) if row and row["share_with_persona"] and \
                row["persona_id"] else None
            for name in collections[1:]:
                if name != still:
                    self.vectors.delete(name, where={"sample_id": sid})
        progress("done", len(chunks), len(chunks))
        return {**self.get_sample(sid), "notes": read.notes}

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
        return self.db.query("SELECT id, title, source_name, kind, chars, n_chunks, created FROM samples WHERE "
                             "owner_kind = 'profile' AND owner_id = ? AND status = 'ready' ORDER BY created",
                             (profile_id,))

    def delete_sample(self, sample_id: str) -> None:
        s = self.get_sample(sample_id)
        self.db.execute("UPDATE samples SET status = 'deleting' WHERE id = ?", (sample_id,))
        if s["owner_kind"] == "profile":  # out of other people's stored traces too
            scrub_from_others(self.db, s["owner_id"], (sample_id,))
        self._remove_sample(sample_id, s["owner_kind"], s["owner_id"])

    def _collections_of(self, owner_kind: str, owner_id: str) -> list[str]:
        if owner_kind == "persona":
            return [persona_collection(owner_id)]
        names = [user_collection(owner_id)]
        row = self.db.one("SELECT persona_id FROM profiles WHERE id = ?", (owner_id,))
        if row and row["persona_id"]:
            names.append(persona_collection(row["persona_id"]))
        return names

    def _remove_sample(self, sample_id: str, owner_kind: str, owner_id: str) -> None:
        names = self._collections_of(owner_kind, owner_id)
        for name in names:
            self.vectors.delete(name, where={"sample_id": sample_id})
        with self.db.transaction() as db:
            db.execute("DELETE FROM samples WHERE id = ?", (sample_id,))
            self._bump(db, *names)

    # -- consistency -----------------------------------------------------------------------------------------------
    def repair(self) -> dict[str, int]:
        """Finish or undo what a crash interrupted; return what was fixed."""
        fixed = {"unfinished_samples": 0, "orphan_vectors": 0, "missing_shared": 0}
        for s in self.db.query("SELECT id, owner_kind, owner_id FROM samples WHERE status != 'ready'"):
            self._remove_sample(s["id"], s["owner_kind"], s["owner_id"])
            fixed["unfinished_samples"] += 1
        expected = self.expected_vector_ids()
        for name in self.vectors.collections():
            want = expected.get(name, set())
            if self.vectors.count(name) == len(want):
                continue
            have = self.vectors.ids(name)
            orphans = have - want
            if orphans:
                self.vectors.delete(name, ids=sorted(orphans))
                fixed["orphan_vectors"] += len(orphans)
            missing = want - have
            if missing and name.startswith("p-"):
                fixed["missing_shared"] += self._recopy(name, missing)
        return fixed

    def _recopy(self, name: str, missing: set[str]) -> int:
        owners = {r["owner_id"] for r in self.db.query(
            f"SELECT DISTINCT owner_id FROM chunks WHERE id IN ({','.join('?' * len(missing))})", tuple(missing))}
        n = 0
        for owner in owners:
            got = [c for c in self.vectors.get(user_collection(owner), embeddings=True) if c.id in missing]
            if got:
                self.vectors.add(name, [c.id for c in got], np.vstack([c.embedding for c in got]),  # type: ignore
                                 [c.text for c in got], [c.metadata for c in got])
                n += len(got)
        return n

    def expected_vector_ids(self) -> dict[str, set[str]]:
        """What each Chroma collection should hold, according to SQLite."""
        out: dict[str, set[str]] = {}
        rows = self.db.query(
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

    def check_consistency(self) -> list[str]:
        """Every disagreement between SQLite and Chroma, as sentences (empty when consistent)."""
        problems = []
        expected = self.expected_vector_ids()
        names = set(self.vectors.collections()) | set(expected)
        for name in sorted(names):
            have, want = self.vectors.ids(name), expected.get(name, set())
            if have - want:
                problems.append(f"{name}: {len(have - want)} vectors without a record")
            if want - have:
                problems.append(f"{name}: {len(want - have)} records without vectors")
        for s in self.db.query("SELECT id, status FROM samples WHERE status != 'ready'"):
            problems.append(f"sample {s['id']} is {s['status']}")
        return problems

    # -- retrieval and prompts -------------------------------------------------------------------------------------
    def _resolve(self, profile: dict[str, Any] | None, mode: str, persona_id: str | None
                 ) -> tuple[str, str | None, dict[str, Any] | None]:
        """A concrete granularity for ``mode``: "auto" becomes user, persona or global (with the reason)."""
        if mode != "auto":
            return mode, persona_id, None
        resolution = self.resolve_auto(profile)
        return resolution["mode"], resolution["persona_id"] or persona_id, resolution

    def scope_for(self, profile: dict[str, Any] | None, mode: str, persona_id: str | None = None) -> Scope:
        mode, persona_id, _ = self._resolve(profile, mode, persona_id)
        if mode not in MODES:
            raise InvalidInput(f"Unknown granularity '{mode}'.", "Choose user, persona or global.")
        if mode == "global":
            return Scope("none")
        if mode == "user":
            if not profile:
                raise InvalidInput("User mode needs a profile.", "Create or pick a profile first.")
            return Scope("user", profile["id"])
        pid = persona_id or (profile or {}).get("persona_id")
        if not pid:
            raise InvalidInput("Persona mode needs a persona.", "Join one on the Profile page, or pick one here.")
        self.get_persona(pid)
        self.ensure_persona_indexed(pid)
        return Scope("persona", pid, visible_sharers(self.db, profile, pid), (profile or {}).get("id", ""))

    def retrieve(self, profile_id: str | None, query: str, mode: str, options: RetrievalOptions | None = None,
                 persona_id: str | None = None) -> list[Hit]:
        profile = self.get_profile(profile_id) if profile_id else None
        options = options or RetrievalOptions(k=self.settings.default_k)
        return self.retriever.retrieve(query, self.scope_for(profile, mode, persona_id), options)

    def history(self, session_id: str | None, before: str | None = None, mode: str = "user",
                persona_id: str | None = None) -> list[dict[str, str]]:
        """The earlier messages a ``mode`` turn carries (user mode: all of them), oldest first."""
        return self.history_choice(session_id, mode, persona_id, before=before).messages

    def history_choice(self, session_id: str | None, mode: str, persona_id: str | None = None,
                       before: str | None = None) -> HistoryChoice:
        """History that respects granularity, with the earlier turns left out and why (conversation_history)."""
        if not session_id:
            return HistoryChoice()
        rows = session_rows(self.db, session_id)
        if before:
            idx = next((i for i, r in enumerate(rows) if r["id"] == before), len(rows))
            rows = rows[:idx]
        return select_history(rows, mode, persona_id, self.settings.history_turns)

    def resolve_auto(self, profile: dict[str, Any] | None) -> dict[str, Any]:
        """Cold start (the survey's hybrid granularity): user level when the profile has enough writing, else the
        persona it belongs to or is closest to, else global. Returns the mode, persona and the reason, for people."""
        if not profile:
            return {"mode": "global", "persona_id": None, "reason": "No profile is selected, so nothing is personal."}
        n = self.db.one("SELECT count(*) AS n FROM chunks WHERE owner_kind = 'profile' AND owner_id = ?",
                        (profile["id"],))["n"]
        name = profile["display_name"]
        if n >= AUTO_MIN_CHUNKS:
            return {"mode": "user", "persona_id": None,
                    "reason": f"{name} has {n} chunks of their own writing (at least {AUTO_MIN_CHUNKS}): user level."}
        if profile.get("persona_id"):
            persona = self.get_persona(profile["persona_id"])
            return {"mode": "persona", "persona_id": persona["id"],
                    "reason": f"{name} has only {n} chunks of writing (fewer than {AUTO_MIN_CHUNKS}), so the persona "
                              f"they joined, “{persona['name']}”, stands in."}
        suggestion = self.suggest_persona(profile["id"])
        if suggestion:
            return {"mode": "persona", "persona_id": suggestion["persona_id"],
                    "reason": f"{name} has only {n} chunks of writing and no persona; the closest persona to their "
                              f"{suggestion['based_on']} is “{suggestion['name']}” (similarity "
                              f"{suggestion['similarity']:.2f})."}
        return {"mode": "global", "persona_id": None,
                "reason": f"{name} is a brand-new profile with no writing and no attributes: the global baseline."}

    def suggest_persona(self, profile_id: str) -> dict[str, Any] | None:
        """The persona closest to a profile's few samples and attributes (cosine of mean embeddings), or None."""
        profile = self.get_profile(profile_id)
        texts = [self.sample_text(s["id"])[:2000] for s in self.list_samples(profile_id)]
        attrs = ", ".join(str(profile[k]) for k in ("occupation", "interests", "preferred_tone", "notes") if profile[k])
        based_on = " and ".join(x for x, ok in (("writing", texts), ("attributes", attrs)) if ok)
        if attrs:
            texts.append(attrs)
        if not texts:
            return None
        me = self.embedder.embed(texts).mean(axis=0)
        best = None
        for persona in self.list_personas():
            c = self._persona_centroid(persona)
            sim = float(me @ c / (np.linalg.norm(me) * np.linalg.norm(c) + 1e-12))
            if best is None or sim > best["similarity"]:
                best = {"persona_id": persona["id"], "name": persona["name"], "similarity": sim, "based_on": based_on}
        return best

    def _persona_centroid(self, persona: dict[str, Any]) -> np.ndarray:
        key = (persona["id"], persona["updated"])
        if key not in self._centroids:
            texts = [persona["description"], persona.get("style_guidance", "")] + list(persona["examples"])
            self._centroids[key] = self.embedder.embed([t for t in texts if t]).mean(axis=0)
        return self._centroids[key]

    def preview(self, profile_id: str | None, message: str, mode: str, options: RetrievalOptions | None = None,
                *, persona_id: str | None = None, session_id: str | None = None, use_summary: bool = False,
                use_style_card: bool = False, extra_parts: Sequence[PromptPart] = ()
                ) -> tuple[list[Hit], PromptBuild, dict[str, float]]:
        """Retrieve and assemble the prompt for a message, without asking a model."""
        options = options or RetrievalOptions(k=self.settings.default_k)
        profile = self.get_profile(profile_id) if profile_id else None
        t0 = time.perf_counter()
        mode, persona_id, resolution = self._resolve(profile, mode, persona_id)
        if use_summary and mode == "user" and profile:
            part = summary_part(self, profile["id"])
            extra_parts = [*extra_parts, part] if part else extra_parts
        scope = self.scope_for(profile, mode, persona_id)
        hits = self.retriever.retrieve(message, scope, options)
        t1 = time.perf_counter()
        persona = self.get_persona(scope.owner_id) if scope.kind == "persona" else None
        if use_style_card:
            card = style_card_part(self, mode, profile, persona)
            extra_parts = [*extra_parts, card] if card else extra_parts
        history = self.history_choice(session_id, mode, scope.owner_id if scope.kind == "persona" else None)
        build = build_prompt(message, mode, count_tokens=self.tokenizer.count, budget=self.settings.prompt_budget,
                             profile=profile, persona=persona, hits=hits, history=history.messages,
                             extra_parts=extra_parts)
        build.resolution = resolution
        build.history_ids, build.history_excluded = history.message_ids, history.excluded
        build.history_excluded_total = history.excluded_total
        t2 = time.perf_counter()
        return hits, build, {"retrieval_ms": round((t1 - t0) * 1000, 2), "prompt_ms": round((t2 - t1) * 1000, 2)}

    # -- sessions and turns ----------------------------------------------------------------------------------------
    def new_session(self, profile_id: str | None, title: str = "") -> dict[str, Any]:
        if profile_id:
            self.get_profile(profile_id)
        sid = new_id("ses")
        self.db.execute("INSERT INTO sessions (id, profile_id, title, created) VALUES (?, ?, ?, ?)",
                        (sid, profile_id, title, now()))
        return {"id": sid, "profile_id": profile_id, "title": title}

    def sessions(self, profile_id: str) -> list[dict[str, Any]]:
        return self.db.query("SELECT s.*, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS n_messages "
                             "FROM sessions s WHERE profile_id = ? ORDER BY created DESC", (profile_id,))

    def session_messages(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT m.*, t.data AS trace FROM messages m LEFT JOIN traces t ON t.message_id = m.id "
            "WHERE m.session_id = ? ORDER BY m.created, m.rowid", (session_id,))
        for r in rows:
            r["trace"] = json.loads(r["trace"]) if r["trace"] else None
        return rows

    def start_turn(self, session_id: str, message: str, mode: str, options: RetrievalOptions | None = None, *,
                   persona_id: str | None = None, model: str = "", use_summary: bool = False,
                   use_style_card: bool = False, extra_parts: Sequence[PromptPart] = ()) -> Turn:
        """Save the message, retrieve and build the prompt; then call ``stream()`` on the result."""
        session = self.db.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not session:
            raise NotFound("That conversation no longer exists.", "Start a new one.")
        options = options or RetrievalOptions(k=self.settings.default_k)
        hits, build, timings = self.preview(session["profile_id"], message, mode, options, persona_id=persona_id,
                                            session_id=session_id, use_summary=use_summary,
                                            use_style_card=use_style_card, extra_parts=extra_parts)
        mid = new_id("msg")
        self.db.execute("INSERT INTO messages (id, session_id, role, content, status, created) "
                        "VALUES (?, ?, 'user', ?, 'complete', ?)", (mid, session_id, message.strip(), now()))
        trace = {
            "id": new_id("trc"), "created": now(), "mode": build.mode, "requested_mode": mode,
            "auto": build.resolution, "query": message.strip(),
            "profile_id": session["profile_id"],
            "persona_id": next((p.meta["persona_id"] for p in build.parts if p.source == "persona"), None),
            "retrieval": {"retriever": options.retriever, "k": options.k, "threshold": options.threshold,
                          "mmr": options.mmr, "excluded_samples": list(options.exclude_samples)},
            "hits": [h.to_dict() for h in hits], "prompt": build.to_dict(), "timings": timings,
            "prompt_tokens": build.tokens, "model": model,
            "session_id": session_id, "user_message_id": mid, "history_ids": build.history_ids,
            "history_excluded": build.history_excluded,
        }
        return Turn(self, session_id, mid, hits, build, trace, model=model)

    def _save_answer(self, turn: Turn) -> str:
        aid = new_id("msg")
        t0 = time.perf_counter()
        turn.trace.setdefault("timings", {})
        with self.db.transaction() as db:
            db.execute("INSERT INTO messages (id, session_id, role, content, status, error, created) "
                       "VALUES (?, ?, 'assistant', ?, ?, ?, ?)",
                       (aid, turn.session_id, turn.answer, turn.status if turn.status != "pending" else "interrupted",
                        str(turn.error or ""), now()))
            turn.trace["timings"]["log_ms"] = round((time.perf_counter() - t0) * 1000, 2)
            db.execute("INSERT INTO traces (id, message_id, session_id, profile_id, mode, data, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (turn.trace["id"], aid, turn.session_id, turn.trace.get("profile_id"), turn.trace["mode"],
                        json.dumps(turn.trace), now()))
        scrub_if_withdrawn(self.db, {h.owner_id for h in turn.hits if h.owner_kind == "profile"
                                     and h.owner_id != turn.trace.get("profile_id")})
        return aid

    # -- probes (issue 14): thin wiring to playground.probes -------------------------------------------------------
    def person_vector(self, profile_id: str | None) -> np.ndarray | None:
        """The centroid of a person's own chunk vectors (None without a profile or writing)."""
        from .attribution import doc_vector

        if not profile_id:
            return None
        chunks = self.vectors.get(user_collection(profile_id), embeddings=True)
        return doc_vector(np.vstack([c.embedding for c in chunks])) if chunks else None  # type: ignore[misc]

    def start_explanation(self, profile_id: str | None, message: str, mode: str,
                          options: RetrievalOptions | None = None, *, persona_id: str | None = None,
                          trace: dict[str, Any] | None = None, model: str = "", use_summary: bool = False) -> str:
        """Store a new counterfactual batch for a message (its prompt built now) or for a chat answer (``trace``:
        the prompt exactly as it was sent). Run it with ``run_explanation``."""
        from .probes import counterfactual

        if trace:
            parts = counterfactual.parts_from_dicts(trace["prompt"]["parts"])
            message, mode, profile_id = trace["query"], trace["mode"], trace.get("profile_id")
        else:
            _, build, _ = self.preview(profile_id, message, mode, options, persona_id=persona_id,
                                       use_summary=use_summary)
            parts, mode = build.parts, build.mode
        return counterfactual.create_run(self.db, parts, message=message, mode=mode,
                                         model=model or self.default_model(), profile_id=profile_id,
                                         source_trace_id=(trace or {}).get("id"))

    def run_explanation(self, run_id: str, progress: Progress | None = None,
                        should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
        from .probes import counterfactual

        row = counterfactual.get_run(self.db, run_id)
        return counterfactual.run(self.db, run_id, backend=self.backend, embed=self.embedder.embed,
                                  person_vector=self.person_vector(row["profile_id"]),
                                  max_tokens=self.settings.max_tokens, count_tokens=self.tokenizer.count,
                                  progress=progress, should_stop=should_stop)

    # -- the model -------------------------------------------------------------------------------------------------
    def preferred_model(self) -> str:
        """The model a workshop preset fixed, else PLAYGROUND_MODEL, else '' (the first the backend lists)."""
        from .workshop import get_preset

        return get_preset(self)["fixed_model"] or self.settings.model

    def llm_status(self) -> BackendStatus:
        """The backend's status: ready, busy (this app is writing answers; new ones wait), slow, down or no_model."""
        return with_queue(backend_status(self.backend, self.preferred_model()), self.generation_queue)

    def default_model(self) -> str:
        preferred = self.preferred_model()
        if preferred and self.backend.name != "embedded":  # the embedded backend has its one model
            return preferred
        models = self.backend.list_models()
        if not models:
            status = backend_status(self.backend)
            raise LLMError(status.problem or "The model server lists no models.")
        return models[0]

    def status(self) -> dict[str, Any]:
        """Each backend: reachable? what is missing? — for the home page and `python -m playground status`."""
        llm = self.llm_status()
        return {
            "embedding": {"model": getattr(self.embedder, "name", "custom"),
                          "loaded": bool(getattr(self.embedder, "loaded", True))},
            "chroma": {"where": self.vectors.where, "reachable": self.vectors.heartbeat()},
            "llm": {"backend": llm.backend, "where": llm.where, "reachable": llm.reachable, "models": llm.models,
                    "model": llm.model, "problem": llm.problem},
            "data_dir": str(self.settings.data_dir),
        }
