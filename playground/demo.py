"""Demo data for workshops: three profiles from the Federalist Papers (Hamilton, Madison, Jay), a few essays each.

Public-domain text shipped in playground/data/federalist (its SOURCE.txt names where it came from). Only undisputed
papers are used. Loading twice adds nothing new: profiles are found by name and essays by content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import InvalidInput

if TYPE_CHECKING:
    from .service import Playground

DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "federalist" / "federalist.jsonl"
AUTHORS = {
    "HAMILTON": {"display_name": "Alexander Hamilton", "occupation": "lawyer, essayist", "location": "New York",
                 "interests": "finance, a strong executive, the army and navy, the courts",
                 "preferred_tone": "forceful, formal"},
    "MADISON": {"display_name": "James Madison", "occupation": "planter, legislator", "location": "Virginia",
                "interests": "factions, representation, the separation of powers",
                "preferred_tone": "measured, analytical"},
    "JAY": {"display_name": "John Jay", "occupation": "diplomat, lawyer", "location": "New York",
            "interests": "foreign affairs, treaties, national unity", "preferred_tone": "calm, diplomatic"},
}


def load_demo_data(pg: "Playground", corpus: Path | None = None, essays_per_author: int = 3,
                   progress: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """Create (or complete) the three demo profiles; return them."""
    path = corpus or DEFAULT_CORPUS
    if not path.exists():
        raise InvalidInput(f"The demo corpus is missing at {path}.",
                           "It ships with the playground in playground/data/federalist; restore it from the repository.")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    profiles = []
    existing = {p["display_name"]: p for p in pg.list_profiles() if not p["owner_token"]}
    total = essays_per_author * len(AUTHORS)
    done = 0
    for author, attrs in AUTHORS.items():
        profile = existing.get(attrs["display_name"]) or pg.create_profile(**attrs)
        have = {s["title"] for s in pg.list_samples(profile["id"])}
        essays = [r for r in rows if r["author"] == author and not r["traditionally_disputed"]][:essays_per_author]
        for r in essays:
            title = f"Federalist No. {r['paper']}: {r['title']}"[:200]
            if title not in have:
                pg.add_sample(profile["id"], text=r["text"], title=title)
            done += 1
            if progress:
                progress(attrs["display_name"], done, total)
        profiles.append(pg.get_profile(profile["id"]))
    return profiles
