"""Style at a glance: a few features of a text that people can read off a chart."""

from __future__ import annotations

import re
from typing import Any

_SENT = re.compile(r"[^.!?]+[.!?]+")
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def style_profile(text: str) -> dict[str, Any]:
    words = _WORD.findall(text)
    n = max(len(words), 1)
    sentences = max(len(_SENT.findall(text)), 1)
    lower = [w.lower() for w in words]
    return {
        "words per sentence": round(n / sentences, 1),
        "distinct words per 100": round(100 * len(set(lower[:1000])) / max(min(n, 1000), 1), 1),
        "commas per 100 words": round(100 * text.count(",") / n, 1),
        "semicolons per 100 words": round(100 * text.count(";") / n, 2),
        "questions per 100 sentences": round(100 * text.count("?") / sentences, 1),
        "long words (7+ letters) %": round(100 * sum(len(w) >= 7 for w in words) / n, 1),
    }
