"""Rebuild playground/style_reference/reference.json: the style habits of the reference writers.

Writers: the three authors of the undisputed Federalist essays (public domain, shipped in playground/data/federalist),
each shipped persona (its example texts, written for this project), and the writers composed for this project in
playground/style_reference/writers.jsonl. Nothing from any research corpus.

    .venv/bin/python scripts/build_style_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.people.personas import load_persona_files  # noqa: E402
from playground.research.stylecard import REFERENCE_PATH, reference_stats  # noqa: E402
from playground.research.stylometry import measure  # noqa: E402

FEDERALIST = ROOT / "playground" / "data" / "federalist" / "federalist.jsonl"
WRITERS = REFERENCE_PATH.parent / "writers.jsonl"


def main() -> None:
    texts: dict[str, list[str]] = {}
    for line in FEDERALIST.read_text().splitlines():
        r = json.loads(line)
        if not r["traditionally_disputed"] and r["author"] in ("HAMILTON", "MADISON", "JAY"):
            texts.setdefault(f"federalist:{r['author'].lower()}", []).append(r["text"])
    for p in load_persona_files():
        texts[f"persona:{p.id}"] = list(p.examples)
    for line in WRITERS.read_text().splitlines():
        r = json.loads(line)
        texts.setdefault(f"composed:{r['writer']}", []).append(r["text"])
    writers = {}
    for name, ts in texts.items():
        stats = measure(ts[:12])  # a dozen essays per Federalist author is plenty, and keeps the weights even
        writers[name] = {k: round(v, 4) for k, v in stats.items() if k not in ("examples", "words")}
    out = {"about": "Style habits of the reference writers (one row each) and their mean and sd; built by "
                    "scripts/build_style_reference.py from the Federalist essays, the shipped personas' examples and "
                    "the composed writers in writers.jsonl.",
           "stats": reference_stats(writers), "writers": writers}
    REFERENCE_PATH.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(writers)} writers → {REFERENCE_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
