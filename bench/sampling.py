"""Sampling for the embedded model, before/after, on the README's three walkthrough questions (demo data loaded as
`python -m playground demo` does), temperature 0, the real SmolLM2-135M through the app's door and prompt.

For each sampling setting: the word-4-gram repeat fraction of each answer (target < 0.2), its length in the model's
tokens, and whether it was cut at the token limit. "before" sends no penalty (what main sent); "after" is
``EMBEDDED_SAMPLING`` (DRY); the repeat-penalty candidates are listed for the record (``--only`` picks by label).

    .venv/bin/python bench/sampling.py [--max-tokens 512]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fresh_playground  # noqa: E402

from playground.demo import WALKTHROUGH  # noqa: E402
from playground.models.embedded_llm import EMBEDDED_SAMPLING  # noqa: E402
from playground.research.probes.metrics import word_ngram_repeat_fraction  # noqa: E402

CANDIDATES = {
    "before (no penalty)": {},
    "repeat 1.15": {"repeat_penalty": 1.15, "repeat_last_n": 256, "min_p": 0.05, "top_k": 40},
    "repeat 1.25": {"repeat_penalty": 1.25, "repeat_last_n": 256, "min_p": 0.05, "top_k": 40},
    "repeat 1.15, last 64": {"repeat_penalty": 1.15, "repeat_last_n": 64, "min_p": 0.05, "top_k": 40},
    "after (EMBEDDED_SAMPLING)": EMBEDDED_SAMPLING,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    pg = fresh_playground(PLAYGROUND_LLM_BACKEND="embedded", PLAYGROUND_TEMPERATURE="0",
                          PLAYGROUND_MAX_TOKENS=str(a.max_tokens))

    profiles = {p["display_name"]: p for p in pg.demo.load_demo_data()}
    rows = []
    for label, sampling in CANDIDATES.items():
        if a.only and a.only not in label:
            continue
        pg.models.backend.sampling = dict(sampling)
        for who, question, _paper in WALKTHROUGH:
            turn = pg.conversations.start_turn(pg.conversations.new_session(profiles[who]["id"])["id"], question, "user")
            answer = "".join(turn.stream())
            rows.append({"sampling": label, "who": who, "repeat4": round(word_ngram_repeat_fraction(answer), 3),
                         "tokens": turn.trace["output_tokens"], "cut": turn.trace["cut_at_limit"],
                         "start": answer[:90].replace("\n", " ")})
            r = rows[-1]
            print(f"{label:28} {who:20} repeat4={r['repeat4']:.3f} tokens={r['tokens']:4} cut={r['cut']!s:5} "
                  f"{r['start']!r}", flush=True)
    print(json.dumps({"sampling": {k: v for k, v in CANDIDATES.items()}, "rows": rows}))


if __name__ == "__main__":
    main()
