"""Turn the JSON of `python -m playground evaluate` or `fact-recall` into the Markdown tables of docs/evidence.md,
so published numbers are copied by a program, not by hand.

    python scripts/evidence_table.py RESULT.json
"""

from __future__ import annotations

import json
import sys

NAMES = {"rouge1": "ROUGE-1", "rougeL": "ROUGE-L", "meteor": "METEOR (exact+stem)",
         "sim_reference": "similarity to the held-out text", "sim_profile": "similarity to the person's writing",
         "words": "answer length in words (not a score)"}
FORMAT = {"words": ".1f"}  # every other measure: three decimals


def interval(ci95: list[float] | None, fmt: str) -> str:
    """The bracketed interval, or why there is none (eval_stats.MIN_BOOTSTRAP)."""
    return "[no interval: too few items]" if ci95 is None else f"[{ci95[0]:{fmt}}, {ci95[1]:{fmt}}]"


def ci(cell: dict | None, fmt: str = ".3f") -> str:
    return "—" if not cell else f"{cell['mean']:{fmt}} {interval(cell['ci95'], fmt)}"


def evaluation(result: dict) -> str:
    table = result["conditions_ci95"]
    metrics = [m for m in NAMES if any(table[c].get(m) for c in table)]
    lines = ["| condition | n | " + " | ".join(NAMES[m] for m in metrics) + " |",
             "|---|---|" + "---|" * len(metrics)]
    for cond, row in table.items():
        lines.append(f"| {cond} | {row['n']} | " + " | ".join(ci(row.get(m), FORMAT.get(m, ".3f")) for m in metrics) + " |")
    for pair, by_metric in result.get("paired", {}).items():
        lines += ["", f"Paired, {pair} (same held-out items): mean difference [95% CI], wins/losses/ties", "",
                  "| metric | difference | wins / losses / ties |", "|---|---|---|"]
        for m in metrics:
            d = by_metric.get(m)
            if d:
                fmt = "+" + FORMAT.get(m, ".3f")
                lines.append(f"| {NAMES[m]} | {d['mean_difference']:{fmt}} {interval(d['ci95'], fmt)}"
                             f" | {d['wins']} / {d['losses']} / {d['ties']} |")
    return "\n".join(lines)


def fact_recall(result: dict) -> str:
    lines = ["| asked under | facts used / questions |", "|---|---|"]
    for mode, row in result["table"].items():
        lines.append(f"| {mode} | {row['used']} / {row['asked']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    data = json.load(open(sys.argv[1]))
    print(evaluation(data) if "conditions_ci95" in data else fact_recall(data))
