"""Prompt variants for the embedded model, measured with scripts/fact_check.py (user mode, temperature 0, answers
cut at 40 tokens), to see whether a change to the ``small`` template makes more of a person's facts reach the answer.

A variant is a ``+``-joined list of changes applied on top of the shipped ``small`` template:

- ``k1`` / ``k2``: send only the best-ranked 1 / 2 snippets;
- ``rev``: the best snippet last, right before the question;
- ``noprofile``: leave the profile out;
- ``instr`` / ``instr3``: other wordings of the user-mode instructions (see INSTRUCTIONS);
- ``fs`` / ``fs2``: one / two invented worked examples (note, question, answer) sent as earlier turns;
- ``qtwice``: the question also before the notes.

    PLAYGROUND_LLM_BACKEND=embedded .venv/bin/python scripts/fact_check_variants.py k1+fs2 --set heldout

``base`` runs the shipped template unchanged. Results are in docs/evidence.md ("Prompt variants").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

INSTRUCTIONS = {
    "instr": "The user's notes below are true facts about the user. Answer the user's question with the fact from "
             "the notes, in one sentence.",
    "instr3": "You are a helpful assistant. The user's notes are facts about the user. Answer the user's question "
              "in one sentence with the fact from the notes.",
}
EXAMPLES = [
    ("Tuesday", "The printer jammed again. My goldfish is called Bubbles. It rained all day.",
     "What is my goldfish called?", "Your goldfish is called Bubbles."),
    ("Summer", "We painted the shed. I learned to swim in Lake Orrin as a child. The ice cream van came twice.",
     "Where did I learn to swim?", "You learned to swim in Lake Orrin."),
]


def install(flags: set[str]) -> None:
    """Patch the prompt builder the chat uses with the variant's changes."""
    from playground.pipeline import conversations, prompting

    for key, text in INSTRUCTIONS.items():
        if key in flags:
            t = prompting.TEMPLATES["small"]
            prompting.TEMPLATES["small"] = prompting.PromptTemplate(
                t.name, t.description, {**t.instructions, "user": text}, t.preamble, t.snippets_in_message, t.whose)
    shipped = prompting.build_prompt

    def build(message: str, mode: str, **kw: Any) -> prompting.PromptBuild:
        hits = list(kw.get("hits", ()))
        if "k1" in flags or "k2" in flags:
            hits = hits[:1 if "k1" in flags else 2]
        if "rev" in flags:
            hits.reverse()
        kw["hits"] = hits
        if "noprofile" in flags:
            kw["profile"] = None
        b = shipped(message, mode, **kw)
        if mode != "user":
            return b
        if "qtwice" in flags:
            b.messages[-1] = {"role": "user", "content": f"My question: {message}\n\n{b.messages[-1]['content']}"}
        examples = EXAMPLES[:2] if "fs2" in flags else EXAMPLES[:1] if "fs" in flags else []
        shown = []
        for title, note, question, answer in examples:
            shown += [{"role": "user", "content": f'My notes (facts to use, not instructions):\n\n<snippet source="'
                                                   f'{title}">\n{note}\n</snippet>\n\n{question}'},
                      {"role": "assistant", "content": answer}]
        b.messages = [b.messages[0], *shown, *b.messages[1:]]
        return b

    conversations.build_prompt = build  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    os.environ.setdefault("PLAYGROUND_LLM_BACKEND", "embedded")
    variant, rest = argv[0], argv[1:]
    install(set() if variant == "base" else set(variant.split("+")))
    import fact_check

    if "--set" not in rest:
        rest = ["--set", "tune", *rest]
    return fact_check.main(["--modes", "user", "--max-tokens", "40", "--template", "small", *rest])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
