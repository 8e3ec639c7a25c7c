"""ROUGE-1 and ROUGE-L F1, as LaMP reports them, written here so that every requirement installs from a wheel.

Tokens follow Google's ``rouge-score`` (the reference implementation LaMP used): lower case, runs of anything but
a–z and 0–9 split words, words longer than three letters are Porter-stemmed (nltk's stemmer, as rouge-score uses).
ROUGE-1 counts shared words (each at most as often as it occurs in both texts); ROUGE-L is the longest common
subsequence of words. Both are the harmonic mean of precision (over the prediction) and recall (over the
reference). A test checks the scores on texts whose values were computed by hand.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

_SPLIT = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem import porter

    return porter.PorterStemmer()


def tokens(text: str) -> list[str]:
    stem = _stemmer().stem
    return [stem(w) if len(w) > 3 else w for w in _SPLIT.split(text.lower()) if w]


def _f1(hits: int, n_prediction: int, n_reference: int) -> float:
    if not hits:
        return 0.0
    precision, recall = hits / n_prediction, hits / n_reference
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, one row of the table at a time."""
    if len(b) > len(a):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b, start=1):
            row.append(previous[j - 1] + 1 if x == y else max(previous[j], row[j - 1]))
        previous = row
    return previous[-1]


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """``{"rouge1": F1, "rougeL": F1}`` of a prediction against one reference text."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return {"rouge1": 0.0, "rougeL": 0.0}
    overlap = sum((Counter(pred) & Counter(ref)).values())
    return {"rouge1": _f1(overlap, len(pred), len(ref)),
            "rougeL": _f1(lcs_length(pred, ref), len(pred), len(ref))}
