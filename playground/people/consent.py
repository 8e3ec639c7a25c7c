"""Who may see a person's shared writing: the one rule behind persona-mode retrieval and the consent text.

A person who turns on sharing agrees that *other members of their persona group in the same context* may have their
passages retrieved into prompts in persona mode. The context is the study a participant joined (``study:<study id>``)
or, for everyone who is not a study participant, the playground itself (``open``). So:

- a workshop user never receives a study participant's writing, and a participant never receives anyone's writing
  but fellow participants' of the same study;
- someone who picks a persona without being a member (Chat's persona picker, auto mode's closest-persona guess,
  a study's auto condition) gets the persona's description and example texts only, never members' writing;
- the writer's name never travels with a shared passage: other people see "a member of the group".

The retriever receives the resulting list of profile ids in its ``Scope`` and filters on it in both Chroma and BM25,
so a stray vector (e.g. a sample whose owner opted out while it was being stored) cannot be retrieved either.
"""

from __future__ import annotations

from typing import Any

from playground.people.directory import sharing_members
from playground.stores.db import Database

OPEN = "open"
MEMBER_NAME = "a member of the group"


def context_of(db: Database, owner_token: str) -> str:
    """``study:<study id>`` for a study participant's profile, else ``open``."""
    if not owner_token.startswith("study:"):
        return OPEN
    row = db.one("SELECT study_id FROM participants WHERE id = ?", (owner_token[len("study:"):],))
    # A participant row that is gone (or not written yet) still never joins the open context.
    return f"study:{row['study_id']}" if row else owner_token


def visible_sharers(db: Database, viewer: dict[str, Any] | None, persona_id: str) -> tuple[str, ...]:
    """Profile ids whose shared chunks ``viewer`` may retrieve from persona ``persona_id``: only when the viewer is a
    member of that persona; then the members who share and are in the viewer's context (the viewer included)."""
    if not viewer or viewer.get("persona_id") != persona_id:
        return ()
    mine = context_of(db, viewer.get("owner_token", ""))
    return tuple(sorted(r["id"] for r in sharing_members(db, persona_id)
                        if context_of(db, r["owner_token"]) == mine))
