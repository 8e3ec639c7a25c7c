"""Inputs people send: Chinese and Japanese writing (stored, and found by BM25), four
concurrent adds of the same file, display names made only of invisible characters, a blind study with a persona
condition, and resuming a study participant from a link on a shared machine."""

from __future__ import annotations

import json
import threading

import pytest

from playground import InvalidInput, NotFound, Playground, PlaygroundError, RetrievalOptions, Settings

CHINESE = ("我们今天在北京大学的图书馆里读了很多关于历史和文学的书，然后一起去吃了午饭。"
           "下午又回到教室继续讨论长城的建筑和明朝的政治制度。")
JAPANESE = ("吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
            "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。")
ENGLISH = "The lighthouse keeper logs the weather at dawn and dusk, and the ships reply with their lamps."


def test_chinese_and_japanese_writing_is_stored_and_bm25_finds_it(pg):
    user = pg.people.create_profile("李明")
    for title, text in (("中文", CHINESE * 40), ("日本語", JAPANESE * 40), ("english", ENGLISH)):
        pg.library.add_sample(user["id"], text=text, title=title)
    assert {s["title"] for s in pg.library.list_samples(user["id"])} == {"中文", "日本語", "english"}
    for query, title in (("长城的建筑", "中文"), ("北京大学图书馆", "中文"), ("猫の名前", "日本語"),
                         ("薄暗い所で泣いていた", "日本語"), ("lighthouse weather", "english")):
        hits = pg.conversations.retrieve(user["id"], query, "user", RetrievalOptions("bm25", k=3))
        assert hits and hits[0].sample_title == title, (query, [h.sample_title for h in hits])
    hybrid = pg.conversations.retrieve(user["id"], "长城", "user", RetrievalOptions("hybrid", k=2))
    assert hybrid[0].sample_title == "中文" and "bm25" in hybrid[0].scores


def test_four_concurrent_adds_of_the_same_file_store_one_copy(pg):
    user = pg.people.create_profile("Ada")
    data = (ENGLISH + "\n\n").encode() * 30
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def add(n: int) -> None:
        start.wait()
        try:
            pg.library.add_sample(user["id"], filename="essay.txt", data=data)
            outcomes.append("stored")
        except InvalidInput as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert outcomes.count("stored") == 1, outcomes
    assert all("essay" in o and ("already in your samples" in o or "being added" in o)
               for o in outcomes if o != "stored"), outcomes
    assert len(pg.library.list_samples(user["id"])) == 1
    assert pg.db.one("SELECT count(*) AS n FROM samples")["n"] == 1
    assert pg.library.check_consistency() == []


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d\u2060", "\ufeff\u200c", " \u200e\u200f ", "\u00ad",
                                  "\u2063\u034f"])
def test_display_names_made_only_of_invisible_characters_are_refused(pg, name):
    with pytest.raises(InvalidInput, match="visible character"):
        pg.people.create_profile(name)
    ok = pg.people.create_profile("Zoë")
    with pytest.raises(InvalidInput, match="visible character"):
        pg.people.update_profile(ok["id"], display_name=name)
    assert pg.people.get_profile(ok["id"])["display_name"] == "Zoë"
    with pytest.raises(InvalidInput, match="visible character"):
        pg.create_persona_with_examples(name, "You talk with people who like short answers.")


def test_a_persona_condition_needs_a_persona_when_the_study_is_set_up(pg):
    args = dict(name="Pilot", consent_text="I agree.", prompts=["Plan my weekend."])
    with pytest.raises(InvalidInput, match="persona mode, which needs a persona"):
        pg.studies.create_study(conditions=[{"mode": "persona"}, {"mode": "global"}], **args)
    with pytest.raises(NotFound):
        pg.studies.create_study(conditions=[{"mode": "persona"}, {"mode": "global"}], persona_id="nope", **args)
    persona = pg.people.list_personas()[0]
    s = pg.studies.create_study(conditions=[{"mode": "persona"}, {"mode": "global"}], persona_id=persona["id"], **args)
    assert s["conditions"][0]["persona_id"] == persona["id"]


def test_a_blind_study_hides_the_condition_in_a_set_up_error(pg):
    """A study made before set-up checks existed (persona condition, no persona): the participant learns nothing."""
    s = pg.studies.create_study("Old", "I agree.", [{"mode": "user"}, {"mode": "global"}], ["Plan my weekend."])
    conds = [{**s["conditions"][0], "mode": "persona", "label": "persona · dense"}, s["conditions"][1]]
    pg.db.execute("UPDATE studies SET conditions = ? WHERE id = ?", (json.dumps(conds), s["id"]))
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    with pytest.raises(PlaygroundError) as e:
        pg.studies.generate_answers(p["id"], 0)
    shown = str(e.value)
    assert "set-up" in shown and not any(w in shown.lower() for w in ("persona", "user", "global", "dense", "mode"))
    events = pg.studies.export_jsonl(s["id"], p["id"])
    assert "Persona mode needs a persona" in events, "the researcher can read the reason in the export"


@pytest.mark.engine
def test_a_blind_persona_study_runs_for_participants_with_no_persona(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    persona = next(p for p in pg.people.list_personas() if p["examples"])
    s = pg.studies.create_study("Personas", "I agree.", [{"mode": "persona"}, {"mode": "user"}],
                                ["Plan my weekend.", "Explain taxes to me."], blind=True, persona_id=persona["id"])
    p = pg.studies.join(s["code"], "P01")
    assert pg.people.get_profile(p["profile_id"])["persona_id"] is None
    pg.studies.consent(p["id"])
    view = pg.studies.generate_answers(p["id"], 0)
    assert set(view["answers"]) == {"A", "B"} and all(a["status"] == "complete" for a in view["answers"].values())
    assert not any(w in json.dumps(view) for w in ("persona", "user · dense", "c1", "c2", "labels"))
    slot = "AB"[p["pairs"][0].index("c1")]
    trace_id = next(json.loads(e["data"])["trace_id"] for e in pg.db.query(
        "SELECT data FROM study_events WHERE kind = 'answer'") if json.loads(e["data"])["slot"] == slot)
    trace = json.loads(pg.db.one("SELECT data FROM traces WHERE id = ?", (trace_id,))["data"])
    assert trace["mode"] == "persona" and trace["persona_id"] == persona["id"]


def test_a_participant_id_alone_does_not_resume_someone_elses_session(pg):
    s = pg.studies.create_study("Lab", "I agree.", [{"mode": "user"}, {"mode": "global"}], ["Plan my weekend."])
    alice = pg.studies.join(s["code"], "P01")
    token = alice["resume_token"]
    # A resume code is short enough to write down (12 characters, ~60 bits) and is none of the IDs a person sees.
    assert token and token not in (alice["id"], alice["code"], alice["profile_id"]) and len(token) >= 12
    for claim in ("P01", "p01", " P01 "):  # the ID as someone else would type it, even before consent
        with pytest.raises(InvalidInput, match="already in use"):
            pg.studies.join(s["code"], claim)
    assert pg.studies.join(s["code"], "p01", resume_token=token.lower())["id"] == alice["id"], \
        "the owner, typing their code back loosely, gets in"
    pg.studies.consent(alice["id"])
    pg.library.add_sample(alice["profile_id"], text=ENGLISH)
    with pytest.raises(InvalidInput, match="already in use"):
        pg.studies.join(s["code"], "P01")
    with pytest.raises(InvalidInput, match="already in use"):
        pg.studies.join(s["code"], "P01", resume_token=alice["id"])
    for guess in (alice["id"], alice["code"], alice["profile_id"], ""):
        with pytest.raises(NotFound):
            pg.studies.resume(guess)
    assert pg.studies.resume(token)["id"] == alice["id"]
    assert pg.studies.join(s["code"], "P01", resume_token=token)["id"] == alice["id"]
    raw = pg.settings.db_path.read_bytes() + pg.settings.db_path.with_name("playground.sqlite3-wal").read_bytes()
    assert token.encode() not in raw, "only a hash of the token is stored"
    pg.studies.end_resume(alice["id"])
    with pytest.raises(NotFound):
        pg.studies.resume(token)
