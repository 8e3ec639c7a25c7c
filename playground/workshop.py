"""Workshop presets: which pages and controls participants see, and a fixed model. Stored in SQLite so every
browser session on the server gets the same preset."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from playground.errors import InvalidInput

if TYPE_CHECKING:
    from playground.people.directory import People
    from playground.settings import Settings
    from playground.stores.db import Database


class PresetStore(Protocol):
    """What reading and writing the preset needs: the database and the settings."""

    db: "Database"
    settings: "Settings"


class ResetParts(PresetStore, Protocol):
    people: "People"

DEFAULT_PRESET: dict[str, Any] = {"hidden_pages": [], "hide_controls": False, "fixed_model": "",
                                  "private_profiles": False, "redact_uploads": "auto"}
PAGES = ("Profile", "Writing samples", "Chat", "Personas", "Compare", "Evaluate", "Study", "Beyond prompting",
         "Bias probe")


def get_preset(parts: PresetStore) -> dict[str, Any]:
    """The stored preset; before an admin stores one, privacy follows PLAYGROUND_PRIVATE_PROFILES."""
    row = parts.db.one("SELECT value FROM app_settings WHERE key = 'workshop_preset'")
    start = {**DEFAULT_PRESET, "private_profiles": bool(getattr(parts.settings, "private_profiles", False))}
    return {**start, **(json.loads(row["value"]) if row else {})}


def set_preset(parts: PresetStore, preset: dict[str, Any]) -> dict[str, Any]:
    value = {**DEFAULT_PRESET, **{k: v for k, v in preset.items() if k in DEFAULT_PRESET}}
    if value["redact_uploads"] not in ("auto", "on", "off"):
        raise InvalidInput("Redaction of uploads is 'auto', 'on' or 'off'.")
    parts.db.execute("INSERT INTO app_settings (key, value) VALUES ('workshop_preset', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (json.dumps(value),))
    return value


def reset_all(parts: ResetParts) -> int:
    """Delete every profile (with its samples, vectors, chats, study records), every user-made persona and the chats
    kept without a profile, then purge the bytes the stores keep; return how many profiles."""
    people = parts.people
    profiles = people.list_profiles(include_study=True)
    for p in profiles:
        people.delete_profile(p["id"], purge=False)
    parts.db.execute("DELETE FROM persona_locks")  # resetting everything unfreezes the personas studies froze
    for persona in people.list_personas():
        if not persona["builtin"]:
            people.delete_persona(persona["id"])
    with parts.db.transaction() as db:
        db.execute("DELETE FROM sessions WHERE profile_id IS NULL")
        db.execute("DELETE FROM preferences WHERE profile_id IS NULL")
    people.purge_deleted()
    return len(profiles)
