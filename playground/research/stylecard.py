"""A style card: how a person writes, measured from their samples, in a few plain-language lines.

``stylometry.measure`` counts habits anyone can check by hand (sentence length, vocabulary richness, function words,
pronouns, punctuation, capitalisation, emoji, slang, contractions); the Writing samples page's chart shows some of the
same measurements of the same samples (``card_texts``). Each is compared with a shipped reference of other
writers (``style_reference/reference.json``: the three Federalist authors, the shipped personas' examples and
a few writers composed for the project, all public domain or our own; rebuilt by
``python scripts/build_style_reference.py``). Habits at least ``DISTINCT_Z`` standard deviations from the reference
writers become lines ("short sentences; lower case; many exclamation marks; slang: 'lol'"), each with its evidence.

The card is cached per profile like the model-written summary (``summaries.py``; both through
``pipeline/profile_cache.py``): it records which samples it came from and is *stale* when they change. Measuring
needs no model, so ``ensure`` simply measures again; unless the person edited the card, in which case
their words are kept and the UI says the samples changed since.
Personas get a card from their example texts (measured on demand, never stored: it is no one's personal data).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from playground.errors import InvalidInput
from playground.pipeline.profile_cache import ProfileCache
from playground.pipeline.prompting import PromptPart
from playground.research.stylometry import LABELS, measure, shown

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.models.embeddings import Tokenizer
    from playground.people.directory import People
    from playground.stores.db import Database


REFERENCE_PATH = Path(__file__).resolve().parent.parent / "style_reference" / "reference.json"
DISTINCT_Z = 1.0
MAX_LINES = 6
MAX_SAMPLES = 50
MAX_CARD_CHARS = 1500
DISTANCE_CAP = 3.0

# feature → (label, unit, line when high, line when low or None); labels and units are the measurer's (stylometry)
_LINES: dict[str, tuple[str | None, str | None]] = {
    "words_per_sentence": ("long sentences", "short sentences"),
    "vocabulary": ("varied vocabulary", "a small, repeated vocabulary"),
    "long_words": ("many long words", "short, plain words"),
    "function_words": ("many function words", "few function words"),
    "first_singular": ("writes about themself (I, me, my)", "rarely says “I”"),
    "first_plural": ("often says “we”", None),
    "second_person": ("addresses the reader (“you”)", None),
    "commas": ("many commas", "few commas"),
    "semicolons": ("semicolons and colons", None),
    "exclamations": ("many exclamation marks", None),
    "questions": ("asks many questions", None),
    "ellipses": ("trails off with “...”", None),
    "lowercase_starts": ("lower case", None),
    "capitals": ("SHOUTS in capitals", None),
    "emoji": ("emoji and emoticons", None),
    "slang": ("slang", None),
    "contractions": ("many contractions (don't, it's)", "no contractions"),
}
FEATURES: dict[str, tuple[str, str, str | None, str | None]] = {
    **{f: (*LABELS[f], *_LINES[f]) for f in LABELS},
    "formality": ("formality (long words and long sentences, minus contractions, slang, “I” and “!”)", "sd",
                  "formal", "informal"),
}
FORMALITY_PARTS = {"long_words": 1, "words_per_sentence": 1, "contractions": -1, "slang": -1, "first_singular": -1,
                   "exclamations": -1}


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """Mean and standard deviation of each habit over the reference writers."""
    return json.loads(REFERENCE_PATH.read_text())


def reference_stats(writers: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sd per feature over writers (used to build the shipped reference)."""
    out = {}
    for f in FEATURES:
        if f == "formality":
            continue
        values = [w[f] for w in writers.values()]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
        out[f] = {"mean": mean, "sd": max(sd, 1e-6)}
    return out


def compare(stats: dict[str, Any], ref: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """Each feature's value, the reference mean and sd, and z (how many sd from the reference writers)."""
    ref = ref or reference()
    out: dict[str, dict[str, float]] = {}
    for f, r in ref["stats"].items():
        z = (stats[f] - r["mean"]) / r["sd"]
        out[f] = {"value": stats[f], "mean": r["mean"], "sd": r["sd"], "z": z}
    formality = sum(sign * out[f]["z"] for f, sign in FORMALITY_PARTS.items()) / len(FORMALITY_PARTS)
    out["formality"] = {"value": formality, "mean": 0.0, "sd": 1.0, "z": formality}
    return out


def style_distance(a: dict[str, Any], b: dict[str, Any], ref: dict[str, Any] | None = None) -> float:
    """How far apart two pieces of writing are in style: root mean square of the differences of their habits,
    each in reference standard deviations and capped at ``DISTANCE_CAP`` so that one rare habit (two emoji in a short
    text) cannot outweigh all the others (0 = the same habits)."""
    ref = ref or reference()
    diffs = [min(abs(a[f] - b[f]) / r["sd"], DISTANCE_CAP) ** 2 for f, r in ref["stats"].items()]
    return math.sqrt(sum(diffs) / len(diffs))


def _fmt(x: float, unit: str) -> str:
    if unit == "sd":
        return f"{x:+.1f} sd"
    return f"{shown(x):.1f}{unit}" if abs(x) < 100 else f"{shown(x):.0f}{unit}"


def card_lines(stats: dict[str, Any], ref: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The distinctive habits, most distinctive first, each with its measured evidence."""
    if stats["words"] < 20:
        return []
    lines: list[dict[str, Any]] = []
    for f, c in compare(stats, ref).items():
        label, unit, high, low = FEATURES[f]
        phrase = high if c["z"] >= DISTINCT_Z else low if c["z"] <= -DISTINCT_Z else None
        if not phrase:
            continue
        if f == "slang" and stats["examples"]["slang"]:
            phrase = "slang: " + ", ".join(f"“{w}”" for w in stats["examples"]["slang"][:3])
        if f == "emoji" and stats["examples"]["emoji"]:
            phrase = "emoji and emoticons: " + " ".join(stats["examples"]["emoji"][:3])
        evidence = (f"{label}: {_fmt(c['value'], unit)}" if unit == "sd" else
                    f"{label}: {_fmt(c['value'], unit)} (other writers {_fmt(c['mean'], unit)} ± "
                    f"{_fmt(c['sd'], unit)}; {c['z']:+.1f} sd)")
        lines.append({"line": phrase, "feature": f, "z": round(c["z"], 2), "value": round(c["value"], 2),
                      "reference_mean": round(c["mean"], 2), "evidence": evidence})
    lines.sort(key=lambda x: -min(abs(x["z"]), 4.0))  # beyond 4 sd, one habit need not crowd out the rest
    return lines[:MAX_LINES]


def card_text(lines: Sequence[dict[str, Any]]) -> str:
    if not lines:
        return "No habit stands out against the reference writers."
    return "; ".join(x["line"] for x in lines) + "."


def card_from_texts(texts: Sequence[str]) -> dict[str, Any]:
    """A card (text, lines with evidence, measurements) from some writing, without storing anything."""
    stats = measure(texts)
    lines = card_lines(stats)
    return {"text": card_text(lines), "lines": lines, "stats": {k: v for k, v in stats.items() if k != "examples"},
            "words": stats["words"]}


def style_prompt_part(text: str, whose: str, count_tokens: Any, *, edited: bool = False, stale: bool = False,
                      meta: dict[str, Any] | None = None) -> PromptPart:
    body = (f"Style card of {whose} (measured from {'their' if whose == 'this person' else 'its'} writing against "
            f"other writers{', edited by them' if edited else ''}): {text}\nWrite in this style.")
    label = "style card" + (" · persona" if whose != "this person" else "") + (" · samples changed since" if stale
                                                                                else "")
    return PromptPart("style", label, body, count_tokens(body), "system", {"stale": stale, "edited": edited,
                                                                          **(meta or {})})


def card_texts(library: "WritingLibrary", profile_id: str) -> tuple[str, list[dict[str, Any]], list[str]]:
    """What a person's card is measured from: their ``MAX_SAMPLES`` latest samples (the digest naming them, the
    samples, their texts). The Writing samples page's chart measures the same, so both show the same numbers."""
    digest, samples = library.recent_samples(profile_id, MAX_SAMPLES)
    return digest, samples, [library.sample_text(s["id"]) for s in samples]


def persona_style_card(persona: dict[str, Any]) -> dict[str, Any]:
    return card_from_texts(list(persona["examples"]))


# -- stored cards of profiles ------------------------------------------------------------------------------------------
class StyleCards:
    """Each profile's style card (``pg.style``), cached in ``profile_style_cards`` (pipeline/profile_cache.py, the
    lifecycle it shares with the summary)."""

    def __init__(self, db: "Database", people: "People", library: "WritingLibrary", tokenizer: "Tokenizer") -> None:
        self.people, self.library, self.tokenizer = people, library, tokenizer
        self.cache = ProfileCache(db, library, "profile_style_cards", MAX_SAMPLES, extra=("lines",),
                                  json_columns=("lines",))

    def get(self, profile_id: str) -> dict[str, Any] | None:
        return self.cache.get(profile_id)

    def measure(self, profile_id: str) -> dict[str, Any]:
        """Measure the card from the person's samples now and store it (replacing an edit: the person asked for it)."""
        self.people.get_profile(profile_id)
        digest, samples, texts = card_texts(self.library, profile_id)
        if not samples:
            raise InvalidInput("There is no writing to measure yet.", "Upload a writing sample first.")
        card = card_from_texts(texts)
        return self.cache.store(profile_id, card["text"], digest, samples, edited=False, lines=card["lines"])

    def save(self, profile_id: str, text: str) -> dict[str, Any]:
        """The person's own edit: kept as written, marked edited, never overwritten automatically."""
        self.people.get_profile(profile_id)
        if len(text) > MAX_CARD_CHARS:
            raise InvalidInput(f"A style card can be at most {MAX_CARD_CHARS:,} characters long.")
        current = self.get(profile_id)
        digest, samples = self.cache.recent(profile_id)
        return self.cache.store(profile_id, text.strip(), digest, samples, edited=True,
                                lines=current["lines"] if current else [])

    def ensure(self, profile_id: str) -> dict[str, Any] | None:
        """The current card, measured again first if it is missing or stale and was not edited by hand."""
        return self.cache.ensure(profile_id, self.measure)

    def style_card_part(self, mode: str, profile: dict[str, Any] | None,
                        persona: dict[str, Any] | None) -> PromptPart | None:
        """The labelled prompt part: the profile's card in user mode (measured first if missing or stale), the
        persona's card in persona mode, nothing in global mode."""
        if mode == "user" and profile:
            card = self.ensure(profile["id"])
            if not card or not card["text"]:
                return None
            return style_prompt_part(card["text"], "this person", self.tokenizer.count, edited=card["edited"],
                                     stale=card["stale"], meta={"sources": [s["title"] for s in card["sources"]]})
        if mode == "persona" and persona:
            card = persona_style_card(persona)
            return style_prompt_part(card["text"], f"the persona “{persona['name']}”", self.tokenizer.count,
                                     meta={"persona_id": persona["id"]})
        return None
