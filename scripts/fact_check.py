"""A hidden-style check of personalization with facts the prompt was not tuned on.

Several invented people each write three short samples; each sample states one personal fact among unrelated
sentences. Every person's natural questions ("What is my dog's name?") are asked in a throw-away data folder at
temperature 0 under user, persona (everyone shares their writing with one group) and global, and once more as
another person (their user mode). Reported per mode: facts used / asked, refusals, word-4-gram repeats, and how
many answers are on the question's topic (embedding cosine of question and answer).

Two sets of people: ``scripts/fact_check/tune.json`` (looked at while the prompt templates were written) and
``scripts/fact_check/heldout.json`` (never looked at while tuning; run only to report).

    PLAYGROUND_LLM_BACKEND=embedded .venv/bin/python scripts/fact_check.py --set heldout
    PLAYGROUND_LLM_BACKEND=embedded .venv/bin/python scripts/fact_check.py --set both --template standard --json out.json

``--template`` fixes the prompt template (``small``, ``standard``; default: chosen from the model, as the app does).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {"tune": ROOT / "scripts" / "fact_check" / "tune.json",
        "heldout": ROOT / "scripts" / "fact_check" / "heldout.json"}
MODES = ("user", "persona", "global")
OTHER = "other person's user"
REFUSAL = re.compile(r"(?i)\b(i'?m sorry|i am sorry|i apologi[sz]e|as an ai|as a chatbot|as a language model|"
                     r"i (?:do not|don't|cannot|can't|am not able to|am unable to) (?:have|access|provide|know|"
                     r"help|tell|share)|not equipped|i'?m not able|i'?m unable|no (?:information|access) "
                     r"(?:about|to) (?:your|you))")
ON_TOPIC = 0.25  # cosine of all-MiniLM-L6-v2 embeddings of question and answer


def word_ngram_repeat_fraction(text: str, n: int = 4) -> float:
    from playground.research.probes.metrics import word_ngram_repeat_fraction as measure

    return round(measure(text, n), 3)


def uses(answer: str, expect: list[str]) -> bool:
    low = answer.lower()
    return any(w.lower() in low for w in expect)


def run_set(pg: Any, people: list[dict[str, Any]], max_tokens: int, template: str | None, log: Any) -> list[dict]:
    overrides: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
    if template:
        overrides["prompt_template"] = template
    rows: list[dict[str, Any]] = []
    with pg.scratch("playground-factcheck-", **overrides) as temp:
        group = temp.people.create_persona("Fact check group", "People who shared short notes about their lives.")
        ids = {}
        for person in people:
            profile = temp.people.create_profile(person["name"], persona_id=group, share_with_persona=True)
            for s in person["samples"]:
                temp.library.add_sample(profile["id"], text=s["text"], title=s["title"])
            ids[person["name"]] = profile["id"]
        for i, person in enumerate(people):
            other = people[(i + 1) % len(people)]
            for q in person["questions"]:
                asks = [*((m, person) for m in MODES), *([(OTHER, other)] if OTHER != "__skip__" else [])]
                for mode, asker in asks:
                    session = temp.conversations.new_session(ids[asker["name"]], title="fact check")
                    turn = temp.conversations.start_turn(session["id"], q["q"], "user" if mode == OTHER else mode)
                    t0 = time.perf_counter()
                    answer = "".join(turn.stream())
                    top = turn.hits[0].sample_title if turn.hits else ""
                    rows.append({"person": person["name"], "asker": asker["name"], "mode": mode, "question": q["q"],
                                 "answer": answer, "used": uses(answer, q["expect"]),
                                 "refusal": bool(REFUSAL.search(answer)),
                                 "repeat4": word_ngram_repeat_fraction(answer), "top_snippet": top,
                                 "template": turn.trace.get("prompt", {}).get("template", "(main's prompt)"),
                                 "model": turn.trace.get("model"), "prompt_tokens": turn.trace.get("prompt_tokens"),
                                 "seconds": round(time.perf_counter() - t0, 2)})
                    r = rows[-1]
                    print(f"[{len(rows)}] {mode:20s} {person['name']:14s} used={int(r['used'])} {r['seconds']}s "
                          f"ref={int(r['refusal'])} {q['q']!r} -> {answer[:90]!r}", file=log, flush=True)
        vecs = pg.embedder.embed([t for r in rows for t in (r["question"], r["answer"] or " ")], 32)
        for j, r in enumerate(rows):
            a, b = vecs[2 * j], vecs[2 * j + 1]
            r["topic_cos"] = round(float(a @ b / ((a @ a) ** 0.5 * (b @ b) ** 0.5 or 1)), 3)
    return rows


def table(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for mode in (*MODES, OTHER):
        rs = [r for r in rows if r["mode"] == mode]
        if not rs:
            continue
        out[mode] = {"asked": len(rs), "used": sum(r["used"] for r in rs),
                     "refusals": sum(r["refusal"] for r in rs),
                     "repeat4_mean": round(sum(r["repeat4"] for r in rs) / len(rs), 3),
                     "on_topic": sum(r["topic_cos"] >= ON_TOPIC for r in rs)}
    return out


def markdown(name: str, t: dict[str, dict[str, Any]]) -> str:
    lines = [f"**{name}**", "", "| asked under | facts used / asked | refusals | word-4-gram repeats (mean) | on topic |",
             "|---|---|---|---|---|"]
    for mode, v in t.items():
        lines.append(f"| {mode} | {v['used']} / {v['asked']} | {v['refusals']} / {v['asked']} | {v['repeat4_mean']} "
                     f"| {v['on_topic']} / {v['asked']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=("tune", "heldout", "both"), default="both")
    ap.add_argument("--template", default=None, help="prompt template name (default: chosen from the model)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--modes", default="", help="comma list to limit the modes (e.g. user); default all four")
    ap.add_argument("--json", default="", help="write rows and tables here")
    ap.add_argument("--sampling", default="", help="JSON of sampling settings for the embedded model, in place of "
                    "its defaults (e.g. '{\"repeat_penalty\": 1.15, \"repeat_last_n\": 64}')")
    args = ap.parse_args(argv)
    os.environ.setdefault("PLAYGROUND_LLM_BACKEND", "embedded")
    from playground import Playground, Settings

    global MODES, OTHER
    if args.modes:
        keep = args.modes.split(",")
        MODES = tuple(m for m in MODES if m in keep)
        OTHER = OTHER if "other" in keep else "__skip__"
    pg = Playground(Settings.from_env())
    if args.sampling:
        pg.models.backend.sampling = json.loads(args.sampling)
    names = ["tune", "heldout"] if args.set == "both" else [args.set]
    result: dict[str, Any] = {"template": args.template or "auto", "max_tokens": args.max_tokens,
                              "sampling": getattr(pg.models.backend, "sampling", None), "sets": {}}
    t0 = time.perf_counter()
    for name in names:
        people = json.loads(SETS[name].read_text(encoding="utf-8"))["people"]
        rows = run_set(pg, people, args.max_tokens, args.template, sys.stderr)
        result["sets"][name] = {"table": table(rows), "rows": rows}
        result["model"] = next((r["model"] for r in rows if r["model"]), "")
        result["templates_used"] = sorted({r["template"] for r in rows})
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"model {result.get('model')} · template {result['template']} (used: {result.get('templates_used')}) · "
          f"temperature 0 · max_tokens {args.max_tokens} · {result['seconds']} s")
    for name in names:
        print(markdown(f"{name} set", result["sets"][name]["table"]))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
