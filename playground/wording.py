"""Words shown to people: counts that agree with their nouns ("1 chunk", "2 chunks") and friendly names for the
columns the engine computes. One place, so every page and the CLI say it the same way."""

from __future__ import annotations

IRREGULAR = {"person": "people", "sample is": "samples are", "analysis": "analyses"}

# The evaluation's column names, as a person reads them.
METRIC_NAMES = {"rouge1": "ROUGE-1", "rougeL": "ROUGE-L", "meteor": "METEOR",
                "sim_reference": "similarity to what you wrote", "sim_profile": "similarity to your other writing",
                "attributed": "attributed to you", "style_distance": "style distance",
                "words": "answer length (words)", "n": "items", "condition": "condition"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "chunk")`` → "1 chunk"; ``plural(3, "chunk")`` → "3 chunks"; irregular nouns take ``many``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n:,} {many or IRREGULAR.get(noun) or noun + 's'}"


def metric_name(column: str) -> str:
    """A friendly name for an evaluation column (the raw name if it has none)."""
    return METRIC_NAMES.get(column, column.replace("_", " "))
