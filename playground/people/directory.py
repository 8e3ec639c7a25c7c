"""The directory of people and personas: profiles, personas, who belongs to which persona and whether they share
their writing with it (moving their vectors into or out of the persona's collection), and a person's deletion and
export through the one map in ``stores.personal_data``."""

from __future__ import annotations

import json
from typing import Any

from playground.errors import InvalidInput, NotFound
from playground.people import privacy
from playground.people.owner import Owner
from playground.people.personas import PersonaFile, check_persona_fields, load_persona_files, slug
from playground.people.profiles import clean_attributes
from playground.settings import Settings
from playground.stores.db import Database, new_id, now
from playground.stores.erasure import purge
from playground.stores.liveness import working
from playground.stores.personal_data import (
    deletions_with_rows_gone,
    end_deletion,
    erase_profile,
    export_profile,
    scrub_from_others,
)
from playground.stores.vectors import (
    VectorStore,
    forget_scope,
    mark_changed,
    persona_collection,
    stack_embeddings,
    user_collection,
)


class People:
    """Profiles and personas in SQLite, and the vector copies that persona sharing implies."""

    def __init__(self, db: Database, vectors: VectorStore, settings: Settings) -> None:
        self.db, self.vectors, self.settings = db, vectors, settings
        self.persona_files: dict[str, PersonaFile] = {}

    # -- profiles --------------------------------------------------------------------------------------------------
    def create_profile(self, display_name: str, owner_token: str = "", creator: str = "",
                       **attrs: Any) -> dict[str, Any]:
        """``owner_token``: '' for a public profile, a browser's token in a private workshop, or 'study:…' (see
        people/owner.py). ``creator``: the browser's resume code that made it (it alone may change it)."""
        values = clean_attributes({"display_name": display_name, **attrs})
        if values.get("persona_id"):
            self.get_persona(values["persona_id"])
        pid = new_id("prof")
        values.update(id=pid, created=now(), updated=now(), owner_token=owner_token, creator=creator)
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
            # Only a browser's own code adds profiles to the public ones: a token claiming admin or a study lists
            # the public profiles only (the admin page reads hidden ones through people.privacy, not this list).
            where.append("p.owner_token IN ('', ?)")
            params.append(visible_to if Owner.parse(visible_to).kind == "browser" else "")
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

    @staticmethod
    def shares_into(profile: dict[str, Any]) -> str | None:
        """The persona whose collection also holds this person's chunks, or None."""
        return profile["persona_id"] if profile.get("share_with_persona") and profile.get("persona_id") else None

    def _sync_sharing(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Copy a member's vectors into the persona collection when they opt in; remove them when they opt out."""
        before, after = self.shares_into(old), self.shares_into(new)
        if before == after:
            return
        if before:
            self.vectors.delete(persona_collection(before), where={"owner_id": old["id"]})
            scrub_from_others(self.db, old["id"])  # withdrawn: out of every other person's stored traces too
        if after:
            chunks = self.vectors.get(user_collection(new["id"]), embeddings=True)
            if chunks:
                self.vectors.add(persona_collection(after), [c.id for c in chunks],
                                 stack_embeddings(chunks),
                                 [c.text for c in chunks], [c.metadata for c in chunks])
        with self.db.transaction() as db:
            mark_changed(db, *[persona_collection(p) for p in (before, after) if p])

    def delete_profile(self, profile_id: str, *, purge: bool = True) -> dict[str, Any]:
        """Erase a person everywhere personal_data.PLACES lists; ``purge`` then clears the bytes the stores keep
        (pass False when deleting many, and call ``purge_deleted()`` once at the end)."""
        profile = self.get_profile(profile_id)
        with working(self.settings.data_dir) as writer:
            report = erase_profile(self.db, self.vectors, profile, writer)
            if purge:
                report["purge"] = self.purge_deleted()
        return report

    def finish_deletion(self, profile_id: str) -> dict[str, Any]:
        """Finish a deletion that was recorded and interrupted (start-up repair): erase whatever is left, purge."""
        row = self.db.one("SELECT * FROM profiles WHERE id = ?", (profile_id,))
        with working(self.settings.data_dir) as writer:
            report = erase_profile(self.db, self.vectors, row or {"id": profile_id}, writer)
            report["purge"] = self.purge_deleted()
        return report

    def purge_deleted(self) -> dict[str, Any]:
        """Checkpoint SQLite's WAL and purge embedded Chroma's files of deleted records (stores.erasure); then the
        journal rows of the deletions this finished are dropped."""
        # before the purge: only deletions whose rows were gone when it started are finished by it
        done = deletions_with_rows_gone(self.db)
        report = purge(self.db, self.vectors, None if self.settings.chroma_host else self.settings.chroma_path)
        end_deletion(self.db, done)
        return report

    def export_profile(self, profile_id: str) -> dict[str, Any]:
        """Everything stored about one person, from the same declaration deletion uses."""
        self.get_profile(profile_id)
        return export_profile(self.db, self.vectors, profile_id)

    # -- private workshops ------------------------------------------------------------------------------------------
    def hide_existing(self) -> int:
        """Privacy is switched on: hide every public profile that is not a demo one; how many were hidden."""
        return privacy.hide_existing(self.db)

    def hidden_profiles(self) -> list[dict[str, Any]]:
        """The profiles privacy hid (made before it was on): no browser sees them, only the admin's list."""
        return privacy.hidden_profiles(self.db)

    def publish_hidden(self) -> int:
        """The admin makes the hidden profiles public again; how many."""
        return privacy.publish_hidden(self.db)

    def code_has_profiles(self, code: str) -> bool:
        """Does a resume code own or have made any profile (the sidebar's "Come back with a code")?"""
        return privacy.code_has_profiles(self.db, code)

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
        self.persona_files = {p.id: p for p in files}

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
        file = self.persona_files.get(persona_id)
        if file:
            return list(file.examples)
        return [r["text"] for r in self.db.query(
            "SELECT text FROM samples WHERE owner_kind = 'persona' AND owner_id = ? AND status = 'ready' "
            "ORDER BY created", (persona_id,))]

    def create_persona(self, name: str, description: str, style_guidance: str = "", group: str = "") -> str:
        """Store a new persona (its example texts go through the writing library); return its id."""
        check_persona_fields(name, description)
        pid = f"user-{slug(name)}-{new_id('x')[-6:]}"
        with self.db.transaction() as db:
            db.execute("INSERT INTO personas (id, name, grp, description, style_guidance, source, builtin, created, "
                       "updated) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                       (pid, name.strip(), group.strip(), description.strip(), style_guidance.strip(),
                        json.dumps({"dataset": "created in the playground"}), now(), now()))
        return pid

    def editable_persona(self, persona_id: str) -> dict[str, Any]:
        """The persona, if people may change it (shipped personas are read-only, and so is a persona an open study
        answers with: the study froze it, table persona_locks)."""
        persona = self.get_persona(persona_id)
        if persona["builtin"]:
            raise InvalidInput("Shipped personas cannot be edited.", "Create your own persona instead.")
        self._check_not_frozen(persona)
        return persona

    def _check_not_frozen(self, persona: dict[str, Any]) -> None:
        row = self.db.one("SELECT s.name FROM persona_locks l JOIN studies s ON s.id = l.study_id "
                          "WHERE l.persona_id = ? AND s.open = 1 LIMIT 1", (persona["id"],))
        if row:
            raise InvalidInput(f"The persona “{persona['name']}” is used by the running study “{row['name']}”, so it "
                               "cannot be changed or deleted while the study runs.",
                               "Ask the researcher to close the study first (Study admin), or create a new persona.")

    def examples_to_index(self, persona_id: str) -> str | None:
        """The version (content hash) of a shipped persona's example texts that the library has not stored yet, or
        None when it has (or the persona is gone, or is not a shipped one)."""
        row = self.db.one("SELECT builtin, content_hash, indexed_hash FROM personas WHERE id = ?", (persona_id,))
        if not row or not row["builtin"] or row["indexed_hash"] == row["content_hash"]:
            return None
        return str(row["content_hash"])

    def mark_examples_indexed(self, persona_id: str, content_hash: str) -> None:
        """The library stored this version of a shipped persona's example texts."""
        self.db.execute("UPDATE personas SET indexed_hash = ? WHERE id = ?", (content_hash, persona_id))

    def update_persona(self, persona_id: str, *, name: str, description: str, style_guidance: str = "",
                       group: str = "") -> dict[str, Any]:
        self.editable_persona(persona_id)
        check_persona_fields(name, description)
        self.db.execute("UPDATE personas SET name = ?, grp = ?, description = ?, style_guidance = ?, updated = ? "
                        "WHERE id = ?", (name.strip(), group.strip(), description.strip(), style_guidance.strip(),
                                         now(), persona_id))
        return self.get_persona(persona_id)

    def delete_persona(self, persona_id: str) -> None:
        persona = self.get_persona(persona_id)
        if persona["builtin"]:
            raise InvalidInput("Shipped personas cannot be deleted.")
        self._check_not_frozen(persona)
        with working(self.settings.data_dir) as writer:
            with self.db.transaction() as db:
                db.execute("UPDATE samples SET status = 'deleting', writer = ? WHERE owner_kind = 'persona' AND "
                           "owner_id = ?", (writer, persona_id))
            self.vectors.drop(persona_collection(persona_id))
            with self.db.transaction() as db:
                db.execute("DELETE FROM samples WHERE owner_kind = 'persona' AND owner_id = ?", (persona_id,))
                db.execute("UPDATE profiles SET persona_id = NULL WHERE persona_id = ?", (persona_id,))
                db.execute("DELETE FROM personas WHERE id = ?", (persona_id,))
                forget_scope(db, persona_collection(persona_id))
        self.purge_deleted()  # the examples' text out of SQLite's WAL and Chroma's files too


def people_counts(db: Database, profile_id: str | None = None) -> dict[str, int]:
    """Profile attributes filled in (one profile's, or everyone's), members sharing writing, personas."""
    attrs = ("age_range", "occupation", "location", "interests", "preferred_tone", "notes", "persona_id")
    filled = " + ".join(f"(CASE WHEN coalesce({a}, '') != '' THEN 1 ELSE 0 END)" for a in attrs)
    mine, p = (" WHERE id = ?", (profile_id,)) if profile_id else ("", ())
    return {
        "sharing_members": db.count("SELECT count(*) AS n FROM profiles WHERE share_with_persona = 1 AND "
                                    "persona_id IS NOT NULL"),
        "personas": db.count("SELECT count(*) AS n FROM personas"),
        "profile_fields": db.count(f"SELECT coalesce(sum({filled}), 0) AS n FROM profiles" + mine, p),
    }


def profile_exists(db: Database, profile_id: str) -> bool:
    return db.one("SELECT 1 AS x FROM profiles WHERE id = ?", (profile_id,)) is not None


def owner_names(db: Database, ids: set[str]) -> dict[str, tuple[str, str]]:
    """For each id that is a profile or a persona: ("profile", display name) or ("persona", name)."""
    marks = ",".join("?" * len(ids))
    out = {r["id"]: ("profile", r["n"]) for r in db.query(
        f"SELECT id, display_name AS n FROM profiles WHERE id IN ({marks})", tuple(ids))}
    out.update({r["id"]: ("persona", r["n"]) for r in db.query(
        f"SELECT id, name AS n FROM personas WHERE id IN ({marks})", tuple(ids))})
    return out


def sharing_members(db: Database, persona_id: str) -> list[dict[str, Any]]:
    """The members of a persona who share their writing with it (id, owner_token)."""
    return db.query("SELECT id, owner_token FROM profiles WHERE persona_id = ? AND share_with_persona = 1",
                    (persona_id,))
