"""Text measurement: the one place that counts a text's words, sentences and writing habits.

Every screen that shows how someone writes measures here, with one word tokenizer (``WORD``) and one sentence
splitter (``sentences``): the style card (``stylecard`` compares ``measure`` with the reference writers) and the
Writing samples page's "Style at a glance" chart (``style_at_a_glance``, a few of the same measurements under the
same labels). So the chart and the card show the same number for the same writing.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Sequence

# Function words: frequent, topic-independent, and used at rates that differ between writers. This list is the
# project's own selection of common English function words, including "upon", "whilst" and "while", which
# Mosteller & Wallace found to separate Hamilton from Madison.
FUNCTION_WORDS = tuple("""
a about above after all also although an and any are as at be because been but by can could do down each even
every for from had has have her his however if in into is it its may might more most much must my no not now of
on one only or other our should so some such than that the their then there these they this those though through
thus to too under up upon us very was we were what when where whether which while whilst who whom will with would
""".split())
SLANG = frozenset("""
lol lmao lmfao rofl omg omfg wtf btw idk imo imho tbh brb ttyl gonna wanna gotta kinda sorta dunno ya yeah yep nope
yay woo haha hahaha hehe heh ugh meh duh cuz coz u ur r k kk ok okay pls plz thx cya bday xoxo xd dude awesome cool
""".split())
FIRST_SINGULAR = frozenset("i me my mine myself i'm i've i'd i'll im ive".split())
FIRST_PLURAL = frozenset("we us our ours ourselves we're we've".split())
SECOND = frozenset("you your yours yourself you're you've u ur".split())
_FW = frozenset(FUNCTION_WORDS)

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
"""A word: a run of letters, with one apostrophe inside (don't, it's); digits and punctuation are not words."""
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_EMOTICON = re.compile(r"(?:(?<=\s)|^)(?:[:;=8][-']?[)(DPpO/\\|3]|<3|\^_\^|xD|XD)(?=\s|$|[.,!?])")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")

CHARS_PER_SAMPLE = 20000
VOCABULARY_WINDOW = 100

# feature → (label, unit): the wording every screen uses for a measurement.
LABELS: dict[str, tuple[str, str]] = {
    "words_per_sentence": ("words per sentence", ""),
    "vocabulary": ("distinct words per 100 (moving window)", ""),
    "long_words": ("words of 7+ letters", "%"),
    "function_words": ("function words (the, of, which…)", "%"),
    "first_singular": ("I / me / my per 100 words", ""),
    "first_plural": ("we / us / our per 100 words", ""),
    "second_person": ("you / your per 100 words", ""),
    "commas": ("commas per 100 words", ""),
    "semicolons": ("semicolons and colons per 100 words", ""),
    "exclamations": ("! per 100 sentences", ""),
    "questions": ("? per 100 sentences", ""),
    "ellipses": ("… per 100 sentences", ""),
    "lowercase_starts": ("sentences starting in lower case", "%"),
    "capitals": ("WORDS IN CAPITALS per 100 words", ""),
    "emoji": ("emoji and emoticons per 100 words", ""),
    "slang": ("slang words per 100 words", ""),
    "contractions": ("contractions per 100 words", ""),
}
AT_A_GLANCE = ("words_per_sentence", "vocabulary", "commas", "semicolons", "questions", "long_words")


def words(text: str) -> list[str]:
    """The words of a text, as written (see ``WORD``)."""
    return WORD.findall(text)


def sentences(text: str) -> list[str]:
    """The sentences of a text: runs ending in ``.``, ``!`` or ``?`` (repeated: "!!", "..."), a line break or the
    end of the text, that contain at least one word. A line break ends a sentence so that a heading, a list item or a
    chat message without a full stop counts as one sentence instead of running into the next."""
    return [s.strip() for s in _SENTENCE.findall(text) if WORD.search(s)]


def mattr(tokens: Sequence[str], window: int = VOCABULARY_WINDOW) -> float:
    """Distinct words per 100 words: the moving-average type-token ratio (MATTR, Covington & McFall 2010) ×100.

    The share of distinct words in a window of ``window`` consecutive words, averaged over windows starting every
    ``max(1, (n - window) // 50)`` words (about 50 windows spread evenly over the text; every window when it has
    fewer than 200 words). Unlike the plain type-token ratio it does not fall as a text gets longer, so a long essay
    and a short note can be compared. A text of ``window`` words or fewer: its plain type-token ratio ×100. Pass
    lower-cased words to count "The" and "the" once."""
    n = len(tokens)
    if n <= window:
        return 100.0 * len(set(tokens)) / max(n, 1)
    step = max(1, (n - window) // 50)
    ratios = [len(set(tokens[i:i + window])) / window for i in range(0, n - window + 1, step)]
    return 100.0 * sum(ratios) / len(ratios)


def measure(texts: Sequence[str]) -> dict[str, Any]:
    """The habits of some writing (all of a person's samples together, each cut at ``CHARS_PER_SAMPLE`` characters
    and joined by a blank line), per ``LABELS``: rates per 100 words count over ``words``, rates per 100 sentences
    over ``sentences``. Also ``words`` (how many) and ``examples``: the slang words and emoji actually used."""
    if isinstance(texts, str):
        raise TypeError("measure takes a list of texts, not one string")
    text = "\n\n".join(t[:CHARS_PER_SAMPLE] for t in texts)
    found = words(text)
    lower = [w.lower() for w in found]
    n = max(len(found), 1)
    said = sentences(text)
    ns = max(len(said), 1)
    per100 = 100.0 / n
    slang = Counter(w for w in lower if w in SLANG)
    emoji = Counter(_EMOJI.findall(text) + _EMOTICON.findall(text))
    starts = [next((c for c in s if c.isalpha()), "") for s in said]
    return {
        "words": len(found),
        "words_per_sentence": len(found) / ns,
        "vocabulary": mattr(lower),
        "long_words": 100.0 * sum(len(w) >= 7 for w in found) / n,
        "function_words": 100.0 * sum(w in _FW for w in lower) / n,
        "first_singular": per100 * sum(w in FIRST_SINGULAR for w in lower),
        "first_plural": per100 * sum(w in FIRST_PLURAL for w in lower),
        "second_person": per100 * sum(w in SECOND for w in lower),
        "commas": per100 * text.count(","),
        "semicolons": per100 * (text.count(";") + len(re.findall(r":(?=\s)", text))),
        "exclamations": 100.0 * text.count("!") / ns,
        "questions": 100.0 * text.count("?") / ns,
        "ellipses": 100.0 * (len(re.findall(r"\.\.\.|…", text))) / ns,
        "lowercase_starts": 100.0 * sum(c.islower() for c in starts) / max(len([c for c in starts if c]), 1),
        "capitals": per100 * sum(len(w) >= 2 and w.isupper() for w in found),
        "emoji": per100 * sum(emoji.values()),
        "slang": per100 * sum(slang.values()),
        "contractions": per100 * sum("'" in w for w in found),
        "examples": {"slang": [w for w, _ in slang.most_common(4)], "emoji": [e for e, _ in emoji.most_common(4)]},
    }


def shown(x: float) -> float:
    """A measurement as screens show it: one decimal, none from 100 up."""
    return round(x, 1) if abs(x) < 100 else float(round(x))


def title(feature: str) -> str:
    """A measurement's label with its unit, as a chart's heading ("words of 7+ letters (%)")."""
    label, unit = LABELS[feature]
    return f"{label} ({unit})" if unit else label


def style_at_a_glance(texts: Sequence[str]) -> dict[str, float]:
    """The chart's few measurements of some writing (``AT_A_GLANCE``), by ``title``, rounded as the style card shows
    them: ``measure`` of the same texts, so the chart and the card never disagree."""
    m = measure(texts)
    return {title(f): shown(m[f]) for f in AT_A_GLANCE}
