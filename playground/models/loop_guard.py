"""Stop an answer that has started to go round in circles.

Small models at a low temperature fall into loops ("The United States is a sovereign and independent nation…" four
times over) and would write until the token limit: the room waits for text nobody reads, and the loop hides what the
personalization did. A repeat penalty stops loops too, but llama.cpp applies it to the prompt's tokens as well, so it
also pushes the person's own facts out of the answer (docs/benchmarks.md). This guard looks only at the answer: once
most of its last few dozen words repeat word 4-grams it has already written, the answer is stopped there and marked
as stopped, never silently trimmed.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+")

WINDOW = 24  # words
SHARE = 0.75  # of the window's word 4-grams already written earlier in the answer
OVERALL = 0.15  # of all the answer's 4-grams so far: a single restated quotation does not reach it, a loop does


class LoopGuard:
    """Feed it the answer's pieces as they arrive; ``feed`` returns True once the answer is looping.

    The answer is looping when, of the word 4-grams in its last ``window`` words, at least ``share`` already occurred
    earlier in it, and at least ``overall`` of all its 4-grams so far are such repeats (words lower-cased,
    punctuation dropped; ``word_ngram_repeat_fraction`` in research/probes/metrics.py splits words with a stricter
    pattern, so the two can differ on underscores and edge apostrophes). The first condition says it is copying
    itself now; the second tells a loop from a passage quoted twice (the Federalist papers restate clauses of the
    Constitution word for word, and are never stopped). A ``window`` of 0 turns the guard off."""

    def __init__(self, window: int = WINDOW, share: float = SHARE, overall: float = OVERALL) -> None:
        self.window, self.share, self.overall = window, share, overall
        self._tail = ""  # text after the last complete word (a piece can end mid-word)
        self._last: list[str] = []  # the last four complete words (one 4-gram)
        self._seen: set[tuple[str, ...]] = set()
        self._repeated: list[bool] = []  # per 4-gram: had it occurred before
        self._total = 0  # repeated 4-grams so far
        self.looping = False

    def feed(self, piece: str) -> bool:
        if self.window <= 0 or self.looping:
            return self.looping
        text = self._tail + piece
        found = list(_WORD.finditer(text))
        if found and found[-1].end() == len(text):  # the last word may still be growing
            self._tail = text[found[-1].start():]
            found = found[:-1]
        else:
            self._tail = ""
        for m in found:
            self._last.append(m.group().lower())
            if len(self._last) > 4:
                del self._last[0]
            if len(self._last) == 4:
                gram = tuple(self._last)
                hit = gram in self._seen
                self._repeated.append(hit)
                self._total += hit
                self._seen.add(gram)
        grams = self.window - 3
        if len(self._repeated) >= grams:
            recent = sum(self._repeated[-grams:])
            self.looping = recent >= self.share * grams and self._total >= self.overall * len(self._repeated)
        return self.looping
