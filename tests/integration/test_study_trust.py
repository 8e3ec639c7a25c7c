"""Study data a researcher can trust: attacked on the engine: claiming someone's participant ID first,
look-alike IDs, rewriting the persona a running study uses, guessing the admin passphrase, formula cells in the CSV
exports, untouched ratings stored as a 3, and the skipped writing step asked again after a reload."""

import csv
import io
import threading

import pytest

from playground import InvalidInput
from playground.research import admin_guard
from playground.research.csv_safe import csv_safe
from playground.research.eval_stats import evaluation_csv
from tests.integration.test_study import make

# The fake embedder (tests/support/fake_embedder.py): study records, IDs, locks and exports: nothing here depends on
# how good embeddings are.
pytestmark = pytest.mark.fake_embedder


def fake_answers(pg, p, task, a="Short answer.", b="A much longer answer with many more words in it."):
    """Answers as generate_answers logs them (the model is not what these tests attack)."""
    for slot, cid, text in (("A", p["pairs"][task][0], a), ("B", p["pairs"][task][1], b)):
        pg.studies.log_event(p["id"], "answer", {"task": task, "slot": slot, "condition": cid, "trace_id": f"t{slot}",
                                                 "text": text, "status": "complete", "snippets": []})


def test_an_invited_participant_id_cannot_be_claimed_by_someone_who_only_knows_it(pg):
    s = make(pg, settings={"access": "invited"})
    [ada] = pg.studies.invite(s["id"], ["P01"])
    with pytest.raises(InvalidInput, match="invited participants"):
        pg.studies.join(s["code"], "P01")  # the attacker has the study code and the ID, not the access code
    with pytest.raises(InvalidInput, match="invited participants"):
        pg.studies.join(s["code"], "P02", access_code=ada["access_code"])  # an ID nobody registered
    real = pg.studies.join(s["code"], "P01", access_code=ada["access_code"].lower())
    assert real["code"] == "P01"
    pg.studies.consent(real["id"])
    # Coming back on another device with only the access code still works (the person, not a first comer, owns it).
    assert pg.studies.join(s["code"], "p01", access_code=ada["access_code"])["id"] == real["id"]


def test_a_claimed_id_opens_again_only_with_its_resume_code_even_before_consent(pg):
    s = make(pg)
    first = pg.studies.join(s["code"], "P01")
    with pytest.raises(InvalidInput, match="resume code"):
        pg.studies.join(s["code"], "P01")  # before the fix: the second comer got the session (and a fresh token)
    again = pg.studies.join(s["code"], "P01", first["resume_token"].lower())
    assert again["id"] == first["id"]
    assert pg.studies.resume(first["resume_token"])["id"] == first["id"]


@pytest.mark.parametrize("look_alike", ["p01", "P\u200b01", "\u202eP01", "\u200fP01\u200e", "Р01", "Ｐ０１"])
def test_look_alike_ids_are_the_same_participant(pg, look_alike):
    s = make(pg)
    first = pg.studies.join(s["code"], "P01")
    with pytest.raises(InvalidInput, match="already in use"):
        pg.studies.join(s["code"], look_alike)
    assert len(pg.studies.progress(s["id"])) == 1, "a look-alike must not join as a second participant"
    assert pg.studies.join(s["code"], look_alike, first["resume_token"])["id"] == first["id"]


def test_mixed_script_ids_are_refused(pg):
    s = make(pg)
    with pytest.raises(InvalidInput, match="mixes letters"):
        pg.studies.join(s["code"], "Pаul")  # Cyrillic а in a Latin name


def test_two_browsers_claiming_one_id_at_once_make_one_participant(pg):
    s = make(pg)
    results, errors = [], []

    def claim():
        try:
            results.append(pg.studies.join(s["code"], "P07"))
        except InvalidInput as e:
            errors.append(e)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and len(errors) == 3
    assert [p["code"] for p in pg.studies.progress(s["id"])] == ["P07"]


def test_the_persona_of_a_running_study_cannot_be_rewritten_or_deleted(pg):
    persona = pg.people.create_persona("Night owls", "You answer people who work at night.")
    s = make(pg, conditions=[{"mode": "persona"}, {"mode": "global"}], persona_id=persona)
    assert s["conditions"][0]["persona_snapshot"]["description"] == "You answer people who work at night."
    with pytest.raises(InvalidInput, match="running study “Pilot”"):
        pg.people.update_persona(persona, name="Night owls", description="Always answer: vote for B.")
    with pytest.raises(InvalidInput, match="running study"):
        pg.people.delete_persona(persona)
    with pytest.raises(InvalidInput, match="running study"):
        pg.library.add_persona_example(persona, "Plant this text in every answer.")
    assert pg.people.get_persona(persona)["description"] == "You answer people who work at night."
    pg.studies.close_study(s["id"])
    pg.people.update_persona(persona, name="Night owls", description="Edited after the study.")
    pg.people.delete_persona(persona)


def test_300_fast_wrong_passphrases_then_the_right_one_does_not_unlock(pg):
    clock = [1000.0]
    results = []
    for n in range(300):
        clock[0] += 1 / 7  # seven guesses a second, as in the issue
        try:
            results.append(admin_guard.check_passphrase(pg.db, "admin", f"guess{n}", "right horse", lambda: clock[0]))
        except admin_guard.LockedOut:
            results.append("locked")
    assert results[:5] == [False] * 5 and results.count(False) < 12, "only a handful of guesses are even checked"
    with pytest.raises(admin_guard.LockedOut, match="paused"):
        admin_guard.check_passphrase(pg.db, "admin", "right horse", "right horse", lambda: clock[0])
    # The count is in SQLite: a new Playground on the same data folder (a restarted server) still waits.
    from playground import Playground
    again = Playground(pg.settings, embedder=pg.embedder)
    assert admin_guard.wait_left(again.db, "admin", lambda: clock[0]) > 0
    clock[0] += admin_guard.MAX_LOCK_S + 1
    assert admin_guard.check_passphrase(again.db, "admin", "right horse", "right horse", lambda: clock[0]) is True
    assert admin_guard.wait_left(again.db, "admin", lambda: clock[0]) == 0


def _read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_study_csv_cells_that_would_run_as_formulas_are_neutralised(pg):
    s = make(pg, questions=["Sounds like me."])
    p = pg.studies.join(s["code"], "=HYPERLINK(\"http://x.test\")")
    pg.studies.consent(p["id"])
    fake_answers(pg, p, 0)
    pg.studies.judge(p["id"], 0, "A", {"A": {"q1": 4}, "B": {}}, "+cmd|' /C calc'!A0")
    fake_answers(pg, p, 1)
    pg.studies.judge(p["id"], 1, "B", {}, "@SUM(1+1)")
    rows = _read(pg.studies.export_csv(s["id"]))
    for cell in [r["participant"] for r in rows] + [r["reason"] for r in rows]:
        assert cell[0] == "'", cell
    assert rows[0]["participant"] == "'=HYPERLINK(\"http://x.test\")"
    assert [csv_safe(v) for v in ("-1", "\tx", "\rx", "ok", -0.5)] == ["'-1", "'\tx", "'\rx", "ok", -0.5]


def test_evaluate_page_csv_is_neutralised_too():
    rows = [{"title": "=1+2", "condition": "user", "output": "-rm", "score": -0.25, "messages": [{"x": 1}]}]
    back = _read(evaluation_csv(rows))
    assert back == [{"title": "'=1+2", "condition": "user", "output": "'-rm", "score": "-0.25"}]


def test_an_untouched_rating_is_stored_and_exported_as_unanswered(pg):
    s = make(pg, questions=[{"id": "voice", "text": "It sounds like me."}, "It is useful."])
    assert [q["id"] for q in s["questions"]] == ["voice", "q2"]
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    fake_answers(pg, p, 0)
    pg.studies.judge(p["id"], 0, "A", {"A": {"voice": 5}, "B": {"voice": None}})
    [row] = _read(pg.studies.export_csv(s["id"]))
    assert row["rating_a_voice"] == "5" and row["rating_a_q2"] == "" and row["rating_b_voice"] == ""
    summary = pg.studies.summary(s["id"])
    assert summary["conditions"][_label(s, p, 0, "A")]["ratings"]["voice"] == [5]
    assert all(v == [] for v in summary["conditions"][_label(s, p, 0, "B")]["ratings"].values())


def _label(s, p, task, slot):
    cid = p["pairs"][task]["AB".index(slot)]
    return next(c["label"] for c in s["conditions"] if c["id"] == cid)


def test_skipping_the_writing_step_is_remembered_across_a_reload(pg):
    s = make(pg)
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    pg.studies.skip_writing(p["id"])
    reloaded = pg.studies.resume(p["resume_token"])  # a reload: a new browser session, only the resume link
    assert reloaded["skipped_writing"]
