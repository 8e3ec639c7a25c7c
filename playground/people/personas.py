"""Personas: shipped TOML files in ``personas/`` plus personas people create (stored in SQLite).

A persona is a group description used in the system prompt, style guidance, and example texts that stand in for
the samples its members agreed to share. Shipped personas are synced into SQLite at start-up (cheap: no
embedding); their example texts are embedded the first time persona retrieval needs them.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.errors import ConfigError, InvalidInput
from playground.people.profiles import visible

PERSONA_DIR = Path(__file__).resolve().parents[2] / "personas"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}$")


@dataclass
class PersonaFile:
    id: str
    name: str
    group: str
    description: str
    style_guidance: str
    examples: list[str]
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        blob = json.dumps([self.name, self.group, self.description, self.style_guidance, self.examples])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_persona_files(folder: Path = PERSONA_DIR) -> list[PersonaFile]:
    out = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            p = PersonaFile(data["id"], data["name"], data.get("group", ""), data["description"].strip(),
                            data.get("style_guidance", "").strip(), [e.strip() for e in data.get("examples", [])],
                            data.get("source", {}))
        except (KeyError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"The persona file {path.name} is malformed ({e}).") from e
        if not _ID.match(p.id):
            raise ConfigError(f"The persona file {path.name} has an invalid id {p.id!r}.")
        out.append(p)
    return out


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return s or "persona"


def check_persona_fields(name: str, description: str) -> None:
    if not name.strip() or not visible(name):
        raise InvalidInput("A persona needs a name with at least one visible character.")
    if len(name) > 80:
        raise InvalidInput("A persona name can be at most 80 characters long.")
    if not description.strip():
        raise InvalidInput("A persona needs a description: who are the people in this group?")
    if len(description) > 2000:
        raise InvalidInput("A persona description can be at most 2,000 characters long.")
