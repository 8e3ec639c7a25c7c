"""Withdrawn writing must not survive in answers written from it: a participant deleted while another
participant's persona answer is being written; a later answer written from a carried history, and the explanation
of that later turn; and the preference export, which must not use the removal placeholder as an answer."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from playground import Playground, RetrievalOptions
from playground.research.training_export import preference_pairs
from playground.stores.personal_data import REMOVED_ANSWER
from tests.integration.test_erasure import GARDEN, grep_data_folder
from tests.support.fake_llm import MARKER, EchoBackend

# The fake embedder (tests/support/fake_embedder.py): what is asserted is where withdrawn text is kept, not how well
# it ranks.
pytestmark = pytest.mark.fake_embedder


class GatedEcho(EchoBackend):
    """Echoes the markers it was sent; the first answer whose prompt holds a marker (quoted writing) waits for
    ``release`` after setting ``writing``."""

    def __init__(self) -> None:
        super().__init__()
        self.writing, self.release = threading.Event(), threading.Event()
        self.first: list[dict] = []

    def stream(self, messages, model, **kw):
        if not self.writing.is_set() and MARKER.search(" ".join(m["content"] for m in messages)):
            self.first = [dict(m) for m in messages]
            self.writing.set()
            assert self.release.wait(120)
        yield from super().stream(messages, model, **kw)


def world(pg: Playground, marker: str) -> dict:
    persona = pg.create_persona_with_examples("Gardeners", "People who grow vegetables.",
                                              examples=["Courgettes everywhere."])["id"]
    study = pg.studies.create_study("Garden study", "I agree.", [{"mode": "persona"}, {"mode": "global"}],
                                    ["How should I water my garden?"], blind=False, persona_id=persona)
    alice_p, bob_p = pg.studies.join(study["code"], "P01"), pg.studies.join(study["code"], "P02")
    for p in (alice_p, bob_p):
        pg.people.update_profile(p["profile_id"], persona_id=persona, share_with_persona=True)
        pg.studies.consent(p["id"])
    pg.library.add_sample(alice_p["profile_id"], text=f"{GARDEN} Water the garden the way {marker} taught me.")
    return {"study": study, "alice_p": alice_p, "bob_p": bob_p, "persona": persona}


def test_a_participant_deleted_while_another_persona_answer_is_written_is_not_in_it(settings, embedder):
    backend = GatedEcho()
    pg = Playground(settings, embedder=embedder, backend=backend)
    marker = "MK" + uuid.uuid4().hex[:12]
    w = world(pg, marker)
    bob = w["bob_p"]["id"]
    failed: list[BaseException] = []

    def answer() -> None:
        try:
            pg.studies.generate_answers(bob, 0)
        except BaseException as e:  # noqa: BLE001
            failed.append(e)

    t = threading.Thread(target=answer)
    t.start()
    assert backend.writing.wait(120)
    assert marker in json.dumps(backend.first), "Bob's persona prompt quotes Alice's shared writing"
    pg.studies.delete_participant(w["alice_p"]["id"])  # while Bob's answer is being written
    backend.release.set()
    t.join(300)
    assert failed == []
    ratings = {s: {"tone": 3, "relevance": 3, "accuracy": 3} for s in "AB"}
    pg.studies.judge(bob, 0, "B", ratings, "the second")
    export = pg.studies.export_jsonl(w["study"]["id"])
    assert marker not in export and REMOVED_ANSWER in export
    pairs, summary = preference_pairs(pg.db, w["study"]["id"])
    assert all(REMOVED_ANSWER not in (p["chosen"], p["rejected"]) for p in pairs)
    assert pairs == [] and summary["skipped"], summary
    assert grep_data_folder(pg.settings.data_dir, marker) == []


def later_answer_world(settings, embedder) -> tuple[Playground, str, str]:
    pg = Playground(settings, embedder=embedder, backend=EchoBackend())
    marker = "MK" + uuid.uuid4().hex[:12]
    w = world(pg, marker)
    bob = w["bob_p"]["profile_id"]
    session = pg.conversations.new_session(bob, title="watering")
    traces = []
    for text in ("How do I water tomatoes?", "And what else?"):
        turn = pg.conversations.start_turn(session["id"], text, "persona", RetrievalOptions("hybrid", k=4))
        list(turn.stream())
        traces.append(turn.trace)
    later = pg.conversations.session_messages(session["id"])[-1]["content"]
    assert marker in later, "the second answer repeats the first, which quoted Alice"
    pg.start_explanation(bob, "", "persona", trace=traces[1])  # the inspector's "explain this answer"
    assert pg.db.query("SELECT id FROM explanations")
    pg.people.delete_profile(w["alice_p"]["profile_id"])
    return pg, marker, session["id"]


def test_a_later_answer_written_from_withdrawn_history_and_its_explanation_go_too(settings, embedder):
    pg, marker, session = later_answer_world(settings, embedder)
    seen = json.dumps(pg.conversations.session_messages(session))
    assert marker not in seen and REMOVED_ANSWER in seen
    assert pg.db.query("SELECT id FROM explanations") == []
    root = pg.settings.data_dir
    assert [h for h in grep_data_folder(root, marker) if not h.startswith("chroma/")] == []


def test_after_the_later_answer_scenario_no_chroma_file_holds_the_marker(settings, embedder):
    pg, marker, _ = later_answer_world(settings, embedder)
    assert grep_data_folder(pg.settings.data_dir, marker) == []


def test_the_judges_verdicts_on_answers_quoting_a_deleted_member_go_with_them(settings, embedder):
    """Bob's persona answer quoted Alice's shared writing; the personalized judge then compared it and stored its
    prompt and reply. When Alice is deleted, no verdict that quoted her writing is left, and Bob's other data is."""
    pg = Playground(settings, embedder=embedder, backend=EchoBackend())
    marker = "MK" + uuid.uuid4().hex[:12]
    w = world(pg, marker)
    bob = w["bob_p"]["id"]
    pg.studies.generate_answers(bob, 0)
    pg.studies.judge(bob, 0, "A", {s: {"tone": 4, "relevance": 4, "accuracy": 4} for s in "AB"}, "the first")
    assert pg.judge.judge_study(w["study"]["id"]) == 1
    stored = pg.db.query("SELECT data, raw FROM judge_verdicts")
    assert len(stored) == 1 and marker in json.dumps(stored), "the judge's prompt quoted the answer with her words"
    pg.studies.delete_participant(w["alice_p"]["id"])
    assert marker not in json.dumps(pg.db.query("SELECT data, raw FROM judge_verdicts"))
    assert pg.db.query("SELECT choice FROM judgements WHERE participant_id = ?", (bob,)) == [{"choice": "A"}]
    assert grep_data_folder(pg.settings.data_dir, marker) == []
