"""Which data a turn may use: the granularity (user, persona, global, or auto, which picks one for a cold start)
becomes a retrieval ``Scope``, with the persona members whose consent lets their shared writing in."""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.errors import InvalidInput
from playground.library.samples import WritingLibrary, chunk_count
from playground.models.embeddings import Embedder
from playground.people.consent import visible_sharers
from playground.people.directory import People
from playground.pipeline.prompting import MODES
from playground.pipeline.retrieval import Scope
from playground.stores.db import Database

AUTO_MIN_CHUNKS = 8  # auto mode uses user-level data from this many chunks of a person's own writing
GRANULARITIES: tuple[str, ...] = (*MODES, "auto")


class Scoping:
    """Granularity → scope, including the auto mode's choice and its reason for people."""

    def __init__(self, db: Database, people: People, library: WritingLibrary, embedder: Embedder) -> None:
        self.db, self.people, self.library, self.embedder = db, people, library, embedder
        self._centroids: dict[tuple[str, str], np.ndarray] = {}

    def resolve(self, profile: dict[str, Any] | None, mode: str, persona_id: str | None
                ) -> tuple[str, str | None, dict[str, Any] | None]:
        """A concrete granularity for ``mode``: "auto" becomes user, persona or global (with the reason)."""
        if mode != "auto":
            return mode, persona_id, None
        resolution = self.resolve_auto(profile)
        return resolution["mode"], resolution["persona_id"] or persona_id, resolution

    def scope_for(self, profile: dict[str, Any] | None, mode: str, persona_id: str | None = None) -> Scope:
        mode, persona_id, _ = self.resolve(profile, mode, persona_id)
        if mode not in MODES:
            raise InvalidInput(f"Unknown granularity '{mode}'.", "Choose user, persona or global.")
        if mode == "global":
            return Scope("none")
        if mode == "user":
            if not profile:
                raise InvalidInput("User mode needs a profile.", "Create or pick a profile first.")
            return Scope("user", profile["id"])
        pid = persona_id or (profile or {}).get("persona_id")
        if not pid:
            raise InvalidInput("Persona mode needs a persona.", "Join one on the Profile page, or pick one here.")
        self.people.get_persona(pid)
        self.library.ensure_persona_indexed(pid)
        return Scope("persona", pid, visible_sharers(self.db, profile, pid), (profile or {}).get("id", ""))

    def resolve_auto(self, profile: dict[str, Any] | None) -> dict[str, Any]:
        """Cold start (the survey's hybrid granularity): user level when the profile has enough writing, else the
        persona it belongs to or is closest to, else global. Returns the mode, persona and the reason, for people."""
        if not profile:
            return {"mode": "global", "persona_id": None, "reason": "No profile is selected, so nothing is personal."}
        n = chunk_count(self.db, "profile", profile["id"])
        name = profile["display_name"]
        if n >= AUTO_MIN_CHUNKS:
            return {"mode": "user", "persona_id": None,
                    "reason": f"{name} has {n} chunks of their own writing (at least {AUTO_MIN_CHUNKS}): user level."}
        if profile.get("persona_id"):
            persona = self.people.get_persona(profile["persona_id"])
            return {"mode": "persona", "persona_id": persona["id"],
                    "reason": f"{name} has only {n} chunks of writing (fewer than {AUTO_MIN_CHUNKS}), so the persona "
                              f"they joined, “{persona['name']}”, stands in."}
        suggestion = self.suggest_persona(profile["id"])
        if suggestion:
            return {"mode": "persona", "persona_id": suggestion["persona_id"],
                    "reason": f"{name} has only {n} chunks of writing and no persona; the closest persona to their "
                              f"{suggestion['based_on']} is “{suggestion['name']}” (similarity "
                              f"{suggestion['similarity']:.2f})."}
        return {"mode": "global", "persona_id": None,
                "reason": f"{name} is a brand-new profile with no writing and no attributes: the global baseline."}

    def suggest_persona(self, profile_id: str) -> dict[str, Any] | None:
        """The persona closest to a profile's few samples and attributes (cosine of mean embeddings), or None."""
        profile = self.people.get_profile(profile_id)
        texts = [self.library.sample_text(s["id"])[:2000] for s in self.library.list_samples(profile_id)]
        attrs = ", ".join(str(profile[k]) for k in ("occupation", "interests", "preferred_tone", "notes") if profile[k])
        based_on = " and ".join(x for x, ok in (("writing", texts), ("attributes", attrs)) if ok)
        if attrs:
            texts.append(attrs)
        if not texts:
            return None
        me = self.embedder.embed(texts).mean(axis=0)
        best = None
        for persona in self.people.list_personas():
            c = self._persona_centroid(persona)
            sim = float(me @ c / (np.linalg.norm(me) * np.linalg.norm(c) + 1e-12))
            if best is None or sim > best["similarity"]:
                best = {"persona_id": persona["id"], "name": persona["name"], "similarity": sim, "based_on": based_on}
        return best

    def _persona_centroid(self, persona: dict[str, Any]) -> np.ndarray:
        key = (persona["id"], persona["updated"])
        if key not in self._centroids:
            texts = [persona["description"], persona.get("style_guidance", "")] + list(persona["examples"])
            self._centroids[key] = self.embedder.embed([t for t in texts if t]).mean(axis=0)
        return self._centroids[key]
