""""Explain this answer" with the embedded model, the walkthrough's answer: Hamilton, "Why does the union need a
navy?", user mode, demo data, temperature 0.

In one run, on one embedded model:
1. **before** — main's way: variants in prompt order, every answer at the chat's length (PLAYGROUND_MAX_TOKENS,
   512), one at a time (``--before-tokens``);
2. **after** — live speed: every answer cut at PLAYGROUND_EXPLAIN_MAX_TOKENS (80), variants ordered to share the
   longest prompt start, identical prompts answered once, ``--parallel`` at once.
Reported: wall time of each, the ratio after/before (target ≤ 0.5) and after in seconds (target ≤ 120 s).

    PLAYGROUND_LLM_BACKEND=embedded .venv/bin/python bench/explain_speed.py [--skip-before] [--parallel 1]
"""

from __future__ import annotations

import argparse
import time

from common import at_most, fresh_playground, report

QUESTION = "Why does the union need a navy?"


def timed_run(pg, profile_id: str, max_tokens: int, parallel: int, prompt_order: bool) -> tuple[float, dict]:
    from playground.research.probes import counterfactual

    rid = pg.start_explanation(profile_id, QUESTION, "user")
    row = counterfactual.get_run(pg.db, rid)
    keep = counterfactual.prefix_order
    if prompt_order:  # main's order: the parts as they stand in the prompt
        counterfactual.prefix_order = lambda prompts, first: list(range(len(prompts)))
    t0 = time.perf_counter()
    try:
        out = counterfactual.run(pg.db, rid, backend=pg.backend, embed=pg.embedder.embed,
                                 person_vector=pg.library.person_vector(row["profile_id"]), max_tokens=max_tokens,
                                 count_tokens=pg.tokenizer.count, concurrency=parallel,
                                 progress=lambda stage, done, total: print(f"    {done}/{total} {stage}", flush=True))
    finally:
        counterfactual.prefix_order = keep
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before-tokens", type=int, default=512)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--skip-before", action="store_true", help="only the after run (no ratio)")
    args = ap.parse_args()

    pg = fresh_playground(PLAYGROUND_LLM_BACKEND="embedded", PLAYGROUND_TEMPERATURE="0")
    people = pg.demo.load()
    hamilton = next(p for p in people if p["display_name"].startswith("Alexander Hamilton"))
    pg.warm_up()
    rows = []
    after_s, after = timed_run(pg, hamilton["id"], pg.settings.explain_max_tokens, args.parallel, False)
    print(f"  after: {after_s:.1f} s, {after['total']} answers, {pg.settings.explain_max_tokens} tokens each, "
          f"template {after['parts'][0].meta.get('template')}")
    rows.append(("after, seconds", after_s, 120.0, at_most(1.0)))
    if not args.skip_before:
        before_s, before = timed_run(pg, hamilton["id"], args.before_tokens, 1, True)
        print(f"  before: {before_s:.1f} s, {before['total']} answers, up to {args.before_tokens} tokens each")
        rows.append(("after / before, wall time", after_s, before_s, at_most(0.5)))
    report("Explain this answer, the walkthrough's answer (embedded model)", rows)


if __name__ == "__main__":
    main()
