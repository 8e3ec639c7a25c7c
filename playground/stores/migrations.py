"""Numbered schema steps for the SQLite database, applied once each and recorded in ``_migrations``.

Add a step by appending a function decorated with ``@migration``; never edit one that has shipped. Steps run in
the order of this file and are recorded by name, so a number is only a name: numbers are handed out to pieces of
work in advance, and a number with no step (m002, m007, …) was handed out and not needed.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def apply(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now.

    Each step runs in one transaction with its record: a step that fails, or a process killed during it, leaves
    the database exactly at the step before (SQLite's schema changes are transactional), and the next start runs
    it again. ``db`` must be in autocommit mode (``isolation_level=None``, as ``Database`` opens it). Two
    processes starting on a new data folder at once take turns: the second finds each step recorded and skips it.
    """
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone() is None:
                fn(db)
                db.execute("INSERT INTO _migrations (name, applied) VALUES (?, datetime('now'))", (name,))
                applied.append(name)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return applied


def script(db: sqlite3.Connection, sql: str) -> None:
    """Run a script's statements one by one inside the step's transaction (``executescript`` would commit first,
    so a step failing half-way would leave half its changes and fail again at every start)."""
    start = 0
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[start:i + 1]):
            db.execute(sql[start:i + 1])
            start = i + 1
    if sql[start:].strip():
        db.execute(sql[start:])


@migration
def m001_core(db: sqlite3.Connection) -> None:
    script(db,
        """
        CREATE TABLE personas (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            grp TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            style_guidance TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            builtin INTEGER NOT NULL DEFAULT 0,
            content_hash TEXT NOT NULL DEFAULT '',
            indexed_hash TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE TABLE profiles (
            id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            age_range TEXT NOT NULL DEFAULT '',
            occupation TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            interests TEXT NOT NULL DEFAULT '',
            preferred_tone TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            persona_id TEXT REFERENCES personas(id) ON DELETE SET NULL,
            share_with_persona INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE INDEX profiles_persona ON profiles(persona_id);
        -- A sample belongs to a profile (owner_kind 'profile') or is a persona's example text ('persona').
        -- status: 'pending' while its vectors are being written, 'ready' when both stores hold it,
        -- 'deleting' while it is being removed. Start-up repair finishes or undoes anything not 'ready'.
        CREATE TABLE samples (
            id TEXT PRIMARY KEY,
            owner_kind TEXT NOT NULL CHECK (owner_kind IN ('profile', 'persona')),
            owner_id TEXT NOT NULL,
            title TEXT NOT NULL,
            source_name TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT 'text',
            chars INTEGER NOT NULL DEFAULT 0,
            n_chunks INTEGER NOT NULL DEFAULT 0,
            content_hash TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'pending',
            created TEXT NOT NULL
        );
        CREATE INDEX samples_owner ON samples(owner_kind, owner_id);
        CREATE TABLE chunks (
            id TEXT PRIMARY KEY,
            sample_id TEXT NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
            owner_kind TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            tokens INTEGER NOT NULL
        );
        CREATE INDEX chunks_owner ON chunks(owner_kind, owner_id);
        CREATE INDEX chunks_sample ON chunks(sample_id);
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            profile_id TEXT REFERENCES profiles(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        );
        CREATE INDEX sessions_profile ON sessions(profile_id);
        -- status: 'complete', 'interrupted' (partial answer kept) or 'error' (nothing arrived).
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'complete',
            error TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        );
        CREATE INDEX messages_session ON messages(session_id, created);
        -- One trace per assistant turn: everything the inspector shows, as JSON.
        CREATE TABLE traces (
            id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            profile_id TEXT,
            mode TEXT NOT NULL,
            data TEXT NOT NULL,
            created TEXT NOT NULL
        );
        CREATE INDEX traces_session ON traces(session_id);
        -- Bumped whenever what a retrieval scope (a Chroma collection) holds changes; keys the BM25 cache.
        CREATE TABLE scope_revs (scope TEXT PRIMARY KEY, rev INTEGER NOT NULL DEFAULT 0);
        """
    )


@migration
def m003_profile_summaries(db: sqlite3.Connection) -> None:
    script(db,
        """
        CREATE TABLE profile_summaries (
            profile_id TEXT PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            sources TEXT NOT NULL,        -- JSON list of {id, title} of the samples it was written from
            samples_hash TEXT NOT NULL,   -- which samples; differs from the current set when the summary is stale
            model TEXT NOT NULL,
            edited INTEGER NOT NULL DEFAULT 0,
            updated TEXT NOT NULL
        );
        """
    )


@migration
def m004_studies(db: sqlite3.Connection) -> None:
    script(db,
        """
        CREATE TABLE studies (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,          -- what participants type to join
            name TEXT NOT NULL,
            consent_text TEXT NOT NULL,
            conditions TEXT NOT NULL,           -- JSON list of {"id", "mode", "retriever"}
            assignment TEXT NOT NULL CHECK (assignment IN ('within', 'between')),
            blind INTEGER NOT NULL DEFAULT 1,
            questions TEXT NOT NULL,            -- JSON list of Likert items {"id", "text", "criterion"}
            prompts TEXT NOT NULL,              -- JSON list of task prompts
            open INTEGER NOT NULL DEFAULT 1,
            created TEXT NOT NULL
        );
        CREATE TABLE participants (
            id TEXT PRIMARY KEY,
            study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
            code TEXT NOT NULL,                 -- the participant ID they typed; no real name needed
            profile_id TEXT REFERENCES profiles(id) ON DELETE SET NULL,
            session_id TEXT,
            position INTEGER NOT NULL,          -- join order: drives counterbalancing
            pairs TEXT NOT NULL,                -- JSON list of [condition id A, condition id B] per task
            consented TEXT,
            created TEXT NOT NULL,
            UNIQUE (study_id, code)
        );
        CREATE TABLE study_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
            participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,                 -- join, consent, upload, answer, judgement
            data TEXT NOT NULL,                 -- JSON; see docs/study-data.md
            created TEXT NOT NULL
        );
        CREATE INDEX study_events_study ON study_events(study_id, participant_id);
        CREATE TABLE judgements (
            id TEXT PRIMARY KEY,
            study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
            participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            task INTEGER NOT NULL,
            prompt TEXT NOT NULL,
            condition_a TEXT NOT NULL,
            condition_b TEXT NOT NULL,
            trace_a TEXT NOT NULL,              -- trace ids of the two answers
            trace_b TEXT NOT NULL,
            choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'none')),
            ratings TEXT NOT NULL,              -- JSON {"A": {question id: 1-5}, "B": {...}}
            reason TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            UNIQUE (participant_id, task)
        );
        CREATE TABLE app_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


@migration
def m005_preferences(db: sqlite3.Connection) -> None:
    script(db,
        """
        CREATE TABLE preferences (
            id TEXT PRIMARY KEY,
            profile_id TEXT REFERENCES profiles(id) ON DELETE CASCADE,
            message TEXT NOT NULL,
            shown TEXT NOT NULL,      -- JSON list of the granularities compared
            choice TEXT NOT NULL,     -- one of them, or 'none'
            traces TEXT NOT NULL,     -- JSON {granularity: trace id}
            reason TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        );
        """
    )


@migration
def m006_profile_owner(db: sqlite3.Connection) -> None:
    # Which browser made a profile: '' for public (demo data, CLI), a random token per browser in a private workshop,
    # 'study:<participant id>' for study participants (never listed outside their study).
    db.execute("ALTER TABLE profiles ADD COLUMN owner_token TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX profiles_owner ON profiles(owner_token)")


@migration
def m009_participant_resume(db: sqlite3.Connection) -> None:
    # A participant resumes from a link that carries a secret token (its SHA-256 is kept here), never from their
    # participant id or code alone, which others can know. '' = no resume link (reset when the study is finished).
    db.execute("ALTER TABLE participants ADD COLUMN resume_hash TEXT NOT NULL DEFAULT ''")


@migration
def m012_style_cards(db: sqlite3.Connection) -> None:
    script(db,
        """
        CREATE TABLE profile_style_cards (
            profile_id TEXT PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            lines TEXT NOT NULL,          -- JSON list of {line, feature, z, value, reference_mean, evidence}
            sources TEXT NOT NULL,        -- JSON list of {id, title} of the samples it was measured from
            samples_hash TEXT NOT NULL,   -- which samples; differs from the current set when the card is stale
            edited INTEGER NOT NULL DEFAULT 0,
            updated TEXT NOT NULL
        );
        """
    )


@migration
def m014_probes(db: sqlite3.Connection) -> None:
    # A person may enter a gender (optional free text) so the bias probe can vary it; explanations keep
    # every counterfactual answer with its own prompt and trace; the personalized judge's verdicts on study
    # judgements are kept per prompt template and model, so agreement is computed without asking the model again.
    cols = {r[1] for r in db.execute("PRAGMA table_info(profiles)")}
    if "gender" not in cols:
        db.execute("ALTER TABLE profiles ADD COLUMN gender TEXT NOT NULL DEFAULT ''")
    script(db,
        """
        CREATE TABLE explanations (
            id TEXT PRIMARY KEY,
            profile_id TEXT REFERENCES profiles(id) ON DELETE CASCADE,
            message TEXT NOT NULL,
            mode TEXT NOT NULL,
            model TEXT NOT NULL,
            source_trace_id TEXT,               -- the chat answer being explained, if any
            parts TEXT NOT NULL,                -- JSON: the full prompt's labelled parts
            status TEXT NOT NULL,               -- running | cancelling | cancelled | complete | error
            error TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE INDEX explanations_profile ON explanations(profile_id, created);
        CREATE TABLE explanation_variants (
            id TEXT PRIMARY KEY,
            explanation_id TEXT NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
            key TEXT NOT NULL,                  -- 'original', or which part was removed
            position INTEGER NOT NULL,
            answer TEXT NOT NULL,
            status TEXT NOT NULL,               -- complete | interrupted | error
            data TEXT NOT NULL,                 -- JSON: label, source, messages sent, trace and measures
            created TEXT NOT NULL,
            UNIQUE (explanation_id, key)
        );
        CREATE TABLE judge_verdicts (
            id TEXT PRIMARY KEY,
            study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
            participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            task INTEGER NOT NULL,
            template_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            verdict TEXT NOT NULL,              -- A | B | unparsed | error
            confidence TEXT NOT NULL,           -- low | medium | high | unparsed
            raw TEXT NOT NULL,                  -- the model's words, as written
            data TEXT NOT NULL,                 -- JSON: the prompt sent, latency
            created TEXT NOT NULL,
            UNIQUE (participant_id, task, template_hash, model)
        );
        """
    )


@migration
def m019_deletion_journal(db: sqlite3.Connection) -> None:
    # A profile deletion is recorded here before anything is removed and the row is dropped once the stores' bytes
    # are purged, so a deletion interrupted by a crash or `kill -9` is finished by start-up repair.
    script(db,
        """
        CREATE TABLE deletions (
            profile_id TEXT PRIMARY KEY,
            started TEXT NOT NULL,
            stage TEXT NOT NULL DEFAULT 'recorded'
        );
        """
    )


@migration
def m022_chroma_namespace(db: sqlite3.Connection) -> None:
    # This data folder's own database on a Chroma server (``playground-<name>``), generated once. ``move_pending``:
    # the folder already held writing, so on a server its collections are still in the shared default database and
    # are moved into its own at the next start in server mode (``library.server_move``).
    script(db,
        """
        CREATE TABLE chroma_namespace (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            move_pending INTEGER NOT NULL
        );
        INSERT INTO chroma_namespace (id, name, move_pending)
            SELECT 1, lower(hex(randomblob(8))), EXISTS (SELECT 1 FROM chunks);
        """
    )


@migration
def m023_profile_creator(db: sqlite3.Connection) -> None:
    # The browser (its resume code) that made a public profile: only it (or the admin) may edit or delete
    # it, and add or delete its writing. '' = made before this column, or a demo profile: read-only to participants.
    cols = {r[1] for r in db.execute("PRAGMA table_info(profiles)")}
    if "creator" not in cols:
        db.execute("ALTER TABLE profiles ADD COLUMN creator TEXT NOT NULL DEFAULT ''")


@migration
def m026_study_access(db: sqlite3.Connection) -> None:
    # How a study is joined and run online (JSON: access, url parameters, completion, minimum tasks, attention
    # check, preview key hash); per participant the normalised ID that look-alikes map to, the ids the recruiting
    # platform passed in the URL, whether it is the researcher's preview, and whether they skipped "Your writing".
    script(db,
        """
        ALTER TABLE studies ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE participants ADD COLUMN code_key TEXT NOT NULL DEFAULT '';
        ALTER TABLE participants ADD COLUMN external TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE participants ADD COLUMN preview INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE participants ADD COLUMN skipped_writing TEXT;
        ALTER TABLE participants ADD COLUMN finished TEXT;
        UPDATE participants SET code_key = lower(code);
        CREATE TABLE study_invites (
            study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
            code_key TEXT NOT NULL,             -- the normalised participant ID the researcher issued
            code TEXT NOT NULL,                 -- as the researcher wrote it
            access_hash TEXT NOT NULL,          -- sha256 of the access code handed to that participant
            PRIMARY KEY (study_id, code_key)
        );
        """
    )


@migration
def m027_admin_attempts(db: sqlite3.Connection) -> None:
    # Failed passphrase attempts per scope ('admin', or a study), so guessing slows down across reloads and restarts.
    db.execute("CREATE TABLE admin_attempts (scope TEXT PRIMARY KEY, failures INTEGER NOT NULL, "
               "locked_until REAL NOT NULL, last REAL NOT NULL)")


@migration
def m028_persona_locks(db: sqlite3.Connection) -> None:
    # A persona a study answers with, frozen while the study is open: the text as it was when the study was created.
    db.execute("CREATE TABLE persona_locks (persona_id TEXT NOT NULL, study_id TEXT NOT NULL REFERENCES studies(id) "
               "ON DELETE CASCADE, snapshot TEXT NOT NULL, PRIMARY KEY (persona_id, study_id))")


@migration
def m029_writers(db: sqlite3.Connection) -> None:
    # The work that left a row unfinished (stores.liveness): start-up repair in another process leaves it alone
    # while that work is still running. NULL: written before this step, or finished.
    db.execute("ALTER TABLE samples ADD COLUMN writer TEXT")
    db.execute("ALTER TABLE deletions ADD COLUMN writer TEXT")


@migration
def m030_no_cancelling(db: sqlite3.Connection) -> None:
    # Explanations an earlier version left 'cancelling' (a Cancel waiting for its batch to stop) are 'cancelled':
    # Cancel now sets that at once, and nothing writes 'cancelling' any more.
    db.execute("UPDATE explanations SET status = 'cancelled' WHERE status = 'cancelling'")
