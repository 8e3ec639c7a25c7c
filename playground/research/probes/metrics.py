"""Small, hand-checkable measures shared by the probes: word diffs, overlap, cosine, text measures, and statistics
(Cohen's kappa, the sign test, and intervals from the project's one bootstrap, ``eval_stats.bootstrap_ci``).

Everything here is a pure function of its inputs; the bootstrap takes a seed so a result can be reproduced.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Sequence

import numpy as np

from playground.research.eval_stats import bootstrap_ci

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")


def words(text: str) -> list[str]:
    """Whitespace-separated words, as written (the unit of the visible diff)."""
    return text.split()


def word_diff(original: str, variant: str) -> list[dict[str, str]]:
    """Word-level diff: a list of ``{"op": "equal"|"delete"|"insert", "text": ...}``. ``delete`` is in the original
    only, ``insert`` in the variant only (a replacement is a delete followed by an insert)."""
    a, b = words(original), words(variant)
    out: list[dict[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append({"op": "equal", "text": " ".join(a[i1:i2])})
            continue
        if tag in ("delete", "replace"):
            out.append({"op": "delete", "text": " ".join(a[i1:i2])})
        if tag in ("insert", "replace"):
            out.append({"op": "insert", "text": " ".join(b[j1:j2])})
    return out


def diff_counts(diff: Sequence[dict[str, str]]) -> dict[str, int]:
    """Words removed from and added to the original, and words kept."""
    count = {"equal": 0, "delete": 0, "insert": 0}
    for d in diff:
        count[d["op"]] += len(d["text"].split())
    return {"kept": count["equal"], "removed": count["delete"], "added": count["insert"]}


def token_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the two texts' sets of lower-cased word tokens (1.0 when both are empty)."""
    sa, sb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def cosine(u: np.ndarray | None, v: np.ndarray | None) -> float | None:
    """Cosine similarity, or None when either vector is missing or zero."""
    if u is None or v is None:
        return None
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0 or nv == 0:
        return None
    return float(np.dot(u, v) / (nu * nv))


# -- text measures ---------------------------------------------------------------------------------------------------
def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level (textstat); None for a text without words."""
    import textstat

    if not _WORD.search(text.lower()):
        return None
    return float(textstat.flesch_kincaid_grade(text))


_VADER: Any = None


def sentiment(text: str) -> float:
    """VADER compound sentiment, from -1 (negative) to +1 (positive); 0 for an empty text."""
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return float(_VADER.polarity_scores(text)["compound"]) if text.strip() else 0.0


def text_measures(text: str) -> dict[str, float | None]:
    return {"words": float(len(words(text))), "reading_grade": reading_grade(text), "sentiment": sentiment(text)}


# -- statistics ------------------------------------------------------------------------------------------------------
def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when it is undefined (no items, or both raters
    always use one and the same label, so chance agreement is 1)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    labels = set(a) | set(b)
    po = sum(x == y for x, y in zip(a, b)) / n
    pe = sum((list(a).count(k) / n) * (list(b).count(k) / n) for k in labels)
    if pe >= 1.0:
        return None
    return (po - pe) / (1 - pe)


def kappa_with_ci(pairs: Sequence[tuple[str, str]], seed: int = 0) -> dict[str, Any]:
    """Kappa of (rater 1, rater 2) label pairs with a 95% percentile-bootstrap interval."""
    kappa = cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs])
    ci = bootstrap_ci(list(pairs), lambda s: cohen_kappa([p[0] for p in s], [p[1] for p in s]), seed=seed)
    return {"kappa": kappa, "ci95": list(ci) if ci else None}


def sign_test(diffs: Sequence[float]) -> dict[str, Any]:
    """Two-sided exact sign test of paired differences (zeros dropped): how often the second value was larger."""
    pos = sum(1 for d in diffs if d > 0)
    neg = sum(1 for d in diffs if d < 0)
    n = pos + neg
    if n == 0:
        return {"positive": 0, "negative": 0, "p": 1.0}
    k = min(pos, neg)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return {"positive": pos, "negative": neg, "p": min(1.0, 2 * tail)}


def mean_with_ci(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """Mean with a 95% percentile-bootstrap interval (None for the interval with fewer than ``MIN_BOOTSTRAP``
    values)."""
    vals = [float(v) for v in values]
    if not vals:
        return {"mean": None, "ci95": None, "n": 0}
    ci = bootstrap_ci(vals, seed=seed)
    return {"mean": sum(vals) / len(vals), "ci95": list(ci) if ci else None, "n": len(vals)}


def word_ngram_repeat_fraction(text: str, n: int = 4) -> float:
    """The share of the answer's word n-grams that already occurred earlier in it: 0 for text that never repeats
    itself, near 1 for a loop ("the union is strong. the union is strong. ..."). Words are lower-cased, punctuation
    dropped; fewer than n words give 0."""
    toks = _WORD.findall(text.lower())
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    if not grams:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)
