"""Workshop presets: which pages and controls participants see, and a fixed model. Stored in SQLite so every
browser session on the server gets the same preset."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from playground.errors import InvalidInput

if TYPE_CHECKING:
    from playground.people.directory import People
    from playground.pipeline.conversations import Conversations
    from playground.research.preferences import Preferences
    from playground.research.study import Studies
    from playground.settings import Settings
    from playground.stores.db import Database


DEFAULT_PRESET: dict[str, Any] = {"hidden_pages": [], "hide_controls": False, "fixed_model": "",
                                  "private_profiles": False, "redact_uploads": "auto"}


def read_preset(db: "Database", settings: "Settings") -> dict[str, Any]:
    """The stored preset; before an admin stores one, privacy follows PLAYGROUND_PRIVATE_PROFILES. The library and
    the model choice read it here, with their own database and settings."""
    row = db.one("SELECT value FROM app_settings WHERE key = 'workshop_preset'")
    start = {**DEFAULT_PRESET, "private_profiles": bool(getattr(settings, "private_profiles", False))}
    return {**start, **(json.loads(row["value"]) if row else {})}


class Workshop:
    """The workshop preset and the admin's reset (``pg.workshop``): it owns ``app_settings``; the reset asks each
    table's owner to delete."""

    def __init__(self, db: "Database", settings: "Settings", people: "People", conversations: "Conversations",
                 preferences: "Preferences", studies: "Studies") -> None:
        self.db, self.settings, self.people = db, settings, people
        self.conversations, self.preferences, self.studies = conversations, preferences, studies

    def get_preset(self) -> dict[str, Any]:
        return read_preset(self.db, self.settings)

    def set_preset(self, preset: dict[str, Any]) -> dict[str, Any]:
        value = {**DEFAULT_PRESET, **{k: v for k, v in preset.items() if k in DEFAULT_PRESET}}
        if value["redact_uploads"] not in ("auto", "on", "off"):
            raise InvalidInput("Redaction of uploads is 'auto', 'on' or 'off'.")
        self.db.execute("INSERT INTO app_settings (key, value) VALUES ('workshop_preset', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (json.dumps(value),))
        return value

    def reset_all(self) -> int:
        """Delete every profile (with its samples, vectors, chats, study records), every user-made persona and the chats
        kept without a profile, then purge the bytes the stores keep; return how many profiles."""
        people = self.people
        profiles = people.list_profiles(include_study=True)
        for p in profiles:
            people.delete_profile(p["id"], purge=False)
        self.studies.unfreeze_all_personas()  # resetting everything unfreezes the personas studies froze
        for persona in people.list_personas():
            if not persona["builtin"]:
                people.delete_persona(persona["id"])
        self.conversations.delete_unowned_sessions()
        self.preferences.delete_unowned()
        people.purge_deleted()
        return len(profiles)
