"""Demo data for workshops: three profiles from the Federalist Papers (Hamilton, Madison, Jay), a few essays each.

Public-domain text shipped in playground/data/federalist (its SOURCE.txt names where it came from). Only undisputed
papers are used. Loading twice adds nothing new: profiles are found by name and essays by title.

The essays are chosen so the README's walkthrough questions (``WALKTHROUGH``) retrieve snippets that visibly answer
them, under every retriever: Hamilton on the navy and commerce (No. 11), Madison on factions (No. 10), Jay on
foreign danger (No. 4). The other essays match each author's listed interests. A test asks each question.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from playground.errors import InvalidInput
from playground.people.demo_authors import AUTHORS

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.people.directory import People


DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "federalist" / "federalist.jsonl"
# Papers loaded per author, in order (``essays_per_author`` takes the first ones; more come from the rest of the corpus).
DEMO_PAPERS = {
    "HAMILTON": (11, 70, 78),  # commerce and a navy; energy in the executive; the judiciary
    "MADISON": (10, 51, 14),  # faction; checks and balances; the extent of a republic
    "JAY": (4, 2, 64),  # foreign force and war; union against foreign danger; treaties
}
# The README's walkthrough: (profile, question, the paper whose snippets answer it).
WALKTHROUGH = (
    ("Alexander Hamilton", "Why does the union need a navy?", 11),
    ("James Madison", "How can a republic control the violence of faction?", 10),
    ("John Jay", "Will a united America be safer from foreign wars?", 4),
)


def essay_body(text: str) -> str:
    """The essay without the trailing signature ("PUBLIUS") and footnotes: left in, they become short chunks of
    citations ("2. De Lolme.") that match nothing a person asks about and crowd the retrieved snippets."""
    paragraphs = text.split("\n\n")
    while len(paragraphs) > 1 and (paragraphs[-1].startswith("PUBLIUS") or re.match(r"E?\d+\.\s", paragraphs[-1])):
        paragraphs.pop()
    return "\n\n".join(paragraphs)


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class Demo:
    """The demo profiles (``pg.demo``): created in the people directory, their essays stored in the library."""

    def __init__(self, people: "People", library: "WritingLibrary") -> None:
        self.people, self.library = people, library

    def _lock_for(self) -> threading.Lock:
        """One lock per database: two browsers pressing "Load demo data" at once must not both create and embed."""
        db = getattr(self.people, "db", None)
        key = str(getattr(db, "path", "") or id(self.people))
        with _LOCKS_GUARD:
            return _LOCKS.setdefault(key, threading.Lock())

    def load(self, corpus: Path | None = None, essays_per_author: int = 3,
             progress: Callable[[str, int, int], None] | None = None,
             on_wait: Callable[[], None] | None = None, report: dict | None = None) -> list[dict]:
        """Create (or complete) the three demo profiles; return them. Safe to call from several threads at once: a
        second call waits for the first (``on_wait`` is called when it has to) and then finds everything there.
        ``report["added"]``: how many essays this call stored (0: it was already loaded)."""
        lock = self._lock_for()
        if not lock.acquire(blocking=False):
            if on_wait:
                on_wait()
            lock.acquire()
        try:
            return self._load(corpus, essays_per_author, progress, report if report is not None else {})
        finally:
            lock.release()

    def _load(self, corpus: Path | None, essays_per_author: int,
              progress: Callable[[str, int, int], None] | None, report: dict) -> list[dict]:
        path = corpus or DEFAULT_CORPUS
        if not path.exists():
            raise InvalidInput(f"The demo corpus is missing at {path}.",
                               "It ships with the playground in playground/data/federalist; restore it from the repository.")
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        profiles = []
        existing = {p["display_name"]: p for p in self.people.list_profiles()
                    if not p["owner_token"] and not p.get("creator")}
        total = essays_per_author * len(AUTHORS)
        done = 0
        report["added"] = 0
        for author, attrs in AUTHORS.items():
            profile = existing.get(attrs["display_name"]) or self.people.create_profile(**attrs)
            have = {s["title"] for s in self.library.list_samples(profile["id"])}
            own = [r for r in rows if r["author"] == author and not r["traditionally_disputed"]]
            chosen = [r for n in DEMO_PAPERS[author] for r in own if r["paper"] == n]
            essays = (chosen + [r for r in own if r not in chosen])[:essays_per_author]
            for r in essays:
                title = f"Federalist No. {r['paper']}: {r['title']}"[:200]
                if title not in have:
                    self.library.add_sample(profile["id"], text=essay_body(r["text"]), title=title)
                    report["added"] += 1
                done += 1
                if progress:
                    progress(attrs["display_name"], done, total)
            profiles.append(self.people.get_profile(profile["id"]))
        return profiles
