"""A data folder made by an older playground opens in this one: every later step applies on top of the data
already there, nothing stored before is lost, and the schema ends exactly where a fresh database's does."""

import contextlib
import sqlite3
from pathlib import Path

import pytest

from playground.stores import migrations


def _schema(db: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != '_migrations' "
                      "ORDER BY name").fetchall()
    return [(name, " ".join(sql.split())) for name, sql in rows]


def _older_database(steps: int) -> sqlite3.Connection:
    """A database as a playground that knew only the first ``steps`` migrations left it, with a person in it."""
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, fn in migrations.MIGRATIONS[:steps]:
        with db:
            fn(db)
            db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", (name,))
    with db:
        db.execute("INSERT INTO profiles (id, display_name, created, updated) VALUES ('u1', 'Ada', 't', 't')")
        db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, text, status, created) "
                   "VALUES ('s1', 'profile', 'u1', 'Letter', 'My boat is called Tern.', 'ready', 't')")
        db.execute("INSERT INTO chunks VALUES ('c1', 's1', 'profile', 'u1', 0, 'My boat is called Tern.', 6)")
        db.execute("INSERT INTO sessions (id, profile_id, created) VALUES ('x1', 'u1', 't')")
        db.execute("INSERT INTO messages (id, session_id, role, content, created) "
                   "VALUES ('m1', 'x1', 'user', 'What is my boat called?', 't')")
    return db


def _fresh_schema() -> list[tuple[str, str]]:
    db = sqlite3.connect(":memory:")
    migrations.apply(db)
    return _schema(db)


@pytest.mark.parametrize("steps", range(1, len(migrations.MIGRATIONS)))
def test_an_older_database_upgrades_to_the_current_schema_keeping_its_data(steps):
    db = _older_database(steps)
    applied = migrations.apply(db)
    assert applied == [name for name, _ in migrations.MIGRATIONS[steps:]]
    assert _schema(db) == _fresh_schema()
    assert db.execute("SELECT display_name FROM profiles WHERE id = 'u1'").fetchone() == ("Ada",)
    assert db.execute("SELECT text FROM chunks WHERE id = 'c1'").fetchone() == ("My boat is called Tern.",)
    assert db.execute("SELECT content FROM messages WHERE id = 'm1'").fetchone() == ("What is my boat called?",)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert migrations.apply(db) == [], "a second start applies nothing"


def test_an_explanation_an_older_version_left_cancelling_reads_as_cancelled_and_can_resume():
    """An older version marked a cancelled explanation 'cancelling' until its batch stopped; nothing reads that
    status now, so after the upgrade the run must say 'cancelled' (the Explain view offers Resume for it)."""
    db = _older_database(len(migrations.MIGRATIONS) - 1)
    with db:
        db.execute("INSERT INTO explanations (id, profile_id, message, mode, model, parts, status, created, updated) "
                   "VALUES ('e1', 'u1', 'Why a navy?', 'user', 'm', '[]', 'cancelling', 't', 't')")
    assert migrations.apply(db) == ["m030_no_cancelling"]
    assert db.execute("SELECT status FROM explanations WHERE id = 'e1'").fetchone() == ("cancelled",)


def test_steps_have_unique_names_in_number_order():
    names = [name for name, _ in migrations.MIGRATIONS]
    assert len(set(names)) == len(names)
    assert names == sorted(names), "steps run in file order; keep the numbers rising with it"


# The first three steps (core tables, profile summaries, studies): a data folder from before owner tokens, resume
# links, style cards, the deletion journal, the Chroma namespace and online studies, so most later steps alter
# tables that already hold rows.
EARLY = 3


def _early_data_folder(path) -> None:
    """A database file as a playground that knew only the first ``EARLY`` steps left it, with a person, their
    writing, a conversation and a study participant in it."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
        for name, fn in migrations.MIGRATIONS[:EARLY]:
            with db:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, '2026-01-01 09:00:00')", (name,))
        with db:
            db.executescript(
                """
                INSERT INTO personas (id, name, grp, description, created, updated)
                    VALUES ('p1', 'Harbour master', 'demo', 'Speaks plainly.', 't0', 't0');
                INSERT INTO profiles (id, display_name, age_range, occupation, interests, persona_id,
                                      share_with_persona, created, updated)
                    VALUES ('u1', 'Ada', '30-39', 'Sailmaker', 'boats, knots', 'p1', 1, 't1', 't1');
                INSERT INTO samples (id, owner_kind, owner_id, title, source_name, chars, n_chunks, content_hash,
                                     text, status, created)
                    VALUES ('s1', 'profile', 'u1', 'Letter', 'letter.txt', 23, 1, 'h1', 'My boat is called Tern.',
                            'ready', 't2'),
                           ('s2', 'profile', 'u1', 'Diary', 'diary.md', 26, 1, 'h2', 'Mended the jib on Tuesday.',
                            'ready', 't3');
                INSERT INTO chunks VALUES ('c1', 's1', 'profile', 'u1', 0, 'My boat is called Tern.', 6),
                                          ('c2', 's2', 'profile', 'u1', 0, 'Mended the jib on Tuesday.', 7);
                INSERT INTO sessions VALUES ('x1', 'u1', 'Boats', 't4');
                INSERT INTO messages (id, session_id, role, content, status, created)
                    VALUES ('m1', 'x1', 'user', 'What is my boat called?', 'complete', 't5'),
                           ('m2', 'x1', 'assistant', 'Your boat is called Tern.', 'complete', 't6');
                INSERT INTO traces VALUES ('t1', 'm2', 'x1', 'u1', 'rag', '{"chunks": ["c1"]}', 't6');
                INSERT INTO profile_summaries VALUES ('u1', 'A sailmaker.', '[{"id": "s1"}]', 'h', 'm', 0, 't7');
                INSERT INTO studies (id, code, name, consent_text, conditions, assignment, questions, prompts,
                                     created)
                    VALUES ('st1', 'SAIL', 'Sail study', 'I agree.', '[]', 'within', '[]', '["Hi"]', 't8');
                INSERT INTO participants (id, study_id, code, profile_id, session_id, position, pairs, consented,
                                          created)
                    VALUES ('pa1', 'st1', 'Ana-07', 'u1', 'x1', 0, '[]', 't9', 't9');
                INSERT INTO study_events (study_id, participant_id, kind, data, created)
                    VALUES ('st1', 'pa1', 'consent', '{}', 't9');
                """
            )


def _rows(db: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple]:
    return db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid").fetchall()


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


def _table_info(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in sorted(tables)}


def test_a_data_folder_from_an_early_playground_opens_with_the_current_code(tmp_path):
    from playground.stores.db import Database

    old = tmp_path / "old" / "playground.sqlite3"
    old.parent.mkdir()
    _early_data_folder(old)
    with contextlib.closing(sqlite3.connect(old)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name != '_migrations'")]
        before = {t: (_columns(db, t), _rows(db, t, _columns(db, t))) for t in tables}
    assert sum(len(rows) for _, rows in before.values()) >= 14, "the old database holds a person's data"

    Database(old)  # what the app does at start-up
    fresh = tmp_path / "fresh" / "playground.sqlite3"
    Database(fresh)

    with contextlib.closing(sqlite3.connect(old)) as db, contextlib.closing(sqlite3.connect(fresh)) as new:
        recorded = db.execute("SELECT name, applied FROM _migrations ORDER BY rowid").fetchall()
        assert [name for name, _ in recorded] == [name for name, _ in migrations.MIGRATIONS], \
            "every later step applied, each once, in order"
        assert [applied for _, applied in recorded[:EARLY]] == ["2026-01-01 09:00:00"] * EARLY, \
            "the steps already there were not run again"

        for table, (columns, rows) in before.items():
            assert _rows(db, table, columns) == rows, f"{table}: a row stored before the upgrade changed"
        # What the later steps give the rows that were already there.
        assert db.execute("SELECT owner_token, gender, creator FROM profiles").fetchall() == [("", "", "")]
        assert db.execute("SELECT writer FROM samples").fetchall() == [(None,), (None,)]
        assert db.execute("SELECT code_key, resume_hash, external, preview, finished FROM participants"
                          ).fetchall() == [("ana-07", "", "{}", 0, None)]
        assert db.execute("SELECT settings FROM studies").fetchall() == [("{}",)]
        assert db.execute("SELECT move_pending FROM chroma_namespace").fetchall() == [(1,)], \
            "writing stored before the namespace existed is marked to be moved on a server"
        assert new.execute("SELECT move_pending FROM chroma_namespace").fetchall() == [(0,)]

        assert _schema(db) == _schema(new)
        assert _table_info(db) == _table_info(new)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    Database(old)  # a second start
    with contextlib.closing(sqlite3.connect(old)) as db:
        assert db.execute("SELECT name, applied FROM _migrations ORDER BY rowid").fetchall() == recorded


def test_a_step_that_fails_is_not_recorded_and_is_tried_again_at_the_next_start(tmp_path, monkeypatch):
    """A step is recorded only once it has run; a start whose step fails stops there, says so, leaves nothing of
    that step behind (its statements are rolled back as one), and the next start runs that step and the ones after
    it. A half-applied step would fail again at every start ("duplicate column name") and the folder would never
    open again."""
    from playground.errors import StorageError
    from playground.stores.db import Database

    path = tmp_path / "playground.sqlite3"
    _early_data_folder(path)

    def m098_broken(db: sqlite3.Connection) -> None:
        migrations.script(db, "ALTER TABLE profiles ADD COLUMN half TEXT; UPDATE profiles SET half = 'x';"
                              "CREATE TABLE profiles (id TEXT);")  # the last is already there: fails after changes

    def m099_later(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE later (id TEXT)")

    steps = [*migrations.MIGRATIONS, ("m098_broken", m098_broken), ("m099_later", m099_later)]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    with pytest.raises(StorageError, match="profiles already exists"):
        Database(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert names == [name for name, _ in steps[:-2]], "the steps before it stay applied; it is not recorded"
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'later'").fetchone() == (0,), \
            "no step after a failed one runs"
        assert db.execute("SELECT display_name FROM profiles").fetchall() == [("Ada",)]
        assert "half" not in {r[1] for r in db.execute("PRAGMA table_info(profiles)")}, "the failed step left a column"
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    def m098_fixed(db: sqlite3.Connection) -> None:
        migrations.script(db, "ALTER TABLE profiles ADD COLUMN half TEXT; CREATE TABLE fixed (id TEXT);")

    steps[-2] = ("m098_broken", m098_fixed)
    Database(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert names == [name for name, _ in steps]
        assert {r[0] for r in db.execute("SELECT name FROM sqlite_master")} >= {"fixed", "later"}


def test_playgrounds_starting_at_once_on_a_new_data_folder_all_open_it(tmp_path):
    """Two workshop machines (or a CLI and the app) started together on one new folder: every one opens it, and
    each step is applied once."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    path, go = tmp_path / "playground.sqlite3", tmp_path / "go"
    code = ("import sys, time, pathlib\n"
            "from playground.stores.db import Database\n"
            "go = pathlib.Path(sys.argv[2])\n"
            "while not go.exists(): time.sleep(0.01)\n"
            "Database(pathlib.Path(sys.argv[1]))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(go)], cwd=root,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    go.touch()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in migrations.MIGRATIONS]
