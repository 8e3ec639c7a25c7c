"""Does a personal fact reach the answer? The smallest end-to-end check that personalization changes what a model says.

Each person in ``data/fact_recall.json`` writes one sample stating an invented fact (a cat called Zorblax). All of
them join one persona and share their writing with it. Each question is asked under user, persona and global, at
temperature 0, in a throw-away data folder; an answer "uses" the fact when it contains the invented word. Under
global no answer can know it; under another person's user mode none should. Used by ``python -m playground
fact-recall`` and by the real-model tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.models.selection import ModelChoice
    from playground.people.directory import People
    from playground.pipeline.conversations import Conversations
    from playground.pipeline.trace import Trace


FACTS_FILE = Path(__file__).resolve().parent.parent / "data" / "fact_recall.json"
MODES = ("user", "persona", "global")


def load_facts(path: Path = FACTS_FILE) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["people"])


def _uses(answer: str, expect: list[str]) -> bool:
    low = answer.lower()
    return any(word.lower() in low for word in expect)


class FactRecall:
    """The fact-recall check (``pg.fact_recall``). ``scratch`` opens the check of a throw-away playground sharing this
    one's embedder and model (its keywords override settings, e.g. ``temperature=0.0``): where the facts are asked."""

    def __init__(self, people: "People", library: "WritingLibrary", conversations: "Conversations",
                 models: "ModelChoice", scratch: Callable[..., ContextManager["FactRecall"]]) -> None:
        self.people, self.library, self.conversations, self.models = people, library, conversations, models
        self.scratch = scratch

    def ask(self, profile_id: str, question: str, mode: str) -> tuple[str, Trace]:
        """One turn in a new session; the answer and its trace."""
        session = self.conversations.new_session(profile_id, title="fact recall")
        turn = self.conversations.start_turn(session["id"], question, mode)
        answer = "".join(turn.stream())
        return answer, turn.trace

    def run(self, people: list[dict[str, Any]] | None = None, *, questions_per_person: int = 0,
            max_tokens: int = 64, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Ask every question under every mode in a throw-away playground (``scratch``); count facts used.
        Answers are cut at ``max_tokens``: a fact is named early, and short answers keep the check quick."""
        people = people if people is not None else load_facts()
        with self.scratch(temperature=0.0, max_tokens=max_tokens) as temp:
            group = temp.people.create_persona("Fact recall group", "People who shared short notes about their lives.")
            ids = {}
            for person in people:
                profile = temp.people.create_profile(person["name"], persona_id=group, share_with_persona=True)
                temp.library.add_sample(profile["id"], text=person["sample"], title=f"{person['name']}'s note")
                ids[person["name"]] = profile["id"]
            rows: list[dict[str, Any]] = []
            jobs = [(p, q) for p in people for q in (p["questions"][:questions_per_person] if questions_per_person
                                                     else p["questions"])]
            total, done = len(jobs) * (len(MODES) + 1), 0
            for person, q in jobs:
                for mode in MODES:
                    answer, trace = temp.ask(ids[person["name"]], q["q"], mode)
                    rows.append({"person": person["name"], "asker": person["name"], "mode": mode, "question": q["q"],
                                 "answer": answer, "used": _uses(answer, q["expect"]), "model": trace.get("model"),
                                 "template": trace.get("template"), "prompt_tokens": trace.get("prompt_tokens")})
                    done += 1
                    if progress:
                        progress(done, total)
                # The same question asked by someone else, in their user mode: the fact must not appear.
                other = next(p for p in people if p["name"] != person["name"]) if len(people) > 1 else None
                if other:
                    answer, trace = temp.ask(ids[other["name"]], q["q"], "user")
                    rows.append({"person": person["name"], "asker": other["name"], "mode": "other person's user",
                                 "question": q["q"], "answer": answer, "used": _uses(answer, q["expect"]),
                                 "model": trace.get("model"), "prompt_tokens": trace.get("prompt_tokens")})
                done += 1
                if progress:
                    progress(done, total)
        table: dict[str, dict[str, int]] = {}
        for r in rows:
            t = table.setdefault(r["mode"], {"used": 0, "asked": 0})
            t["asked"] += 1
            t["used"] += int(r["used"])
        model = next((r["model"] for r in rows if r["model"]), "")
        templates = sorted({r["template"] for r in rows if r.get("template")})
        return {"model": model, "backend": self.models.name, "template": ", ".join(templates),
                "temperature": 0.0, "max_tokens": max_tokens,
                "people": len(people),
                "table": table, "rows": rows}
