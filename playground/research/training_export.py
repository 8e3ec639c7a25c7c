"""Data for the routes beyond prompting: a person's writing as a per-user training set, and a study's judgements as
preference pairs.

Why: the playground personalizes by prompting only, but what it collects is what the fine-tuning routes need.
OPPU (Tan et al., 2024) trains one parameter-efficient module per user on that user's own history; HYDRA, Per-Pcs
and Persona-Plug learn from the same per-user histories. LaMP (Salemi et al., 2024) and LongLaMP (Kumar et al., 2024)
turn a user's documents into instruction → output pairs; we build the same kind of pairs from writing samples.
PRISM (Kirk et al., 2024) collects individual preference judgements; DPO (Rafailov et al., 2023) trains on
(prompt, chosen, rejected) triples, which is what a study's judgements become here.

Both read only SQLite (``Database``), through the functions of each table's owner, and return plain records;
``to_jsonl`` writes them one per line. The texts are the stored ones, so a sample added with redaction on is
exported redacted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from playground.errors import InvalidInput, NotFound
from playground.library.samples import ready_samples, sample_chunks
from playground.people.directory import profile_exists
from playground.research.routes import collected
from playground.research.study import find_study, judgements_with_participants, logged_answers
from playground.stores.db import Database
from playground.stores.personal_data import REMOVED_ANSWER

TASKS: dict[str, str] = {
    "write_titled": "Write a paragraph titled “{title}”.",
    "continue": "Continue this text in the same voice: “{opening}”",
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+")


def _opening(chunk: str) -> tuple[str, str] | None:
    """The chunk's first sentence and the rest, or None if it has only one sentence."""
    parts = _SENTENCE_END.split(chunk, maxsplit=1)
    if len(parts) < 2 or len(parts[1].split()) < 5:
        return None
    first = chunk[: len(chunk) - len(parts[1])].strip()
    return first, parts[1].strip()


def user_training_set(db: Database, profile_id: str, holdout: float = 0.2) -> list[dict[str, Any]]:
    """Instruction → output pairs from one profile's writing samples, LaMP-style: per sample "Write a paragraph
    titled X" → its first chunk, and per chunk "Continue: <first sentence>" → the rest of that chunk. The last
    ``holdout`` share of samples (at least one when there are two or more) is the test split; splitting by sample,
    not by chunk, keeps a text's own continuation out of its test items."""
    if not 0 <= holdout < 1:
        raise InvalidInput("The held-out share must be at least 0 and below 1 (e.g. 0.2).")
    if not profile_exists(db, profile_id):
        raise NotFound("That profile no longer exists.", "Pick another one.")
    samples = ready_samples(db, "profile", profile_id)
    n_test = 0 if len(samples) < 2 or holdout == 0 else max(1, round(len(samples) * holdout))
    test_ids = {s["id"] for s in samples[len(samples) - n_test:]} if n_test else set()
    records: list[dict[str, Any]] = []
    for s in samples:
        chunks = sample_chunks(db, s["id"])
        base = {"user_id": profile_id, "split": "test" if s["id"] in test_ids else "train", "sample_id": s["id"],
                "sample_title": s["title"]}
        if chunks:
            records.append({"id": f"{s['id']}-write_titled", "task": "write_titled",
                            "instruction": TASKS["write_titled"].format(title=s["title"]), "input": "",
                            "output": chunks[0]["text"], "position": 0, **base})
        for c in chunks:
            split = _opening(c["text"])
            if split:
                records.append({"id": f"{s['id']}-{c['position']:04d}-continue", "task": "continue",
                                "instruction": TASKS["continue"].format(opening=split[0]), "input": "",
                                "output": split[1], "position": c["position"], **base})
    return records


def preference_pairs(db: Database, study_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One (prompt, chosen, rejected, metadata) record per judgement that preferred an answer, for DPO-style
    training, and a summary: how many judgements, how many pairs, and why the others were left out ("no
    preference", an answer that failed or is empty, or two identical answers, which teach nothing)."""
    study = find_study(db, study_id)
    if not study:
        raise NotFound("That study no longer exists.", "Check the study id (Study admin lists them).")
    conds = {c["id"]: c for c in json.loads(study["conditions"])}
    rows = judgements_with_participants(db, study_id)
    pairs: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for j in rows:
        if j["choice"] not in ("A", "B"):
            skipped["no preference"] += 1
            continue
        answers = logged_answers(db, j["participant_id"], j["task"])
        won, lost = j["choice"], "B" if j["choice"] == "A" else "A"
        chosen, rejected = answers.get(won), answers.get(lost)
        if not chosen or not rejected or not chosen["text"].strip() or not rejected["text"].strip():
            skipped["an answer is missing or empty"] += 1
            continue
        if REMOVED_ANSWER in (chosen["text"].strip(), rejected["text"].strip()):
            skipped["an answer was withdrawn (its writer deleted their shared writing)"] += 1
            continue
        if chosen["text"].strip() == rejected["text"].strip():
            skipped["identical answers"] += 1
            continue
        cond = {"A": conds[j["condition_a"]], "B": conds[j["condition_b"]]}
        pairs.append({
            "prompt": j["prompt"], "chosen": chosen["text"], "rejected": rejected["text"],
            "metadata": {"study_id": study_id, "study_name": study["name"], "participant": j["code"],
                         "task": j["task"] + 1, "chosen_slot": won,
                         "chosen_condition": cond[won]["label"], "rejected_condition": cond[lost]["label"],
                         "chosen_mode": cond[won]["mode"], "rejected_mode": cond[lost]["mode"],
                         "model_chosen": chosen.get("model"), "model_rejected": rejected.get("model"),
                         "trace_chosen": chosen.get("trace_id"), "trace_rejected": rejected.get("trace_id"),
                         "ratings": json.loads(j["ratings"]), "reason": j["reason"], "judged": j["created"]}})
    return pairs, {"study_id": study_id, "judgements": len(rows), "pairs": len(pairs), "skipped": dict(skipped)}


def to_jsonl(records: Iterable[dict[str, Any]]) -> str:
    lines = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
    return "\n".join(lines) + ("\n" if lines else "")


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    """``to_jsonl`` into the file at ``path``, or InvalidInput when it cannot be written."""
    try:
        path.write_text(to_jsonl(records), encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"{path} cannot be written: {e.strerror}.", "Choose another file.") from e


def split_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    c = Counter(r["split"] for r in records)
    return {"train": c.get("train", 0), "test": c.get("test", 0)}


class TrainingData:
    """What the routes beyond prompting could learn from, for the Beyond prompting page (``pg.training``): counts
    of what this installation holds, a person's instruction pairs, a study's preference pairs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collected(self, profile_id: str | None = None) -> dict[str, int]:
        return collected(self.db, profile_id)

    def user_training_set(self, profile_id: str, holdout: float = 0.2) -> list[dict[str, Any]]:
        return user_training_set(self.db, profile_id, holdout)

    def preference_pairs(self, study_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return preference_pairs(self.db, study_id)
