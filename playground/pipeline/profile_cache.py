"""One lifecycle for what is made per profile from the person's latest samples and cached (the model-written
summary, the measured style card): it records the samples it came from, is *stale* when they change, is made again
when stale unless the person edited it (their words are kept; the UI says the samples changed since)."""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from playground.errors import NotFound
from playground.library.samples import WritingLibrary
from playground.stores.db import Database, now


class ProfileCache:
    """Rows of ``table`` (``profile_id, text, sources, samples_hash, edited, updated`` and the ``extra`` columns),
    each made from a profile's ``most`` latest samples. ``json_columns`` are stored as JSON and read back parsed."""

    def __init__(self, db: Database, library: WritingLibrary, table: str, most: int, *,
                 extra: Sequence[str] = (), json_columns: Sequence[str] = ()) -> None:
        self.db, self.library, self.table, self.most = db, library, table, most
        self.extra, self.json_columns = tuple(extra), ("sources", *json_columns)

    def recent(self, profile_id: str) -> tuple[str, list[dict[str, Any]]]:
        """The digest naming the samples it is made from, and those samples."""
        return self.library.recent_samples(profile_id, self.most)

    def get(self, profile_id: str) -> dict[str, Any] | None:
        row = self.db.one(f"SELECT * FROM {self.table} WHERE profile_id = ?", (profile_id,))
        if not row:
            return None
        digest, _ = self.recent(profile_id)
        for c in self.json_columns:
            row[c] = json.loads(row[c])
        row["edited"] = bool(row["edited"])
        row["stale"] = row["samples_hash"] != digest
        return row

    def stored(self, profile_id: str) -> dict[str, Any]:
        """The row just stored; gone only if the profile was deleted meanwhile (its row goes with it)."""
        row = self.get(profile_id)
        if row is None:
            raise NotFound("That profile no longer exists.", "Pick or create another one.")
        return row

    def store(self, profile_id: str, text: str, digest: str, samples: list[dict[str, Any]], *, edited: bool,
              **extra: Any) -> dict[str, Any]:
        """Replace the profile's row (``extra``: the values of the extra columns) and return it as stored."""
        values = {"text": text, "sources": [{"id": s["id"], "title": s["title"]} for s in samples],
                  "samples_hash": digest, "edited": int(edited), "updated": now(),
                  **{c: extra[c] for c in self.extra}}
        cols = list(values)
        self.db.execute(
            f"INSERT INTO {self.table} (profile_id, {', '.join(cols)}) VALUES (?{', ?' * len(cols)}) "
            f"ON CONFLICT(profile_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols)}",
            (profile_id, *(json.dumps(v) if c in self.json_columns else v for c, v in values.items())))
        return self.stored(profile_id)

    def ensure(self, profile_id: str, make: Callable[[str], dict[str, Any]]) -> dict[str, Any] | None:
        """The current row, made again first (``make``) if it is missing or stale and was not edited by hand."""
        current = self.get(profile_id)
        if current and (current["edited"] or not current["stale"]):
            return current
        if not self.library.list_samples(profile_id):
            return current
        return make(profile_id)
