"""A data folder made by an older playground opens in this one: every later step applies on top of the data
already there, nothing stored before is lost, and the schema ends exactly where a fresh database's does."""

import sqlite3

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


def test_steps_have_unique_names_in_number_order():
    names = [name for name, _ in migrations.MIGRATIONS]
    assert len(set(names)) == len(names)
    assert names == sorted(names), "steps run in file order; keep the numbers rising with it"
