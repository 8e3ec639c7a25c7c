"""Participant IDs that look alike are one participant: the key an ID is stored and looked up under.

"P01", "p01", "P\u200b01" (zero-width space), "\u202eP01" (right-to-left override) and "Р01" (Cyrillic Er) read the
same to a person, so they must reach the same participant or be refused; otherwise a look-alike joins as a second
participant and the data has two people who are one. The key is NFKC, format characters (Unicode category Cf:
zero-width, bidi marks) removed, casefolded, with common Cyrillic and Greek letters that look Latin mapped to the Latin
letter. An ID that mixes letters of two scripts ("Pаul" with a Cyrillic а) is refused outright: nobody issues such IDs.
"""

from __future__ import annotations

import unicodedata

from playground.errors import InvalidInput

MAX_LENGTH = 40
# Lower-case look-alikes after casefold (Cyrillic, Greek) → Latin.
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ζ": "z", "μ": "u",
})


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "?"


def clean(raw: str) -> str:
    """The ID as typed, with format characters removed and NFKC applied (what is shown back), or InvalidInput."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if unicodedata.category(ch) != "Cf").strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidInput(f"Type the participant ID you were given (at most {MAX_LENGTH} characters).")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in text):
        raise InvalidInput("A participant ID cannot contain control characters or unusual spaces.",
                           "Type it again, or copy it from the researcher's message.")
    scripts = {_script(ch) for ch in text if ch.isalpha()}
    if len(scripts) > 1:
        alphabets = ", ".join(sorted(scripts)).lower()
        raise InvalidInput(f"This participant ID mixes letters from different alphabets ({alphabets}), "
                           "which makes it look like another ID.", "Type the ID with an ordinary keyboard layout.")
    return text


def key(raw: str) -> str:
    """The lookup key: look-alike IDs share it."""
    return clean(raw).casefold().translate(_CONFUSABLE)
