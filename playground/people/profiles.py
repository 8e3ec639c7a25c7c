"""Profiles: a person's static attributes, persona membership (at most one) and sharing consent."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from playground.errors import InvalidInput

ATTRIBUTES: tuple[tuple[str, str, int], ...] = (
    # field, label, max length
    ("display_name", "Display name", 80),
    ("age_range", "Age range", 20),
    ("occupation", "Occupation", 120),
    ("location", "Location", 120),
    ("gender", "Gender (optional, in your own words)", 60),
    ("interests", "Interests", 400),
    ("preferred_tone", "Preferred tone", 120),
    ("notes", "Notes", 2000),
)
AGE_RANGES = ("", "under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: a letter, digit, punctuation mark or symbol, not only zero-width, format,
    combining or space characters (a name made of U+200B alone looks empty on every screen)."""
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text)


def clean_attributes(values: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Validate and tidy profile attributes; raise ``InvalidInput`` with the field's label."""
    out: dict[str, Any] = {}
    for key, label, limit in ATTRIBUTES:
        if key not in values:
            continue
        raw = values[key]
        text = "" if raw is None else str(raw)
        text = _CONTROL.sub(" ", text) if key != "notes" else text.replace("\x00", "")
        text = text.strip()
        if len(text) > limit:
            raise InvalidInput(f"{label} is {len(text)} characters long; at most {limit} are allowed.")
        out[key] = text
    if not partial or "display_name" in values:
        if not out.get("display_name"):
            raise InvalidInput("A profile needs a display name.", "Any name or nickname will do.")
        if not visible(out["display_name"]):
            raise InvalidInput("A profile needs a display name with at least one visible character (this one is "
                               "only invisible or formatting characters).", "Any name or nickname will do.")
    if "age_range" in out and out["age_range"] not in AGE_RANGES:
        raise InvalidInput(f"Age range must be one of: {', '.join(a for a in AGE_RANGES if a)}.")
    for flag in ("share_with_persona",):
        if flag in values:
            out[flag] = 1 if values[flag] else 0
    if "persona_id" in values:
        out["persona_id"] = values["persona_id"] or None
    return out


SHARING_EXPLAINED = (
    "When this is on, passages of your writing samples (with their titles, never your name) can be retrieved into "
    "the prompts of the other members of your persona group when they chat in persona mode, and are then stored "
    "with their conversations. Only people who joined the same persona see them, and a study keeps to itself: its "
    "participants see only each other's, everyone else sees none of theirs. People who merely pick the persona, "
    "and auto mode, get the persona's description and examples, not your writing. Turning this off, or deleting "
    "your profile, removes your passages from the group and from every stored conversation that quoted them (an "
    "answer written from them is removed too)."
)
