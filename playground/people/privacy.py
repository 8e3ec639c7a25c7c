"""Private workshops: who may see which profile, decided once and said on the switch.

- A browser's profiles are tagged with its **resume code** (three words and a number). The code is never put in the
  address bar, which a projector shows to the room: a person resumes after a reload by typing it, and an old link
  with ``?me=`` is read once and removed from the address bar.
- **Switching privacy on hides every existing public profile except the demo ones** from every browser (including
  whoever made it): before the switch nobody could tell who made a public profile, so nobody can be given it back.
  The admin sees the hidden profiles and can delete them or make them public again.
- ``PLAYGROUND_PRIVATE_PROFILES=true`` starts a server private from the first click (the same hiding applies to what
  an earlier session left public).

Receives the database only (never the whole Playground) so the rules can be tested on their own.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from playground.people.demo_authors import AUTHORS
from playground.stores.db import Database

# Owner of profiles hidden when privacy was switched on (no browser can have this code); the same value as
# owner.HIDDEN_TOKEN, which imports this module.
HIDDEN = "hidden:admin"
WORDS = ("acorn amber anchor apple arrow aspen badger basil beacon birch bison bramble breeze brook cactus canyon "
         "cedar cherry cinder clover cobalt comet copper coral cotton crane cricket daisy delta dune eagle ember fern "
         "fjord flint forest fox garnet glacier granite harbor hazel heron hollow honey indigo iris island ivy jasper "
         "juniper kestrel lagoon lantern lark lemon lilac linden lotus lynx maple marble meadow mint moss nectar "
         "oak ocean olive onyx orchid otter owl pebble pepper pine plum poppy prairie quartz quill raven reed river "
         "robin saffron sage salmon sparrow spruce stone summit swan thistle thyme tiger topaz tulip valley violet "
         "walnut willow wren yarrow zephyr").split()
CODE = re.compile(r"^([a-z]+)-([a-z]+)-([a-z]+)-(\d{2})$")


def new_resume_code() -> str:
    """Three words and two digits, e.g. ``otter-maple-flint-42`` (about 2^30 codes)."""
    words = [secrets.choice(WORDS) for _ in range(3)]
    return f"{'-'.join(words)}-{secrets.randbelow(100):02d}"


def normalise_code(text: str) -> str | None:
    """What a person typed, as a code (spaces or dots for dashes, any case), or None if it cannot be one."""
    code = re.sub(r"[\s._]+", "-", (text or "").strip().lower()).strip("-")
    m = CODE.match(code)
    return code if m and all(w in WORDS for w in m.groups()[:3]) else None


def code_has_profiles(db: Database, code: str) -> bool:
    return db.one("SELECT 1 AS x FROM profiles WHERE owner_token = ? OR creator = ?", (code, code)) is not None


def demo_names() -> set[str]:
    return {a["display_name"] for a in AUTHORS.values()}


def hide_existing(db: Database) -> int:
    """Privacy is switched on: hide every public profile that is not a demo one. Returns how many were hidden."""
    names = sorted(demo_names())
    marks = ", ".join("?" * len(names))
    with db.transaction() as tx:
        cur = tx.execute(f"UPDATE profiles SET owner_token = ? WHERE owner_token = '' AND display_name NOT IN "
                         f"({marks})", (HIDDEN, *names))
        return int(cur.rowcount)


def hidden_profiles(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT id, display_name, created FROM profiles WHERE owner_token = ? ORDER BY created",
                    (HIDDEN,))


def publish_hidden(db: Database) -> int:
    """The admin makes the hidden profiles public again (everyone sees them)."""
    with db.transaction() as tx:
        return int(tx.execute("UPDATE profiles SET owner_token = '' WHERE owner_token = ?", (HIDDEN,)).rowcount)
