"""Style at a glance: a few features of a text that people can read off a chart."""

from __future__ import annotations

import re
from typing import Any

# Function words: frequent, topic-independent, and used at rates that differ between writers. This list is the
# project's own selection of common English function words, including "upon", "whilst" and "while", which
# Mosteller & Wallace found to separate Hamilton from Madison.
FUNCTION_WORDS = tuple("""
a about above after all also although an and any are as at be because been but by can could do down each even
every for from had has have her his however if in into is it its may might more most much must my no not now of
on one only or other our should so some such than that the their then there these they this those though through
thus to too under up upon us very was we were what when where whether which while whilst who whom will with would
""".split())
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
