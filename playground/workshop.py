"""Workshop presets: which pages and controls participants see, and a fixed model. Stored in SQLite so every
browser session on the server gets the same preset."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import Playground

DEFAULT_PRESET: dict[str, Any] = {"hidden_pages": [], "hide_controls": False, "fixed_model": "",
                                  "private_profiles": False}
PAGES = ("Profile", "Writing samples", "Chat", "Personas", "Compare", "Evaluate", "Study", "Bias probe")


def get_preset(pg: "Playground") -> dict[str, Any]:
    row = pg.db.one("SELECT value FROM app_settings WHERE key = 'workshop_preset'")
    return {**DEFAULT_PRESET, **(json.loads(row["value"]) if row else {})}


def set_preset(pg: "Playground", preset: dict[str, Any]) -> dict[str, Any]:
    value = {**DEFAULT_PRESET, **{k: v for k, v in preset.items() if k in DEFAULT_PRESET}}
    pg.db.execute("INSERT INTO app_settings (key, value) VALUES ('workshop_preset', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (json.dumps(value),))
    return value


def reset_all(pg: "Playground") -> int:
    """Delete every profile (with its samples, vectors, chats) and every user-made persona; return how many profiles."""
    profiles = pg.list_profiles(include_study=True)
    for p in profiles:
        pg.delete_profile(p["id"])
    for persona in pg.list_personas():
        if not persona["builtin"]:
            pg.delete_persona(persona["id"])
    return len(profiles)
