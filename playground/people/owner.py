"""Who owns a profile, as one typed value: the one place that reads and writes ``profiles.owner_token``.

The stored token packs four meanings, told apart by prefix:

- ``''``              public: every browser sees it (demo profiles, or any profile outside a private workshop);
- a resume code       a browser's own profile in a private workshop (``otter-maple-flint-42``);
- ``study:<id>``      a study participant's profile (never listed outside its study);
- ``hidden:admin``    hidden when privacy was switched on: only the admin (with the passphrase) sees it.

Anything a person can send (a URL parameter, a typed code) goes through :meth:`Owner.from_browser_input`, which only
ever yields a *browser* owner: nobody can claim admin, a study participant or "public" from the address bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["public", "browser", "study", "hidden"]
_CODE = re.compile(r"^[a-z]+-[a-z]+-[a-z]+-\d{2}$")
STUDY_PREFIX = "study:"
HIDDEN_TOKEN = "hidden:admin"


@dataclass(frozen=True)
class Owner:
    kind: Kind
    value: str = ""  # the resume code (browser) or participant id (study)

    # -- reading what is stored ------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, token: str | None) -> "Owner":
        """The owner a stored ``owner_token`` means. An unknown shape is treated as a browser code (private)."""
        token = token or ""
        if not token:
            return PUBLIC
        if token == HIDDEN_TOKEN:
            return HIDDEN
        if token.startswith(STUDY_PREFIX):
            return cls("study", token[len(STUDY_PREFIX):])
        return cls("browser", token)

    @classmethod
    def of(cls, profile: dict) -> "Owner":
        return cls.parse(str(profile.get("owner_token") or ""))

    # -- making owners ---------------------------------------------------------------------------------------------
    @classmethod
    def browser(cls, code: str) -> "Owner":
        if not _CODE.match(code or ""):
            raise ValueError(f"not a resume code: {code!r}")
        return cls("browser", code)

    @classmethod
    def study(cls, participant_id: str) -> "Owner":
        if not participant_id:
            raise ValueError("a study owner needs a participant id")
        return cls("study", participant_id)

    @classmethod
    def from_browser_input(cls, text: str | None) -> "Owner | None":
        """What a person sent (``?me=…`` or a typed code) as a browser owner, or None if it is not a resume code.
        Never public, study or admin, whatever was sent."""
        from playground.people.privacy import normalise_code

        code = normalise_code(text or "")
        return cls("browser", code) if code else None

    # -- the stored form and questions ------------------------------------------------------------------------------
    @property
    def token(self) -> str:
        if self.kind == "public":
            return ""
        if self.kind == "hidden":
            return HIDDEN_TOKEN
        if self.kind == "study":
            return STUDY_PREFIX + self.value
        return self.value

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    @property
    def is_study(self) -> bool:
        return self.kind == "study"

    @property
    def is_hidden(self) -> bool:
        return self.kind == "hidden"

    def __str__(self) -> str:  # the stored token (what SQL compares)
        return self.token


def may_change(profile: dict, browser_code: str, admin: bool = False) -> bool:
    """Whether the browser whose resume code is ``browser_code`` may edit or delete ``profile`` and add or delete its
    writing: the browser that made it (its private owner, or the recorded creator of a public one), or the admin.
    Demo profiles and public profiles nobody recorded making are read-only to participants."""
    if admin:
        return True
    if not browser_code:
        return False
    owner = Owner.of(profile)
    if owner.kind == "browser":
        return owner.value == browser_code
    if owner.is_public:
        return str(profile.get("creator") or "") == browser_code
    return False


PUBLIC = Owner("public")
HIDDEN = Owner("hidden")
