"""Sampling for the embedded model, before/after, on the README's three walkthrough questions (demo data loaded as
`python -m playground demo` does), temperature 0, the real SmolLM2-135M through the app's door and prompt.

For each sampling setting: the word-4-gram repeat fraction of each answer (target < 0.2), its length in the model's
tokens, and how it ended (the model stopped, cut at the token limit, or stopped by the door's loop guard). The repeat
fraction is measured on the model's own words: the marker the app appends to a cut or stopped answer is left out.
"before" sends no penalty; "after" is ``EMBEDDED_SAMPLING`` (DRY) with the loop guard off, "shipped" the same with
the guard on (PLAYGROUND_LOOP_WINDOW); the repeat-penalty candidates are listed for the record (``--only`` picks by
label).

    .venv/bin/python bench/sampling.py [--max-tokens 512]
"""

from __future__ import annotations

import argparse
import dataclasses
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
    "after (EMBEDDED_SAMPLING, no loop guard)": EMBEDDED_SAMPLING,
    "shipped (EMBEDDED_SAMPLING + loop guard)": EMBEDDED_SAMPLING,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    pg = fresh_playground(PLAYGROUND_LLM_BACKEND="embedded", PLAYGROUND_TEMPERATURE="0",
                          PLAYGROUND_MAX_TOKENS=str(a.max_tokens))
    from playground.pipeline.conversations import LOOP_MARKER, cut_marker

    profiles = {p["display_name"]: p for p in pg.demo.load()}
    rows = []
    guarded = pg.models.settings
    for label, sampling in CANDIDATES.items():
        if a.only and a.only not in label:
            continue
        pg.models.backend.sampling = dict(sampling)
        pg.models.settings = dataclasses.replace(guarded, loop_window=guarded.loop_window if "loop guard)" in label
                                                 and "no loop" not in label else 0)
        for who, question, _paper in WALKTHROUGH:
            turn = pg.conversations.start_turn(pg.conversations.new_session(profiles[who]["id"])["id"], question, "user")
            answer = "".join(turn.stream())
            own = answer.removesuffix(LOOP_MARKER).removesuffix(cut_marker(a.max_tokens))
            ended = ("stopped by the loop guard" if turn.trace["stopped_looping"] else
                     "cut at the limit" if turn.trace["cut_at_limit"] else "ended by the model")
            rows.append({"sampling": label, "who": who, "repeat4": round(word_ngram_repeat_fraction(own), 3),
                         "tokens": turn.trace["output_tokens"], "ended": ended,
                         "start": answer[:90].replace("\n", " ")})
            r = rows[-1]
            print(f"{label:42} {who:20} repeat4={r['repeat4']:.3f} tokens={r['tokens']:4} {ended:26} "
                  f"{r['start']!r}", flush=True)
    print(json.dumps({"sampling": {k: v for k, v in CANDIDATES.items()}, "rows": rows}))


if __name__ == "__main__":
    main()
