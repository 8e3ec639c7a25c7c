"""Pairwise preferences from the Compare page: which of the answers under user, persona and global a person
preferred, with the traces that produced them (the data the study mode builds on)."""

from __future__ import annotations

import json
from typing import Sequence

from playground.errors import InvalidInput
from playground.stores.db import Database, new_id, now


class Preferences:
    """The Compare page's preferences (``pg.preferences``), kept in the ``preferences`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def delete_unowned(self) -> int:
        """Delete the preferences recorded without a profile (the admin's reset)."""
        with self.db.transaction() as db:
            return int(db.execute("DELETE FROM preferences WHERE profile_id IS NULL").rowcount)

    def record(self, profile_id: str | None, message: str, shown: Sequence[str], choice: str,
               trace_ids: dict[str, str], reason: str = "") -> str:
        """``shown``: the granularities compared; ``choice``: one of them, or "none"."""
        if choice not in (*shown, "none"):
            raise InvalidInput("Pick one of the answers, or “no preference”.")
        pid = new_id("pref")
        self.db.execute("INSERT INTO preferences (id, profile_id, message, shown, choice, traces, reason, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (pid, profile_id, message, json.dumps(list(shown)), choice,
                                                            json.dumps(trace_ids), reason.strip()[:2000], now()))
        return pid


def preference_count(db: Database, profile_id: str | None = None) -> int:
    """Preferences recorded on Compare: one profile's, or everyone's."""
    if profile_id:
        return db.count("SELECT count(*) AS n FROM preferences WHERE profile_id = ?", (profile_id,))
    return db.count("SELECT count(*) AS n FROM preferences")
